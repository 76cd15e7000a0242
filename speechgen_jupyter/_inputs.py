"""Normalising what users pass as audio into bytes, at the boundary.

A path, bytes, a binary file object or a `Speech` all become (filename, bytes),
read once: a retry must resend the whole body, so nothing downstream may hold a
half-read stream.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Union

from .errors import InvalidInputError
from .types import Speech

AudioInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], Speech]

_MEDIA_TYPES_IN = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
}


def upload_media_type(fmt: str | None) -> str:
    return _MEDIA_TYPES_IN.get(fmt or "", "application/octet-stream")


def read_audio_input(audio: AudioInput, filename: str | None = None) -> tuple[str, bytes]:
    """(a file name to show and send, the audio's bytes)."""
    if isinstance(audio, Speech):
        return filename or f"sample.{audio.format}", audio.data
    if isinstance(audio, (bytes, bytearray, memoryview)):
        return filename or "sample", bytes(audio)
    if isinstance(audio, (str, os.PathLike)):
        path = Path(audio).expanduser()
        if not path.exists():
            raise InvalidInputError(f"No audio file at {str(path)!r}. Check the path (it is relative to {os.getcwd()}).")
        if path.is_dir():
            raise InvalidInputError(f"{str(path)!r} is a folder; give the path of one audio file inside it.")
        try:
            return filename or path.name, path.read_bytes()
        except OSError as err:
            raise InvalidInputError(f"Could not read {str(path)!r}: {err.strerror or err}.") from err
    read = getattr(audio, "read", None)
    if callable(read):
        data = read()
        if isinstance(data, str):
            raise InvalidInputError(
                "The audio file was opened in text mode; open it with open(path, 'rb') so its bytes can be sent."
            )
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInputError(f"Reading the audio file object gave {type(data).__name__}, not bytes.")
        name = getattr(audio, "name", None)
        return filename or (Path(name).name if isinstance(name, str) else "sample"), bytes(data)
    raise InvalidInputError(
        f"audio must be a file path, bytes, or a file opened with open(path, 'rb'); got {type(audio).__name__}."
    )
