"""Text-to-speech for the API: resolve a voice id, synthesize, encode.

Runs on a worker thread (synthesis and MP3 encoding take milliseconds to
tenths of a second of CPU; on the event loop they would stall every other
request). Parsed voice profiles are cached by voice id, which is never reused,
so the cache cannot serve a stale voice; a deleted voice is caught by the
database lookup that every request makes anyway (it also counts the usage).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from .problems import ApiError
from .store import ModelRecord, Store
from .views import visible_status

_CACHE_SIZE = 128


class Speaker:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._profiles: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._builtin: dict[str, Any] | None = None

    def builtin(self) -> dict[str, Any]:
        """The engine's built-in voices by id (a fixed list, looked up once)."""
        if self._builtin is None:
            from .engine import builtin_voices

            self._builtin = {v.voice_id: v for v in builtin_voices()}
        return self._builtin

    def _profile(self, record: ModelRecord) -> Any:
        from .engine import VoiceProfile

        voice_id = record.voice_id or ""
        with self._lock:
            profile = self._profiles.get(voice_id)
            if profile is not None:
                self._profiles.move_to_end(voice_id)
                return profile
        profile = VoiceProfile.from_dict(json.loads(record.profile or "{}"))
        with self._lock:
            self._profiles[voice_id] = profile
            while len(self._profiles) > _CACHE_SIZE:
                self._profiles.popitem(last=False)
        return profile

    @staticmethod
    def language(record: ModelRecord) -> str:
        """A cloned voice speaks the language of the profile it was built on."""
        try:
            language = json.loads(record.profile or "{}").get("language")
        except (ValueError, AttributeError):
            language = None
        return language if isinstance(language, str) and language else "en"

    def forget(self, voice_id: str | None) -> None:
        with self._lock:
            self._profiles.pop(voice_id or "", None)

    def speak(self, text: str, voice_id: str, fmt: str, at: float) -> bytes:
        """Audio bytes in `fmt`; raises ApiError 404 for a voice that does not exist (or not yet)."""
        from .engine import encode, synthesize

        voice = self.builtin().get(voice_id)
        record = None
        if voice is None:
            record = self._store.model_by_voice(voice_id) if voice_id.startswith("custom-") else None
            if record is None or visible_status(record, at) != "ready":
                raise ApiError(
                    404,
                    "voice_not_found",
                    "No voice with that id: use the voice_id of a ready voice model (GET /v1/models/{model_id} "
                    "gives it once the model is ready) or of a built-in voice.",
                )
            voice = self._profile(record)
        try:
            pcm, rate = synthesize(text, voice)
        except ValueError:  # the engine found nothing it can say in the text
            raise ApiError(
                400, "nothing_to_speak", 'There is nothing the voice can say in "text"; give at least one word to speak.'
            ) from None
        data = encode(pcm, rate, fmt)
        if record is not None:
            self._store.increment_usage(record.model_id)
        return data
