"""Many clients at once: reads, speech and a few clones from 8 threads, with no error and no lock."""

from __future__ import annotations

import logging
import threading
from collections import Counter

import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, clone


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log() -> list[logging.LogRecord]:
    """Warnings and errors the in-process server logs (uvicorn's loggers do not reach caplog)."""
    handler = _Collect()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "speechgen_jupyter")]
    for lg in loggers:
        lg.addHandler(handler)
    yield handler.records
    for lg in loggers:
        lg.removeHandler(handler)


def test_eight_clients_mixing_reads_speech_and_clones(serve, speech_mp3: bytes, other_speech_mp3: bytes, server_log) -> None:  # type: ignore[no-untyped-def]
    server: LocalServer = serve(transition="immediate")
    with api_client(server) as setup:
        model = setup.get(f"/v1/models/{clone(setup, speech_mp3, 'Shared').json()['model_id']}").json()
    voice_id, model_id = model["voice_id"], model["model_id"]

    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    clone_tts = Counter()

    def worker(n: int) -> None:
        with api_client(server) as api:
            for i in range(30):
                op = (n + i) % 6
                try:
                    if op == 0:
                        r = api.get(f"/v1/models/{model_id}")
                    elif op == 1:
                        r = api.get("/v1/models", params={"limit": 5})
                    elif op == 2:
                        r = api.get("/v1/voices")
                    elif op == 3:
                        r = api.post("/v1/text-to-speech", json={"text": f"Request {n}-{i}.", "voice": "en-us-female-1", "format": "wav"})
                    elif op == 4:
                        r = api.post("/v1/text-to-speech", json={"text": f"Clone {n}-{i}.", "voice": voice_id})
                        if r.status_code == 200:
                            with lock:
                                clone_tts["n"] += 1
                    elif i < 6 and n < 3:  # a few clones, and a delete of each
                        r = clone(api, (speech_mp3, other_speech_mp3)[n % 2], f"Concurrent {n}")
                        if r.status_code == 201:
                            made = api.get(f"/v1/models/{r.json()['model_id']}")
                            assert made.json()["status"] == "ready", made.text
                            r = api.delete(f"/v1/models/{r.json()['model_id']}")
                    else:
                        r = api.get(f"/v1/models/{model_id}")
                except Exception as exc:  # noqa: BLE001 - collected and reported below
                    with lock:
                        failures.append(f"{n}-{i}: {exc!r}")
                    continue
                with lock:
                    statuses[(r.request.method + " " + r.request.url.path.split("/")[2], r.status_code)] += 1
                    if r.status_code >= 400:
                        failures.append(f"{n}-{i}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == [], failures[:5]
    assert sum(statuses.values()) == 8 * 30
    assert statuses[("DELETE models", 204)] >= 3
    with api_client(server) as api:
        assert api.get(f"/v1/models/{model_id}").json()["usage_count"] == clone_tts["n"]
    messages = [r.getMessage() for r in server_log]
    assert not any("locked" in m.lower() for m in messages), messages
    assert not any(r.levelno >= logging.ERROR for r in server_log), messages
