"""What the long-text and streaming helpers need of a client, as Protocols.

They are handed a `Client` or an `AsyncClient`, and the client hands out
streams of them: naming the client classes in their type hints would be an
import circle (client -> streaming -> client). Each helper needs only this.
"""

from __future__ import annotations

from typing import Protocol

from .types import Speech

__all__ = ["SyncSpeaker", "AsyncSpeaker"]


class SyncSpeaker(Protocol):
    def text_to_speech(self, text: str, voice: str, format: str = ..., *, cache: bool | None = None) -> Speech: ...

    def _speak(self, text: str, voice: str, fmt: str, cache: bool | None) -> tuple[Speech, bool]: ...


class AsyncSpeaker(Protocol):
    async def text_to_speech(self, text: str, voice: str, format: str = ..., *, cache: bool | None = None) -> Speech: ...

    async def _speak(self, text: str, voice: str, fmt: str, cache: bool | None) -> tuple[Speech, bool]: ...
