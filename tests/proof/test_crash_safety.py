"""Crash safety: SIGKILL the server at random moments of a stream of uploads and clones, several times.

Each round starts the CLI server (`python -m speechgen_jupyter.local`) on the
same data directory, runs four uploaders sending real speech concurrently
(each upload with its own Idempotency-Key, as the client sends them) plus one
slow client streaming a large body, and SIGKILLs the server at a random point
chosen by a seeded generator: some rounds while the clone worker is busy (the
server's /_admin/state says so), the others while the slow upload is still
arriving (its temp file is on disk). Then the server is started again on the
same directory, and:

- every upload that was acknowledged (a 201 reached the client) is there, with
  its name, in every later round too: nothing acknowledged is lost;
- nothing stays processing: each model is ready or failed with a reason (the
  models use the "immediate" progression, so a GET waits until the restarted
  worker has settled it: the server says when, no sleeping);
- an upload whose answer was lost in the crash, sent again with the same
  Idempotency-Key, gives back the model the server had made, or makes it now,
  never a second one: every name appears once;
- the store is consistent: the listing and /_admin/state agree, every model has
  its sample file and nothing else is in uploads/, every ready model's demo
  sample is served, tmp/ is empty, and SQLite's integrity check passes.

CI runs 3 rounds; SPEECHGEN_CRASH_ROUNDS=10 (say) for a nightly-size run.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from speechgen_jupyter.local.services import DB_NAME

from .support import CliServer, data_files, sized

ROUNDS = sized("SPEECHGEN_CRASH_ROUNDS", 3)
SEED = sized("SPEECHGEN_CRASH_SEED", 7)
UPLOADERS = 4
MAX_UPLOADS_EACH = 8  # per round: a bound on the loop, never reached before the kill in practice
KEY = "sg_local_crash_" + secrets.token_hex(8)


@dataclass
class Upload:
    name: str
    key: str
    audio: bytes
    model_id: str | None = None  # set when a 201 reached the client


@dataclass
class Ledger:
    """What the clients know: uploads acknowledged, and uploads whose answer the crash swallowed."""

    acknowledged: list[Upload] = field(default_factory=list)
    unanswered: list[Upload] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="module")
def samples() -> list[bytes]:
    """Real speech of different lengths and voices, so the clone worker's jobs differ in cost."""
    from media import speech_file

    return [speech_file("mp3", 12.0, voice="en-us-male-2"), speech_file("mp3", 30.0, voice="en-us-female-1"),
            speech_file("wav", 15.0, voice="en-gb-male-1")]


@pytest.fixture
def servers() -> Iterator[list[CliServer]]:
    made: list[CliServer] = []
    yield made
    for s in made:
        s.stop()


def uploader(server: CliServer, prefix: str, samples: list[bytes], ledger: Ledger) -> None:
    with server.client(timeout=30) as api:
        for n in range(MAX_UPLOADS_EACH):
            up = Upload(f"{prefix}-{n}", f"crash-{prefix}-{n}-{secrets.token_hex(4)}", samples[n % len(samples)])
            try:
                r = api.post("/v1/voice-clone", files={"audio": ("sample.bin", up.audio)}, data={"name": up.name},
                             headers={"Idempotency-Key": up.key})
            except httpx.TransportError:
                with ledger.lock:
                    ledger.unanswered.append(up)
                return  # the server is gone
            with ledger.lock:
                if r.status_code == 201:
                    up.model_id = r.json()["model_id"]
                    ledger.acknowledged.append(up)
                else:
                    ledger.errors.append(f"{up.name}: {r.status_code} {r.text[:200]}")
                    return


