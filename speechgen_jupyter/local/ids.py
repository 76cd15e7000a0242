"""Identifiers, keys and timestamps, shaped like Speechgen's.

Ids are random, not sequential, so one user's ids say nothing about
another's, and sample tokens are long enough to serve as the only access
control on the sample URLs (like a CDN's unguessable paths).
"""

from __future__ import annotations

import math

import re
import secrets
import time
from datetime import datetime, timezone

MODEL_ID_RE = re.compile(r"^vm_[a-z0-9]{1,64}$")
VOICE_ID_RE = re.compile(r"^custom-[a-z0-9]{1,64}$")
SAMPLE_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_model_id() -> str:
    return "vm_" + secrets.token_hex(10)


def new_voice_id() -> str:
    return "custom-" + secrets.token_hex(8)


def new_sample_token() -> str:
    """32 url-safe characters (192 bits): unguessable, so the URL needs no key."""
    return secrets.token_urlsafe(24)


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def new_api_key() -> str:
    """A development key, recognisable by its prefix so nobody mistakes it for a real one."""
    return "sg_local_" + secrets.token_urlsafe(24)


def now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the millisecond.

    The page's examples show whole seconds; a fraction is the same format to
    any ISO 8601 reader, and whole seconds would make a client that sleeps
    until `estimated_completion` wake up to a second late.
    """
    if ts is None:
        return None
    millis = int(ts * 1000)
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def iso_ceil(ts: float | None) -> str | None:
    """Like `iso`, rounded up to the millisecond: an estimate must not promise readiness too early."""
    if ts is None:
        return None
    return iso(math.ceil(ts * 1000) / 1000)
