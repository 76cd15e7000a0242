"""When the store cannot be written, or is not whole: clear failures, nothing lost, the server still serving.

All against the server as its own process (`python -m speechgen_jupyter.local`):
- a disk that fills during an upload: a real small filesystem (a tmpfs mounted
  by the test; skipped, saying why, where mounting is refused) and, everywhere,
  a file-size limit on the server process (RLIMIT_FSIZE: writes past it fail
  with EFBIG). The upload is a 507 with a clear code, no traceback is logged,
  no file is left behind, the store is unchanged, the server goes on serving,
  and the same upload succeeds once there is room. The client does not retry it.
- a database file of random bytes, or a real store with damaged pages: the
  server refuses to start, in one line that names the file and what to do,
  with exit status 2; `start()` raises a `DataDirError`.
- a read-only data directory, empty or holding a store: the same, at start
  (a read-only tmpfs: root ignores permission bits, not a read-only mount).
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.local import start
from speechgen_jupyter.local.datadir import DataDirError
from speechgen_jupyter.local.services import DB_NAME

from .corpus import speech_bytes
from .support import CliServer, assert_api_error, data_files, snapshot


# -- a small filesystem of the test's own ---------------------------------------------------


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `path` for the block; the test is skipped if this machine refuses to mount one."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command here, so no small filesystem to fill")
    mounted = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is refused here (it needs CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def read_only(path: Path) -> None:
    remounted = _mount("-o", "remount,ro", str(path))
    assert remounted.returncode == 0, remounted.stderr


def free_bytes(path: Path) -> int:
    fs = os.statvfs(path)
    return fs.f_bavail * fs.f_frsize


def fill(path: Path, leave: int) -> Path:
    """Write a file that leaves only about `leave` bytes free on the filesystem of `path`."""
    filler = path / "filler.bin"
    with open(filler, "wb") as f:
        f.write(b"\x00" * max(0, free_bytes(path) - leave))
    return filler


def seed(api: httpx.Client, sample: bytes) -> None:
    created = api.post("/v1/voice-clone", files={"audio": ("seed.mp3", sample)}, data={"name": "Already here"})
    assert created.status_code == 201, created.text
    assert api.get(f"/v1/models/{created.json()['model_id']}").json()["status"] == "ready"


def assert_refused_for_storage(server: CliServer, api: httpx.Client, upload: bytes, code: str) -> None:
    """The upload is a clear 507 and changes nothing; the server still serves."""
    before = snapshot(api, server.data_dir)
    refused = api.post("/v1/voice-clone", files={"audio": ("big.wav", upload)}, data={"name": "No room"})
    error = assert_api_error(refused, 507, code)
    assert "--data-dir" in error["message"]
    after = snapshot(api, server.data_dir)
    assert (after.counts, after.listing, after.files) == (before.counts, before.listing, before.files)
    assert not list((server.data_dir / "tmp").iterdir()), "no half-written upload is left behind"
    assert api.get("/v1/voices").status_code == 200
    spoken = api.post("/v1/text-to-speech", json={"text": "Still serving.", "voice": "en-us-male-1"})
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/mpeg"
    log = server.log()
    assert "Traceback" not in log and code in log, log[-2000:]


# -- a disk that fills up ------------------------------------------------------------------------


def test_a_disk_that_fills_during_an_upload_is_a_507_that_loses_nothing(tmp_path: Path, speech_mp3: bytes) -> None:
    with tmpfs(tmp_path / "fs", "16m") as fs:
        key = "sg_local_full_" + secrets.token_hex(8)
        with CliServer(fs / "data", key, "--admin", "--transition", "immediate",
                       log_path=tmp_path / "server.log") as server, server.client() as api:
            seed(api, speech_mp3)
            filler = fill(fs, leave=96 * 1024)  # room for the requests, not for a 384 kB upload
            upload = speech_bytes("wav", 12.0)
            assert len(upload) > 3 * 96 * 1024
            assert_refused_for_storage(server, api, upload, "insufficient_storage")

            filler.unlink()  # room again: the same upload goes through, and the seed is intact
            created = api.post("/v1/voice-clone", files={"audio": ("big.wav", upload)}, data={"name": "Room now"})
            assert created.status_code == 201, created.text
            names = sorted(m["name"] for m in api.get("/v1/models").json()["models"])
            assert names == ["Already here", "Room now"]


def _limit_file_size() -> None:
    """In the server process only: no file may grow past 200 KiB (Python ignores SIGXFSZ, so write() fails EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))


