"""The clone worker: turns accepted uploads into voices, off the request path.

A single background thread takes models from a queue: optional enhancement,
`build_profile`, then rendering each of the model's demo samples with the new
voice, then one transaction that marks the model ready. Failures become a
`failed` model with a reason, never an exception lost in a thread.

Crash safety: the accepted upload is on disk before the model row exists, and
`recover()` at start re-queues every model still `processing` (the server was
stopped or killed mid-clone). An attempt counter, bumped in the database
before each attempt, turns a sample that keeps killing the server into a
failed model instead of a crash loop. So nothing is ever stuck in processing.

Readers that must wait for a model (the "immediate" and "polls" transitions)
block on a Condition that the worker notifies after every commit; the
predicate re-reads the database, so no wake-up can be lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .blobs import Blobs
from .costs import CostModel
from .ids import new_voice_id, now
from .storage import storage_problem
from .store import ModelRecord, Store
from .transitions import Transition

logger = logging.getLogger("speechgen_jupyter.local.worker")

MAX_ATTEMPTS = 3
#: The engine's one-time start-up cost (measured ~1.5 s on 2 cores); only the first server of a process pays it.
WARM_UP_SECONDS = 1.5


@dataclass
class _Job:
    model_id: str
    audio_seconds: float
    enhance: bool
    audio: Any = None  # DecodedAudio already decoded by the upload check, when fresh


class CloneWorker:
    def __init__(self, store: Store, blobs: Blobs, costs: CostModel, clone_seconds: float = 50.0) -> None:
        self.clone_seconds = clone_seconds
        self._store = store
        self._blobs = blobs
        self.costs = costs
        self._queue: deque[_Job] = deque()
        self._lock = threading.Condition()
        self._settled = threading.Condition()
        self._running: tuple[_Job, float] | None = None  # job and when it started
        self._stopping = False
        self._warming = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="speechgen-local-clone-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Finish the clone in progress (it cannot be interrupted), leave the rest for the next start."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        with self._settled:
            self._settled.notify_all()  # readers waiting for a model give up: the server is going away
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # pragma: no cover - a clone that hangs
                logger.warning("the clone worker did not stop within %.0f s", timeout)

    def recover(self) -> None:
        """Re-queue every model left processing by a previous run, or fail it with the reason."""
        for record in self._store.models_with_status("processing"):
            try:
                present = self._blobs.upload_path(record.sample_file).is_file()
            except ValueError:
                present = False
            if not present:
                self._store.mark_failed(
                    record.model_id,
                    "sample_lost",
                    "The server stopped before this model's sample was saved; upload the sample again.",
                    now(),
                )
                continue
            self.enqueue(record.model_id, record.sample_seconds, record.enhance)

    # -- queue -------------------------------------------------------------

    def enqueue(self, model_id: str, audio_seconds: float, enhance: bool, audio: Any = None) -> None:
        with self._lock:
            self._queue.append(_Job(model_id, audio_seconds, enhance, audio))
            self._lock.notify_all()

    def _predict(self, audio_seconds: float, enhance: bool) -> float:
        """Seconds one clone takes: its measured fixed and per-second costs plus the fitting budget."""
        return self.costs.predict(audio_seconds, enhance) + self._budget()

    def _budget(self) -> float:
        from .engine import neural_voices

        return self.clone_seconds if neural_voices() else 0.0

    def estimate_completion(self, audio_seconds: float, enhance: bool) -> float:
        """When a model queued now would be ready: the work ahead of it plus its own."""
        with self._lock:
            ahead = sum(self._predict(j.audio_seconds, j.enhance) for j in self._queue)
            if self._warming:
                ahead += WARM_UP_SECONDS
            if self._running is not None:
                job, started = self._running
                ahead += max(self._predict(job.audio_seconds, job.enhance) - (time.monotonic() - started), 0.0)
        return now() + ahead + self._predict(audio_seconds, enhance)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queued": [j.model_id for j in self._queue],
                "running": self._running[0].model_id if self._running else None,
                "cost_per_audio_second": self.costs.snapshot(),
            }

    def wait_settled(self, model_id: str, timeout: float) -> None:
        """Block until the model is no longer processing (or gone), or the timeout passes."""

        def settled() -> bool:
            if self._stopping:
                return True
            record = self._store.get_model(model_id)
            return record is None or record.status != "processing"

        with self._settled:
            self._settled.wait_for(settled, timeout)

    # -- the thread --------------------------------------------------------

    def _run(self) -> None:
        self._warm_up()
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                job = self._queue.popleft()
                self._running = (job, time.monotonic())
            try:
                self._process(job)
            except Exception:  # pragma: no cover - _process already turns failures into failed models
                logger.exception("clone worker: unexpected error on %s", job.model_id)
            finally:
                with self._lock:
                    self._running = None
                with self._settled:
                    self._settled.notify_all()

    def _warm_up(self) -> None:
        """Pay the engine's one-time costs (~1.5 s, once per process) here, not in the first clone."""
        try:
            from .engine import warm_up

            warm_up()
        except Exception:  # pragma: no cover - a clone will report the real problem
            logger.exception("engine warm-up failed")
        with self._lock:
            self._warming = False

    def _process(self, job: _Job) -> None:
        attempts = self._store.start_attempt(job.model_id)
        if attempts is None:
            return  # deleted, or settled already
        record = self._store.get_model(job.model_id)
        if record is None:
            return
        transition = Transition.from_json(record.transition)
        if transition.progression == "fail":
            self._store.mark_failed(job.model_id, transition.code, transition.reason, now())
            return
        if attempts > MAX_ATTEMPTS:
            self._store.mark_failed(
                job.model_id,
                "clone_failed",
                f"Cloning this sample was interrupted {attempts - 1} times (the server stopped or crashed "
                "while working on it); try another recording.",
                now(),
            )
            return
        started = time.monotonic()
        budget = self._budget()
        try:
            voice_id, profile_json, tokens = self._clone(record, job.audio)
        except Exception as exc:
            problem = storage_problem(exc, self._blobs.root)
            if problem is not None:  # a full or read-only disk: say so, in one line, not as a crash
                logger.warning("cloning %s stopped (%s): %s", job.model_id, problem[0], exc)
                self._store.mark_failed(job.model_id, *problem, now())
                return
            logger.exception("cloning %s failed", job.model_id)
            self._store.mark_failed(job.model_id, "clone_failed", f"Cloning failed: {exc}", now())
            return
        if self._store.mark_ready(job.model_id, voice_id, profile_json, now()):
            # What the clone cost beyond its fitting budget (the search always spends all of it).
            self.costs.observe(record.sample_seconds, record.enhance, max(time.monotonic() - started - budget, 0.0))
        else:
            # Deleted while we worked: the demo renderings we wrote belong to nobody.
            self._blobs.remove(None, tokens)

    def _clone(self, record: ModelRecord, audio: Any) -> tuple[str, str, list[str]]:
        """The engine's part: returns the new voice id, the profile as JSON and the rendered sample tokens."""
        from . import engine

        if audio is None:
            # Only what the clone analyses (its first 2 minutes, at 16 kHz), straight from the file:
            # reading the upload as bytes and decoding it whole made this step the memory peak.
            audio = engine.reference_audio(self._blobs.upload_path(record.sample_file))
        if record.enhance:
            audio = engine.enhance(audio)
        if engine.neural_voices():
            # On the nearest neural voice, searched toward the sample within the budget (about a minute).
            profile: Any = engine.fit_neural(audio, self.clone_seconds)
        else:
            profile = engine.build_profile(audio)  # espeak only: the neural packages are not installed
        samples = self._store.samples_for([record.model_id])[record.model_id]
        for sample in samples:
            pcm, rate = engine.synthesize(sample.text, profile)
            self._blobs.write_sample(sample.token, engine.encode(pcm, rate, "mp3"))
        return new_voice_id(), json.dumps(profile.to_dict()), [s.token for s in samples]
