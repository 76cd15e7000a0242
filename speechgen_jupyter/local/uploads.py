"""Streaming multipart parsing for POST /v1/voice-clone, with the 10 MB cut-off.

Why not `request.form()`: it reads the whole body before anyone can look at
its size (its `max_part_size` caps text fields only, not files), spools files
to the system's temp folder rather than the data directory, and answers its
own limits with its own wording where the API has codes of its own
(`duplicate_field`, `too_many_parts`, `field_too_long`...). Here the body is fed chunk by chunk to python-multipart's streaming
parser; the audio part goes straight to a temporary file under the data
directory (hashed on the way, for Idempotency-Key fingerprints), text fields
are capped while they stream, and the request is refused with 413 the moment
the audio passes 10 MB, or before reading anything when Content-Length already
says so. Nothing is left behind on any failure: the caller owns the temp file
only once `read_clone_form` returns.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import ntpath
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from .blobs import Blobs
from .bodystream import body_chunks
from .limits import (
    MAX_AUDIO_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_FIELD_BYTES,
    MAX_FORM_OVERHEAD,
    MAX_NAME_CHARS,
)
from .problems import ApiError

if TYPE_CHECKING:  # a typing-only name in python-multipart
    from python_multipart.multipart import MultipartCallbacks

MAX_PARTS = 16
_LET_A_LIBRARY = "let an HTTP library build the form (fields audio, name, description, enhance_quality)."
_MAX_PART_HEADER_BYTES = 8 * 1024
_MB = MAX_AUDIO_BYTES // (1024 * 1024)

def too_large() -> ApiError:
    return ApiError(
        413,
        "file_too_large",
        f"The audio file is over the {_MB} MB limit ({MAX_AUDIO_BYTES} bytes). "
        "Trim it to at most 5 minutes or compress it (MP3 is recommended) and upload again.",
    )


def _bad(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


@dataclass
class CloneForm:
    """The parsed upload; `audio_path` is a temp file the caller must adopt or discard."""

    audio_path: Path
    audio_size: int
    audio_sha256: str
    filename: str | None
    name: str
    description: str | None
    enhance: bool

    def fingerprint(self) -> str:
        """What makes two requests "the same" for an Idempotency-Key."""
        material = json.dumps([self.audio_sha256, self.name, self.description, self.enhance])
        return hashlib.sha256(material.encode()).hexdigest()

    def discard(self) -> None:
        self.audio_path.unlink(missing_ok=True)


class _Collector:
    """python-multipart callbacks: route each part to a field buffer or the audio file."""

    def __init__(self, blobs: Blobs) -> None:
        self._blobs = blobs
        self.fields: dict[str, bytes] = {}
        self.filename: str | None = None
        self.audio_path: Path | None = None
        self.audio_file: BinaryIO | None = None
        self.audio_size = 0
        self.audio_done = False
        self.hasher = hashlib.sha256()
        self.pending: list[bytes] = []  # audio bytes parsed but not yet written
        self.ended = False
        self._parts = 0
        self._header_name = b""
        self._header_value = b""
        self._header_bytes = 0
        self._disposition = b""
        self._part_name: str | None = None
        self._part_is_audio = False
        self._buffer = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise _bad("too_many_parts", f"The form has more than {MAX_PARTS} parts; send audio, name, description and enhance_quality.")
        self._disposition = b""
        self._header_bytes = 0
        self._part_name = None
        self._part_is_audio = False
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._count_header(end - start)

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._count_header(end - start)

    def _count_header(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > _MAX_PART_HEADER_BYTES:
            raise _bad("malformed_multipart", f"A form part's headers are over {_MAX_PART_HEADER_BYTES} bytes; {_LET_A_LIBRARY}")

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        kind, options = parse_options_header(self._disposition)
        if kind != b"form-data" or b"name" not in options:
            raise _bad("malformed_multipart", 'Each form part needs a Content-Disposition: form-data; name="..." header.')
        name = options[b"name"].decode("utf-8", "replace")
        if name in self.fields or (name == "audio" and self.audio_path is not None):
            raise _bad("duplicate_field", f"The form field {name!r} appears more than once; send it once.")
        self._part_name = name
        if name == "audio":
            self._part_is_audio = True
            raw_filename = options.get(b"filename")
            if raw_filename:
                # Browsers on Windows once sent full paths; keep the base name only, as a hint.
                self.filename = ntpath.basename(raw_filename.decode("utf-8", "replace"))[:255] or None
            self.audio_path, self.audio_file = self._blobs.new_temp()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._part_is_audio:
            self.audio_size += n
            if self.audio_size > MAX_AUDIO_BYTES:
                raise too_large()
            self.pending.append(data[start:end])
        else:
            if len(self._buffer) + n > MAX_FIELD_BYTES:
                raise _bad(
                    "field_too_long",
                    f"The form field {self._part_name!r} is too long (over {MAX_FIELD_BYTES} bytes); names take at most "
                    f"{MAX_NAME_CHARS} characters and descriptions {MAX_DESCRIPTION_CHARS}, so shorten it.",
                )
            self._buffer += data[start:end]

    def on_part_end(self) -> None:
        if self._part_is_audio:
            self.audio_done = True
        elif self._part_name is not None:
            self.fields[self._part_name] = bytes(self._buffer)

    def on_end(self) -> None:
        self.ended = True

    def write_pending(self) -> None:
        """Runs in a worker thread: file writes must not stall the event loop."""
        assert self.audio_file is not None
        for chunk in self.pending:
            self.hasher.update(chunk)
            self.audio_file.write(chunk)
        self.pending.clear()

    def finish_file(self) -> None:
        if self.audio_file is not None:
            self.write_pending()
            self.audio_file.flush()
            # fsync so that a model row never outlives its sample on a crash.
            os.fsync(self.audio_file.fileno())
            self.audio_file.close()
            self.audio_file = None

    def cleanup(self) -> None:
        if self.audio_file is not None:
            try:
                self.audio_file.close()
            except OSError:  # closing flushes, and a full disk refuses that too: the file goes anyway
                pass
            self.audio_file = None
        if self.audio_path is not None:
            self.audio_path.unlink(missing_ok=True)


async def read_clone_form(request: Any, blobs: Blobs) -> CloneForm:
    """Stream and validate the voice-clone form; raise ApiError (400/413) on any problem."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise _bad("expected_multipart", "Send the sample as multipart/form-data with fields audio, name, description, enhance_quality.")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise _bad("malformed_multipart", f"The multipart Content-Type has no valid boundary; {_LET_A_LIBRARY}")
    limit = MAX_AUDIO_BYTES + MAX_FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large()  # refused before reading a byte of the body

    collector = _Collector(blobs)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        received = 0
        async for chunk in body_chunks(request):
            received += len(chunk)
            if received > limit:
                raise too_large()
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise _bad("malformed_multipart", f"The multipart body is malformed ({exc}); {_LET_A_LIBRARY}") from None
            if collector.pending:
                await anyio.to_thread.run_sync(collector.write_pending)
        parser.finalize()
        if not collector.ended:
            raise _bad("malformed_multipart", "The multipart body ends before its closing boundary (a cut-off upload?); send the whole form again.")
        await anyio.to_thread.run_sync(collector.finish_file)
        form = _validate(collector)
    except BaseException:
        # Includes a client that disconnects mid-upload: no temp file may survive.
        collector.cleanup()
        raise
    return form