def slow_upload(server: CliServer, stop: threading.Event) -> None:
    """A client streaming a 6 MB upload at ~1 MB/s: mid-body whenever the kill comes."""
    parts = urlsplit(server.base_url)
    boundary = "crashboundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nslow\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="slow.wav"\r\n\r\n').encode()
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
            sock.sendall(
                f"POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(head) + 6_000_000}\r\n\r\n".encode() + head
            )
            block = os.urandom(32 * 1024)
            for _ in range(6_000_000 // len(block)):
                if stop.wait(0.03):
                    return
                sock.sendall(block)
    except OSError:
        return  # killed under it: what this client is for


def kill_at_a_random_point(server: CliServer, ledger: Ledger, rng: random.Random, during: str) -> str:
    """Wait until the server says the moment has come, add a random delay, SIGKILL. Returns what was going on."""
    wanted = rng.randint(1, 6)  # acknowledged uploads this round before the kill may come
    before = len(ledger.acknowledged)
    deadline = time.monotonic() + 60
    with server.client(timeout=10) as admin:
        while time.monotonic() < deadline:
            worker = admin.get("/_admin/state").json()["worker"]
            in_flight = any(f.startswith("tmp/") for f in data_files(server.data_dir))
            ready = len(ledger.acknowledged) - before >= wanted
            if ready and ((during == "cloning" and worker["running"]) or (during == "uploading" and in_flight)):
                break
            time.sleep(0.01)
        else:
            pytest.fail(f"the moment to kill ({during}) never came: {worker}, {ledger.errors}")
    time.sleep(rng.uniform(0.0, 0.25))  # a random point within that moment, not a wait for anything
    worker_then = worker["running"]
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(30)
    return f"{during}: {len(ledger.acknowledged) - before} acknowledged this round, worker on {worker_then}"


def list_all(api: httpx.Client) -> list[dict]:
    models, cursor = [], None
    while True:
        page = api.get("/v1/models", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        models += page["models"]
        cursor = page["next_cursor"]
        if cursor is None:
            return models


def check_restarted(server: CliServer, ledger: Ledger) -> str:
    """Everything the module docstring promises, after a restart; returns what it found."""
    replayed = remade = 0
    with server.client() as api:
        # Lost answers: the client retries with the same key after the crash.
        for up in list(ledger.unanswered):
            r = api.post("/v1/voice-clone", files={"audio": ("sample.bin", up.audio)}, data={"name": up.name},
                         headers={"Idempotency-Key": up.key})
            assert r.status_code == 201, r.text
            if r.headers.get("idempotent-replayed") == "true":
                replayed += 1  # made before the crash, its answer lost: given back, not made again
            else:
                remade += 1  # the crash came before the model was committed: made now, once
            up.model_id = r.json()["model_id"]
            ledger.acknowledged.append(up)
        ledger.unanswered.clear()

        settled = {}
        for up in ledger.acknowledged:  # each GET waits until the worker has settled that model
            r = api.get(f"/v1/models/{up.model_id}")
            assert r.status_code == 200, f"acknowledged {up.name} ({up.model_id}) is lost: {r.text}"
            model = r.json()
            assert model["name"] == up.name
            assert model["status"] in ("ready", "failed"), f"{up.name} stuck: {model}"
            if model["status"] == "failed":
                assert model["error"]["code"] and len(model["error"]["message"]) > 20, model
            settled[up.model_id] = model

        listed = {m["model_id"]: m for m in list_all(api)}
        names = Counter(m["name"] for m in listed.values())
        assert max(names.values()) == 1, f"a model made twice: {names.most_common(3)}"
        assert set(listed) == set(settled), "every model listed is one a client asked for, and vice versa"
        counts = api.get("/_admin/state").json()["models"]
        assert counts == {
            "processing": 0,
            "ready": sum(m["status"] == "ready" for m in settled.values()),
            "failed": sum(m["status"] == "failed" for m in settled.values()),
        }

        files = data_files(server.data_dir)
        assert not [f for f in files if f.startswith("tmp/")], "no upload in flight survives a restart"
        assert {f for f in files if f.startswith("uploads/")} == {f"uploads/{m}.audio" for m in settled}
        for model in settled.values():
            if model["status"] == "ready":
                sample = httpx.get(model["samples"][0]["audio_url"], timeout=30)
                assert sample.status_code == 200 and sample.content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3"), model
    with sqlite3.connect(server.data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return f"{counts}; lost answers retried: {replayed} replayed, {remade} made anew"


def test_sigkill_at_random_points_of_concurrent_uploads_and_clones(
    tmp_path: Path, samples: list[bytes], servers: list[CliServer]
) -> None:
    data = tmp_path / "data"
    ledger = Ledger()
    rng = random.Random(SEED)
    story = []
    for round_no in range(ROUNDS):
        server = CliServer(data, KEY, "--admin", "--transition", "immediate", log_path=tmp_path / "server.log")
        servers.append(server)
        if round_no:
            story.append(f"restart {round_no}: {check_restarted(server, ledger)}")
        stop = threading.Event()
        threads = [threading.Thread(target=uploader, args=(server, f"r{round_no}u{k}", samples, ledger))
                   for k in range(UPLOADERS)]
        threads.append(threading.Thread(target=slow_upload, args=(server, stop)))
        for t in threads:
            t.start()
        during = ("cloning", "uploading")[round_no % 2]
        try:
            story.append(kill_at_a_random_point(server, ledger, rng, during))
        finally:
            stop.set()
            if server.proc.poll() is None:
                server.kill()
            for t in threads:
                t.join(60)
        assert not ledger.errors, ledger.errors
    final = CliServer(data, KEY, "--admin", "--transition", "immediate", log_path=tmp_path / "server.log")
    servers.append(final)
    story.append(f"final restart: {check_restarted(final, ledger)}")
    print("\n" + "\n".join(story))
    print(f"{ROUNDS} kills, {len(ledger.acknowledged)} acknowledged models, all present and settled")
    assert len(ledger.acknowledged) >= ROUNDS
