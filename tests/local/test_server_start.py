"""start(), the handle, the CLI, and the OpenAPI document."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from speechgen_jupyter.local import start

from .helpers import api_client


def test_start_serves_on_a_free_loopback_port_and_stop_ends_it(tmp_path: Path) -> None:
    server = start()
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.api_key.startswith("sg_local_") and len(server.api_key) > 30
        # start() returned, so it must already serve: no sleep, no retry.
        with api_client(server) as client:
            assert client.get("/v1/models").status_code == 200
        data_dir = server.data_dir
        assert data_dir.is_dir()
    finally:
        server.stop()
    server.stop()  # idempotent
    assert not data_dir.exists(), "a temporary data directory is removed on stop"
    with pytest.raises(httpx.TransportError):
        httpx.get(server.base_url + "/v1/models", timeout=2)


def test_two_servers_run_side_by_side_with_their_own_keys() -> None:
    with start() as a, start() as b:
        assert a.base_url != b.base_url and a.api_key != b.api_key
        with api_client(a) as client:
            assert client.get("/v1/models").status_code == 200
            assert client.get(b.base_url + "/v1/models").status_code == 401


def test_context_manager_given_key_and_kept_data_dir(tmp_path: Path) -> None:
    with start(api_key="my-test-key", data_dir=tmp_path / "data") as server:
        assert server.api_key == "my-test-key"
        assert server.data_dir == (tmp_path / "data").resolve()
        r = httpx.get(server.base_url + "/v1/voices", headers={"Authorization": "Bearer my-test-key"})
        assert r.status_code == 200
    assert not server.running
    assert (tmp_path / "data").is_dir(), "a given data directory is kept"


def test_small_responses_are_not_held_back_by_nagle() -> None:
    """A socket bound by hand must still get TCP_NODELAY, or every response waits ~40 ms for an ACK."""
    import statistics
    import time

    with start() as server, api_client(server) as client:
        client.get("/v1/models")
        times = []
        for _ in range(20):
            t = time.perf_counter()
            client.get("/v1/models")
            times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.025, times


def test_repr_never_shows_the_key() -> None:
    with start() as server:
        text = repr(server)
        assert server.base_url in text and "running" in text
        assert server.api_key not in text and "sg_local_" not in text
    assert "stopped" in repr(server)


def test_port_in_use_is_an_error_not_a_hang() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            start(port=port)


@pytest.mark.parametrize(
    "options",
    [
        {"transition": {"progression": "sometimes"}},
        {"transition": {"progression": "polls", "times": 0}},
        {"transition": {"progression": "time"}},
        {"faults": {"rate": 2}},
        {"faults": {"rate": 0.5, "kinds": ["418"]}},
        {"faults": {"rate": 0.5, "bogus": 1}},
    ],
)
def test_invalid_options_are_refused_before_serving(options: dict) -> None:
    with pytest.raises(ValueError):
        start(**options)


def test_cli_prints_url_and_development_key_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url_line = proc.stdout.readline()
        key_line = proc.stdout.readline()
        assert url_line.startswith("Speechgen local server at http://127.0.0.1:"), url_line
        url = url_line.split(" at ", 1)[1].strip()
        key = key_line.split(":", 1)[1].strip()
        assert key.startswith("sg_local_")
        r = httpx.get(url + "/v1/voices", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert r.status_code == 200 and r.json()["voices"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()


def test_cli_does_not_echo_a_given_key(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--api-key", "secret-given-key"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert not any("secret-given-key" in line for line in lines)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
