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

# Timeouts. A single request may be slow (a 10 MB upload, a long text to
# speak), so the read timeout is generous; connecting should be quick.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_REQUEST_TIMEOUT = 60.0
# A whole call, retries included, never takes longer than this: retries must
# not multiply the wait without bound.
DEFAULT_DEADLINE = 180.0

# Retries: 429, 5xx, timeouts and connection failures only (spec: never other 4xx).
DEFAULT_MAX_RETRIES = 3
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

USER_AGENT = "speechgen-jupyter/{version}"
