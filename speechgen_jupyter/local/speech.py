"""Text-to-speech for the API: resolve a voice id, synthesize, encode.

Runs on a worker thread (synthesis and MP3 encoding take milliseconds to
tenths of a second of CPU; on the event loop they would stall every other
request). MP3 from a neural voice is streamed sentence by sentence
(`speak_stream`): the first sentence is synthesized before the response
starts, so a text with nothing to say is still a 400, and every later
sentence is encoded and sent as soon as it is made. Parsed voice profiles are cached by voice id, which is never reused,
so the cache cannot serve a stale voice; a deleted voice is caught by the
database lookup that every request makes anyway (it also counts the usage).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
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
        from .engine import profile_from_dict

        voice_id = record.voice_id or ""
        with self._lock:
            profile = self._profiles.get(voice_id)
            if profile is not None:
                self._profiles.move_to_end(voice_id)
                return profile
        profile = profile_from_dict(json.loads(record.profile or "{}"))
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

    def describe(self, record: ModelRecord) -> dict[str, Any]:
        """What GET /v1/voices says of a cloned voice: its engine, whether neural, and its base voice's sex and accent."""
        try:
            profile = json.loads(record.profile or "{}")
        except ValueError:
            profile = {}
        from .engine.voices import known_voice

        base = known_voice(str(profile.get("base_voice", "")))
        neural = profile.get("kind") == "neural"
        out: dict[str, Any] = {"engine": base.engine if base is not None else "espeak", "neural": neural}
        if base is not None:
            out["gender"], out["accent"] = base.gender, base.accent
        return out

    def forget(self, voice_id: str | None) -> None:
        with self._lock:
            self._profiles.pop(voice_id or "", None)

    def _voice(self, voice_id: str, at: float) -> tuple[Any, ModelRecord | None]:
        """The engine's voice for `voice_id` and its model record (None for a built-in voice); 404 if none."""
        voice = self.builtin().get(voice_id)
        if voice is not None:
            return voice, None
        record = self._store.model_by_voice(voice_id) if voice_id.startswith("custom-") else None
        if record is None or visible_status(record, at) != "ready":
            raise ApiError(
                404,
                "voice_not_found",
                "No voice with that id: use the voice_id of a ready voice model (GET /v1/models/{model_id} "
                "gives it once the model is ready) or of a built-in voice.",
            )
        try:
            return self._profile(record), record
        except KeyError:  # a neural clone whose engine is not installed here any more
            raise ApiError(
                404,
                "voice_not_found",
                "This cloned voice was built on a neural voice that this server cannot load (its packages are "
                "not installed); install the local server's extra, or clone the sample again.",
            ) from None

    @staticmethod
    def _nothing_to_speak() -> ApiError:
        return ApiError(
            400, "nothing_to_speak", 'There is nothing the voice can say in "text"; give at least one word to speak.'
        )

    def speak(self, text: str, voice_id: str, fmt: str, at: float) -> bytes:
        """Audio bytes in `fmt`; raises ApiError 404 for a voice that does not exist (or not yet)."""
        from .engine import encode, synthesize

        voice, record = self._voice(voice_id, at)
        try:
            pcm, rate = synthesize(text, voice)
        except ValueError:  # the engine found nothing it can say in the text
            raise self._nothing_to_speak() from None
        data = encode(pcm, rate, fmt)
        if record is not None:
            self._store.increment_usage(record.model_id)
        return data

    def speak_stream(self, text: str, voice_id: str, fmt: str, at: float) -> bytes | Iterator[bytes]:
        """Like `speak`, but MP3 of several sentences from a neural voice comes as an iterator of bytes, sentence by sentence.

        The first sentence is synthesized here (errors are still ApiErrors);
        the iterator does the rest as it is consumed (Starlette runs it on
        its thread pool).
        """
        from .engine import sample_rate, stream
        from .engine.codec import STREAMABLE_FORMATS, encode_stream

        voice, record = self._voice(voice_id, at)
        neural = getattr(voice, "neural", False) or getattr(voice, "kind", "") == "neural"
        if fmt not in STREAMABLE_FORMATS or not neural:
            return self.speak(text, voice_id, fmt, at)
        parts = stream(text, voice)
        try:
            first = next(parts)
        except (ValueError, StopIteration):
            raise self._nothing_to_speak() from None
        second = next(parts, None)
        if record is not None:
            self._store.increment_usage(record.model_id)
        if second is None:
            # One sentence: a whole file, with the MP3 Info frame (exact length, gapless joins) a stream cannot have.
            from .engine import encode

            return encode(first, sample_rate(voice), fmt)

        def sentences() -> Iterator[Any]:
            yield first
            yield second
            try:
                yield from parts
            except ValueError:
                return

        return encode_stream(sentences(), sample_rate(voice), fmt)
