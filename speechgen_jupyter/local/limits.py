"""Every limit the local server enforces, in one place.

The page fixes the audio limits; the rest are this project's choices. They
live together so the routes, the upload parser, the OpenAPI document and the
error messages all quote the same numbers.
"""

from __future__ import annotations

#: The page: "File size: Maximum 10MB". Counted on the audio part alone.
MAX_AUDIO_BYTES = 10 * 1024 * 1024

#: What a legitimate multipart body adds around the audio: boundaries, part
#: headers and the text fields. A Content-Length above audio + this is refused
#: before a single byte of the body is read.
MAX_FORM_OVERHEAD = 64 * 1024

#: Bytes a text field may take while streaming (before decoding): a hard cap so
#: a "name" cannot be used to smuggle megabytes into memory.
MAX_FIELD_BYTES = 16 * 1024

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000

#: Text-to-speech input, in characters (one request renders at most a few minutes).
MAX_TEXT_CHARS = 5000

#: A text-to-speech JSON body larger than this cannot hold a valid request.
MAX_JSON_BYTES = 64 * 1024

#: Idempotency keys are opaque client strings; 255 printable ASCII characters.
MAX_IDEMPOTENCY_KEY_CHARS = 255

LIST_DEFAULT_LIMIT = 20
LIST_MAX_LIMIT = 100

#: How long a read of a model under the "immediate" (or "polls") progression
#: waits for the worker before answering "processing" anyway.
SETTLE_WAIT_SECONDS = 120.0

#: How long a client may take to send a request's head (request line and headers)
#: on a new or kept-alive connection before it is closed (uvicorn has no such limit).
HEADER_TIMEOUT_SECONDS = 10.0

#: How long a request body may pause between two pieces before the request is
#: refused with 408 (uvicorn has no such limit either).
BODY_IDLE_TIMEOUT_SECONDS = 30.0