def _text(collector: _Collector, field: str) -> str | None:
    raw = collector.fields.get(field)
    if raw is None:
        return None
    try:
        return unicodedata.normalize("NFC", codecs.decode(raw, "utf-8"))
    except UnicodeDecodeError:
        raise _bad("invalid_encoding", f"The form field {field!r} is not valid UTF-8 text; send text fields as UTF-8.") from None


def _has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _validate(collector: _Collector) -> CloneForm:
    if collector.audio_path is None or not collector.audio_done:
        raise _bad("missing_audio", "The form has no 'audio' file: attach the voice sample as the 'audio' field.")
    name = _text(collector, "name")
    if name is None or not name.strip():
        raise _bad("missing_name", "The form needs a 'name' for the voice model (1 to 200 characters).")
    if len(name) > MAX_NAME_CHARS:
        raise _bad("name_too_long", f"The name is {len(name)} characters long; the limit is {MAX_NAME_CHARS}.")
    if _has_control(name):
        raise _bad("invalid_name", "The name contains control characters (such as newlines); use plain text.")
    description = _text(collector, "description")
    if description is not None:
        if len(description) > MAX_DESCRIPTION_CHARS:
            raise _bad(
                "description_too_long",
                f"The description is {len(description)} characters long; the limit is {MAX_DESCRIPTION_CHARS}.",
            )
        if _has_control(description, allowed="\n\r\t"):
            raise _bad("invalid_description", "The description contains control characters other than newlines and tabs; use plain text.")
    enhance_raw = _text(collector, "enhance_quality")
    if enhance_raw is None or enhance_raw.strip().lower() == "false":
        enhance = False
    elif enhance_raw.strip().lower() == "true":
        enhance = True
    else:
        shown = enhance_raw[:20]
        raise _bad("invalid_enhance_quality", f"enhance_quality must be 'true' or 'false', not {shown!r}.")
    return CloneForm(
        audio_path=collector.audio_path,
        audio_size=collector.audio_size,
        audio_sha256=collector.hasher.hexdigest(),
        filename=collector.filename,
        name=name,
        description=description,
        enhance=enhance,
    )
