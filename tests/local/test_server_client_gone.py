"""A client that hangs up mid-request is not a server error.

Before, a client timing out while a slow server had not yet read its body made
uvicorn log a full ClientDisconnect traceback; run in a notebook kernel, that
traceback lands in whatever cell happens to be running.
"""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from speechgen_jupyter.local import start


@pytest.mark.parametrize("path", ["/v1/text-to-speech", "/v1/voice-clone"])
def test_a_client_hanging_up_leaves_no_error_in_the_log(path: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with start(faults={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.6}) as server:
        request = (
            {"json": {"text": "Hello.", "voice": "en-us-male-1"}}
            if path.endswith("speech")
            else {"files": {"audio": ("a.wav", b"RIFF" + b"\0" * 4000)}, "data": {"name": "x"}}
        )
        with pytest.raises(httpx.TimeoutException):
            httpx.post(
                server.base_url.rstrip("/") + path,
                headers={"Authorization": f"Bearer {server.api_key}"},
                timeout=0.2,
                **request,
            )
        deadline = time.monotonic() + 10
        while "client disconnected" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the server's own log record, not guessing a delay
    assert "client disconnected before its request body arrived" in caplog.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
