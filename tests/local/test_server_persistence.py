"""Nothing is lost across a restart, and a SIGKILL never leaves a model stuck in processing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from speechgen_jupyter.local import start

from .helpers import api_client, assert_error, clone, files_under

KEY = "sg_local_persistence_test_key"


@pytest.fixture(scope="module")
def long_speech() -> bytes:
    """60 s of speech: cloning it takes over a second, long enough to kill the server mid-clone."""
    from media import speech_file

    return speech_file("mp3", 60.0, voice="en-us-female-1")


def wait_settled(api: httpx.Client, model_id: str, deadline: float = 60.0) -> dict:
    end = time.monotonic() + deadline
    while True:
        model = api.get(f"/v1/models/{model_id}").json()
        if model["status"] != "processing" or time.monotonic() > end:
            return model
        time.sleep(0.05)


class Cli:
    """The server as a separate process, exactly as `python -m speechgen_jupyter.local` runs it."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--data-dir", str(data_dir), "--api-key", KEY, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()  # printed once it serves
        assert " at http://" in line, line
        self.base_url = line.split(" at ", 1)[1].strip()
        self.client = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)

    def kill(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def cli_servers() -> Iterator[list[Cli]]:
    made: list[Cli] = []
    yield made
    for cli in made:
        cli.stop()


def test_a_restart_with_the_same_data_dir_loses_nothing(tmp_path: Path, speech_mp3: bytes) -> None:
    data = tmp_path / "data"
    with start(data_dir=data, api_key=KEY, transition="immediate") as first, api_client(first) as api:
        kept = api.get(f"/v1/models/{clone(api, speech_mp3, 'Kept', description='keep me', headers={'Idempotency-Key': 'k1'}).json()['model_id']}").json()
        for _ in range(2):
            api.post("/v1/text-to-speech", json={"text": "Count me.", "voice": kept["voice_id"]})
        gone = clone(api, speech_mp3, "Deleted").json()["model_id"]
        api.get(f"/v1/models/{gone}")
        api.delete(f"/v1/models/{gone}")
        listing = api.get("/v1/models").json()

    with start(data_dir=data, api_key=KEY) as second, api_client(second) as api:
        again = api.get(f"/v1/models/{kept['model_id']}").json()
        assert again["usage_count"] == 2
        for field in ("model_id", "name", "description", "status", "voice_id", "created_at", "estimated_completion"):
            assert again[field] == kept[field], field
        assert again["samples"][0]["audio_url"].startswith(second.base_url)
        assert httpx.get(again["samples"][0]["audio_url"]).status_code == 200
        assert api.post("/v1/text-to-speech", json={"text": "Still me.", "voice": kept["voice_id"]}).status_code == 200
        assert api.get(f"/v1/models/{kept['model_id']}").json()["usage_count"] == 3
        assert_error(api.get(f"/v1/models/{gone}"), 404, "model_not_found")
        assert [m["model_id"] for m in api.get("/v1/models").json()["models"]] == [m["model_id"] for m in listing["models"]]
        replay = clone(api, speech_mp3, "Kept", description="keep me", headers={"Idempotency-Key": "k1"})
        assert replay.status_code == 201 and replay.json()["model_id"] == kept["model_id"]


def test_sigkill_while_cloning_comes_back_and_finishes(tmp_path: Path, long_speech: bytes, cli_servers: list[Cli]) -> None:
    data = tmp_path / "data"
    server = Cli(data)
    cli_servers.append(server)
    ready_before = clone(server.client, long_speech, "Finished before").json()["model_id"]
    assert wait_settled(server.client, ready_before)["status"] == "ready"

    created = clone(server.client, long_speech, "Killed mid-clone").json()
    assert server.client.get(f"/v1/models/{created['model_id']}").json()["status"] == "processing"
    server.kill()

    restarted = Cli(data)
    cli_servers.append(restarted)
    model = wait_settled(restarted.client, created["model_id"])
    assert model["status"] in ("ready", "failed"), "never stuck in processing"
    if model["status"] == "failed":
        assert model["error"]["code"] and model["error"]["message"]
    else:
        assert model["voice_id"] and httpx.get(model["samples"][0]["audio_url"]).status_code == 200
    assert restarted.client.get(f"/v1/models/{ready_before}").json()["status"] == "ready"
    assert files_under(data, "tmp") == []


def test_sigkill_mid_fit_restarts_the_fit_and_it_ends_ready_within_the_new_budget(
    tmp_path: Path, speech_mp3: bytes, cli_servers: list[Cli]
) -> None:
    data = tmp_path / "data"
    server = Cli(data, "--admin", "--clone-seconds", "60")
    cli_servers.append(server)
    created = clone(server.client, speech_mp3, "Killed mid-fit").json()
    # The worker is fitting this model: a 60 s search that the kill interrupts.
    end = time.monotonic() + 30
    while server.client.get("/_admin/state").json()["worker"]["running"] != created["model_id"]:
        assert time.monotonic() < end, "the worker never started the fit"
        time.sleep(0.05)
    time.sleep(1.0)
    assert server.client.get(f"/v1/models/{created['model_id']}").json()["status"] == "processing"
    server.kill()

    started = time.monotonic()
    restarted = Cli(data, "--clone-seconds", "1")
    cli_servers.append(restarted)
    model = wait_settled(restarted.client, created["model_id"])
    assert model["status"] == "ready", model  # the fit ran again from the start, not stuck
    assert time.monotonic() - started < 30, "the restarted fit used the new 1 s budget, not the old minute"
    assert httpx.get(model["samples"][0]["audio_url"]).status_code == 200
    spoken = restarted.client.post("/v1/text-to-speech", json={"text": "Back after the crash.", "voice": model["voice_id"]})
    assert spoken.status_code == 200 and len(spoken.content) > 1000


def test_sigkill_with_the_sample_gone_marks_the_model_failed_with_a_reason(tmp_path: Path, long_speech: bytes, cli_servers: list[Cli]) -> None:
    data = tmp_path / "data"
    server = Cli(data)
    cli_servers.append(server)
    model_id = clone(server.client, long_speech, "Orphaned").json()["model_id"]
    server.kill()
    (data / "uploads" / f"{model_id}.audio").unlink()  # e.g. the disk was cleaned up in between

    restarted = Cli(data)
    cli_servers.append(restarted)
    model = restarted.client.get(f"/v1/models/{model_id}").json()
    assert model["status"] == "failed"
    assert model["error"]["code"] == "sample_lost" and "upload" in model["error"]["message"]


def test_sigkill_mid_upload_leaves_no_row_and_no_file(tmp_path: Path, cli_servers: list[Cli]) -> None:
    data = tmp_path / "data"
    server = Cli(data)
    cli_servers.append(server)
    parts = urlsplit(server.base_url)
    boundary = "b0undary"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nhalf\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.mp3\"\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            (
                "POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {KEY}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(head) + 5_000_000}\r\n\r\n"
            ).encode()
            + head
            + os.urandom(1_000_000)
        )
        deadline = time.monotonic() + 10
        while not files_under(data, "tmp") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert files_under(data, "tmp"), "the upload is in flight"
        server.kill()

    restarted = Cli(data)
    cli_servers.append(restarted)
    assert restarted.client.get("/v1/models").json()["models"] == []
    assert files_under(data, "tmp") == [] and files_under(data, "uploads") == []