def test_a_file_size_limit_mid_upload_is_a_507_the_client_does_not_retry(
    tmp_path: Path, speech_mp3: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    key = "sg_local_fsize_" + secrets.token_hex(8)
    with CliServer(tmp_path / "data", key, "--admin", "--transition", "immediate", preexec_fn=_limit_file_size,
                   log_path=tmp_path / "server.log") as server, server.client() as api:
        seed(api, speech_mp3)
        upload = speech_bytes("wav", 12.0)
        assert_refused_for_storage(server, api, upload, "insufficient_storage")

        caplog.set_level(logging.INFO, logger="speechgen_jupyter")
        with sg.Client(api_key=key, base_url=server.base_url, max_retries=3) as client:
            with pytest.raises(sg.InsufficientStorageError) as caught:
                client.clone_voice(upload, "Through the client")
            assert not [r for r in caplog.records if r.getMessage().startswith("Retrying")], "not retried"
            assert caught.value.status == 507 and caught.value.code == "insufficient_storage"
            assert "disk is full" in str(caught.value) and "not retried" in str(caught.value)
            assert client.clone_voice(speech_mp3, "Small enough").status == "processing", "smaller files still fit"


# -- a database that is not whole -----------------------------------------------------------------


def run_cli(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120,
    )


def assert_one_clear_line(run: subprocess.CompletedProcess[str], *words: str) -> str:
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("speechgen-local: ") and "Traceback" not in run.stderr
    for word in words:
        assert word in line, line
    assert "--data-dir" in line
    assert run.stdout == "", "no banner: it never served"
    return line


def damaged_store(data_dir: Path, sample: bytes) -> bytes:
    """A real store with three models, its pages past the first then overwritten: the header still says SQLite."""
    with start(data_dir=data_dir, transition="immediate") as server, httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=120
    ) as api:
        for i in range(3):
            assert api.post("/v1/voice-clone", files={"audio": ("s.mp3", sample)}, data={"name": f"Voice {i}"}).status_code == 201
    db = data_dir / DB_NAME
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) >= 3 * page, "the store has pages to damage"
    for offset in range(page, len(data), page):
        data[offset + 8 : offset + 1000] = os.urandom(992)  # every b-tree page past the header page
    db.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("damage", ["random bytes", "damaged pages"])
def test_a_database_that_is_not_whole_is_one_clear_line_at_start(tmp_path: Path, speech_mp3: bytes, damage: str) -> None:
    data_dir = tmp_path / "data"
    db = data_dir / DB_NAME
    if damage == "random bytes":
        data_dir.mkdir()
        db.write_bytes(os.urandom(64 * 1024))
        words = ("not an SQLite database", "Move it aside")
    else:
        damaged_store(data_dir, speech_mp3)
        words = ("is damaged", "Move it aside")
    before = db.read_bytes()

    line = assert_one_clear_line(run_cli(data_dir), str(db), *words)
    assert len(line) - len(str(db)) < 400, line
    with pytest.raises(DataDirError, match="Move it aside") as caught:
        start(data_dir=data_dir)
    err = caught.value
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__), "one exception, no chain"
    assert isinstance(caught.value, sg.SpeechgenError), "shown short in a notebook, like every user error"
    assert db.read_bytes() == before, "the damaged file is left as it was, for whoever wants to rescue it"


# -- a data directory that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("holding", ["nothing", "a store"])
def test_a_read_only_data_directory_is_one_clear_line_at_start(tmp_path: Path, speech_mp3: bytes, holding: str) -> None:
    with tmpfs(tmp_path / "fs", "8m") as fs:
        data_dir = fs
        if holding == "a store":
            with start(data_dir=data_dir, transition="immediate") as server, httpx.Client(
                base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=120
            ) as api:
                assert api.post("/v1/voice-clone", files={"audio": ("s.mp3", speech_mp3)}, data={"name": "Kept"}).status_code == 201
        before = data_files(data_dir), (data_dir / DB_NAME).read_bytes() if holding == "a store" else b""
        read_only(fs)

        assert_one_clear_line(run_cli(data_dir), str(data_dir), "cannot be written", "Read-only file system")
        with pytest.raises(DataDirError, match="cannot be written"):
            start(data_dir=data_dir)
        assert (data_files(data_dir), (data_dir / DB_NAME).read_bytes() if holding == "a store" else b"") == before
