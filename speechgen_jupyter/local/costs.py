"""An honest `estimated_completion`: measured cost per second of sample audio.

The worker times every clone and keeps a running average of seconds of work
per second of sample (separately with and without enhancement, which costs
more), persisted in the store so a restarted server estimates as well as it
did before. The first estimate, before anything is measured, uses the figure
measured on a 2-core machine (profiling 60 s takes ~1.8 s).
"""

from __future__ import annotations

import threading

from .store import Store

FIXED_SECONDS = 0.3  # decode, sample rendering, bookkeeping: independent of length
_INITIAL_PER_SECOND = {False: 0.035, True: 0.05}
_ALPHA = 0.4  # weight of the newest measurement


class CostModel:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._per_second = dict(_INITIAL_PER_SECOND)
        for enhance in (False, True):
            saved = store.get_meta(self._key(enhance))
            if saved is not None:
                self._per_second[enhance] = float(saved)

    @staticmethod
    def _key(enhance: bool) -> str:
        return f"cost_per_audio_second.{'enhance' if enhance else 'plain'}"

    def predict(self, audio_seconds: float, enhance: bool) -> float:
        with self._lock:
            return FIXED_SECONDS + self._per_second[enhance] * max(audio_seconds, 0.0)

    def observe(self, audio_seconds: float, enhance: bool, elapsed: float) -> None:
        if audio_seconds <= 0:
            return
        measured = max(elapsed - FIXED_SECONDS, 0.0) / audio_seconds
        with self._lock:
            value = (1 - _ALPHA) * self._per_second[enhance] + _ALPHA * measured
            self._per_second[enhance] = value
        self._store.set_meta(self._key(enhance), repr(value))

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {"plain": self._per_second[False], "enhance": self._per_second[True]}
