"""Plain helpers for the widgets' tests (fixtures live in widgets_env.py)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

from ipywidgets import FileUpload, Widget


def pick(picker: FileUpload, data: bytes, name: str) -> None:
    """Pick a file as the browser does: a state update carrying the file's bytes as a buffer."""
    picker.set_state(
        {"value": [{"name": name, "type": "audio/mpeg", "size": len(data), "content": memoryview(data), "last_modified": 0}]}
    )


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Wait for a condition a background thread will make true (polls; fails loudly on timeout)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def saved_widget_state() -> str:
    """All live widgets' state as a notebook would save it (binary buffers base64-encoded), as one string."""
    state = Widget.get_manager_state(drop_defaults=False)
    return json.dumps(state, default=lambda o: base64.b64encode(bytes(o)).decode() if isinstance(o, (bytes, memoryview)) else str(o))


def holds_bytes(state_json: str, data: bytes) -> bool:
    """Whether a 3 KB slice from the middle of `data` shows up in the saved state, base64 (any alignment) or hex."""
    middle = len(data) // 2
    for shift in range(3):
        probe = data[middle + shift : middle + shift + 3072]
        if base64.b64encode(probe).decode()[4:-4] in state_json or probe.hex() in state_json:
            return True
    return False
