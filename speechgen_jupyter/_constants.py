"""Every tunable of the client in one place, so a reader sees the policy at a glance.

Values marked (page) come from Speechgen's public page; the rest are ours.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.speechgen.com"  # (page)
API_KEY_ENV = "SPEECHGEN_API_KEY"  # (page: its examples read this variable)
BASE_URL_ENV = "SPEECHGEN_BASE_URL"  # (ours)
# Where records and caches live (ours); platformdirs' per-user folders when unset.
DATA_DIR_ENV = "SPEECHGEN_DATA_DIR"
CACHE_DIR_ENV = "SPEECHGEN_CACHE_DIR"
# "1": the bundled local server that get_client() starts serves only what the page documents (ours).
LOCAL_PAGE_ONLY_ENV = "SPEECHGEN_LOCAL_PAGE_ONLY"

# Timeouts. A single request may be slow (a 10 MB upload, a long text to
# speak), so the read timeout is generous; connecting should be quick.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_REQUEST_TIMEOUT = 60.0
# A whole call, retries included, never takes longer than this: retries must
# not multiply the wait without bound, and a server trickling its answer must
# not stretch it (every connect, write and read is clipped to what is left).
DEFAULT_DEADLINE = 180.0

# Retries: 429, 5xx, timeouts and connection failures only (spec: never other 4xx).
DEFAULT_MAX_RETRIES = 3
# ...but not the 5xx answers that say the same request will fail the same way
# again: 501 Not Implemented, 505 HTTP Version Not Supported, 506 Variant Also
# Negotiates, 507 Insufficient Storage (a full disk does not empty in a second;
# three more uploads of the same file only fill it again), 508 Loop Detected,
# 510 Not Extended and 511 Network Authentication Required (a captive portal).
NON_RETRYABLE_5XX = frozenset({501, 505, 506, 507, 508, 510, 511})
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for: the error is raised with
# its `retry_after` so the caller can decide.
MAX_RETRY_AFTER = 60.0

# wait_for_model polling: start fast, never hammer, never sleep past readiness by much.
POLL_MIN_INTERVAL = 0.25
POLL_MAX_INTERVAL = 5.0
POLL_LAND_WINDOW = 2.0  # within this many seconds of the estimate, sleep to it
POLL_LAND_MARGIN = 0.05
DEFAULT_WAIT_TIMEOUT = 600.0

# Audio requirements (page).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MIN_SAMPLE_SECONDS = 10.0
MAX_SAMPLE_SECONDS = 300.0
SUPPORTED_UPLOAD_FORMATS = ("mp3", "wav", "m4a", "flac", "ogg")

# Text to speech.
OUTPUT_FORMATS = ("mp3", "wav", "ogg", "flac")  # (ours: the page shows only mp3)
DEFAULT_OUTPUT_FORMAT = "mp3"
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac"}
# The page gives no limit; the local server takes this many characters per
# request, and the magics split longer text at sentence boundaries.
MAX_TEXT_CHARS = 5000

# How much of an answer the client holds, so a hostile or broken server (or a
# proxy) cannot fill the kernel's memory. Audio (speech and model samples) is
# capped by the longest speech one request can return: MAX_TEXT_CHARS at a slow
# 8 characters a second (about 95 words a minute; a usual pace is 12-15) is
# 625 s, and the largest format a server may send for it, uncompressed WAV at
# 48 kHz, 16 bits, stereo (192,000 bytes a second), makes that 120 MB. 128 MiB
# (134 MB) leaves 10 % above even that; Client(max_audio_bytes=...) changes it.
# A Content-Length over the cap is refused before a byte is read, and a body
# that streams past it is cut off there.
DEFAULT_MAX_AUDIO_BYTES = 128 * 1024 * 1024
# A JSON answer (a model, a page of 100 models with their samples, the voices)
# is a few kB to a few hundred kB; 16 MiB is generous and still harmless.
MAX_JSON_RESPONSE_BYTES = 16 * 1024 * 1024
# Of an error answer only its message is shown, so only this much is read.
MAX_ERROR_BODY_BYTES = 64 * 1024
# The speech cache (speechgen_jupyter.cache): a new cache folder is bounded to
# this many bytes, least recently used speech going first.
CACHE_MAX_BYTES = 2**30

USER_AGENT = "speechgen-jupyter/{version}"
