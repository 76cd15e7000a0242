"""The record of the models made here: what "your voice models" are on a server that cannot list them.

Real servers (full and page-only), real HTTP, the real SQLite file in the test's data folder, and,
for "two kernels at once", two real processes.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import speechgen_jupyter as sg
from media import speech_file
from speechgen_jupyter._record import RECORD_FILE
from speechgen_jupyter.local import LocalServer, start


@pytest.fixture(scope="module")
def server(page_only: bool) -> Iterator[LocalServer]:
    with start(transition="immediate", page_only=page_only) as srv:
        yield srv


@pytest.fixture(scope="module")
def sample() -> bytes:
    return speech_file("mp3", 12.0, voice="en-us-female-2")


@pytest.fixture
def client(make_client, server):
    return make_client(api_key=server.api_key, base_url=server.base_url)


def curl_clone(server: LocalServer, sample: bytes, name: str) -> str:
    """The page's curl example, as plain HTTP: a model the client never saw being made."""
    response = httpx.post(
        server.base_url + "/v1/voice-clone",
        headers={"Authorization": f"Bearer {server.api_key}"},
        files={"audio": ("voice_sample.mp3", sample, "audio/mpeg")},
        data={"name": name, "description": "Made with curl", "enhance_quality": "true"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["model_id"])


def ids(models: list[sg.VoiceModel]) -> set[str]:
    return {m.model_id for m in models}


def test_a_model_made_by_plain_http_is_tracked_then_listed_with_its_voice(client, server, sample, page_only) -> None:
    model_id = curl_clone(server, sample, "Made elsewhere")
    # Only a server that lists knows of it; page-only, nothing on this computer does yet.
    assert (model_id in ids(client.list_models())) is not page_only

    tracked = client.track_model(model_id)
    assert tracked.model_id == model_id and tracked.name == "Made elsewhere"
    assert client.record.get(model_id).voice_id == tracked.voice_id
    assert model_id in ids(client.list_models())
    assert tracked.voice_id in {v.voice_id for v in client.list_voices()}
    assert client.text_to_speech("Tracked, and speaking.", tracked.voice_id).duration > 0.5

    with pytest.raises(sg.NotFoundError):
        client.track_model("vm_0000000000")  # nothing to track: refused, and nothing remembered
    assert client.record.get("vm_0000000000") is None


def test_forget_keeps_the_model_on_the_server_and_track_brings_it_back(client, sample, page_only) -> None:
    model = client.clone_voice(sample, "Forgettable")
    assert client.forget_model(model.model_id) is True and client.forget_model(model.model_id) is False
    assert client.get_model(model.model_id).name == "Forgettable"  # still there, not re-remembered by a look
    # A listing wins where there is one; page-only, a forgotten model is no longer "yours" here.
    assert (model.model_id in ids(client.list_models())) is not page_only
    client.track_model(model.model_id)
    assert model.model_id in ids(client.list_models())


def test_a_model_deleted_elsewhere_drops_out_of_the_record(client, server, sample) -> None:
    model = client.clone_voice(sample, "Deleted with curl")
    assert client.record.get(model.model_id) is not None
    gone = httpx.delete(
        f"{server.base_url}/v1/models/{model.model_id}", headers={"Authorization": f"Bearer {server.api_key}"}
    )
    assert gone.status_code == 204
    assert model.model_id not in ids(client.list_models())
    with pytest.raises(sg.NotFoundError):
        client.get_model(model.model_id)
    assert client.record.get(model.model_id) is None


@pytest.mark.server_modes("page-only")
def test_on_page_only_the_record_is_the_listing_and_the_201_fills_the_gaps(client, sample) -> None:
    model = client.clone_voice(sample, "Remembered", "From the 201")
    listed = {m.model_id: m for m in client.list_models()}[model.model_id]
    assert listed.raw.get("description") is None and "samples" not in listed.raw  # the server did not say them...
    assert listed.description == "From the 201" and listed.samples == model.samples  # ...the record did
    assert listed.is_ready and listed.voice_id
    assert client.extras.lacking() == ("model_listing",)
    assert client.extras.note().startswith("This server has no model listing")
    client.list_voices()
    assert client.extras.lacking() == ("model_listing", "voice_listing")


@pytest.mark.server_modes("page-only")
def test_a_missing_listing_costs_one_request_per_client(server, sample) -> None:
    paths: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: paths.append(r.url.path)]})
    with sg.Client(api_key=server.api_key, base_url=server.base_url, http_client=http) as client:
        client.clone_voice(sample, "Counted")
        for _ in range(3):
            client.list_models()
            client.list_voices()
    http.close()
    assert paths.count("/v1/models") == 1 and paths.count("/v1/voices") == 1


def test_the_record_file_holds_no_key(client, server, sample, _own_user_dirs) -> None:
    model = client.clone_voice(sample, "Secretless")
    client.track_model(model.model_id)
    folder = Path(_own_user_dirs["data"])
    blobs = b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())
    assert RECORD_FILE in {p.name for p in folder.iterdir()}
    assert model.model_id.encode() in blobs and client.account.encode() in blobs  # the right file, with its rows
    assert server.api_key.encode() not in blobs
    assert server.api_key.encode().hex().encode() not in blobs


TWO_KERNELS = textwrap.dedent(
    """
    import sys, time
    import speechgen_jupyter as sg
    from media import speech_file

    base_url, key, start_at, who, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    sample = speech_file("mp3", 11.0, voice="en-us-male-2")
    with sg.Client(api_key=key, base_url=base_url) as client:
        client.account  # the fingerprint, computed before the start line
        time.sleep(max(0.0, start_at - time.time()))
        for i in range(count):
            client.clone_voice(sample, f"{who} {i}")
    """
)


@pytest.mark.server_modes("page-only")
def test_two_kernels_creating_models_at_once_lose_no_record(server, tmp_path, monkeypatch) -> None:
    count = 4
    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(tmp_path / "shared-data"))  # one record, both kernels', and only theirs
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    start_at = time.time() + 4.0  # both processes are up by then and begin together
    kernels = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_KERNELS, server.base_url, server.api_key, str(start_at), who, str(count)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for who in ("left", "right")
    ]
    for kernel in kernels:
        _out, err = kernel.communicate(timeout=240)
        assert kernel.returncode == 0, err
        assert "could not" not in err, err  # no record write was skipped
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as client:
        names = sorted(m.name for m in client.list_models())
    assert names == sorted(f"{who} {i}" for who in ("left", "right") for i in range(count))


HAMMER = textwrap.dedent(
    """
    import sys, time
    from speechgen_jupyter._record import ModelRecord
    from speechgen_jupyter.types import VoiceModel

    start_at, who = float(sys.argv[1]), sys.argv[2]
    record = ModelRecord("http://127.0.0.1:1/", "acct-test")
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(300):
        record.remember(VoiceModel.from_api({"model_id": f"vm_{who}_{i}", "name": who, "status": "processing"}))
        record.remember(VoiceModel.from_api({"model_id": "vm_shared", "name": who, "status": "ready", "voice_id": "custom-1"}))
    """
)


def test_two_processes_writing_the_record_flat_out_keep_every_row(tmp_path, monkeypatch) -> None:
    """The same, with no server to space the writes out: 1,200 transactions from two processes at once."""
    from speechgen_jupyter._record import ModelRecord

    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(tmp_path / "data"))
    start_at = time.time() + 2.0
    writers = [
        subprocess.Popen([sys.executable, "-c", HAMMER, str(start_at), who], stderr=subprocess.PIPE, text=True)
        for who in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
        assert not writer.stderr.read()  # no warning: no write was skipped
    models = ModelRecord("http://127.0.0.1:1/", "acct-test").models()
    assert len(models) == 601 and {m.model_id for m in models} >= {f"vm_{w}_{i}" for w in "ab" for i in range(300)}


def test_a_torn_record_is_a_miss_never_data_and_is_set_aside(client, sample, _own_user_dirs, caplog) -> None:
    folder = Path(_own_user_dirs["data"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_FILE).write_bytes(b"SQLite format 3\x00" + b"\x17" * 600)  # a header, then garbage
    with caplog.at_level(logging.WARNING, logger="speechgen_jupyter"):
        assert client.record.models() == []
    assert "could not be read" in caplog.text
    assert [p.name for p in folder.iterdir() if ".unreadable-" in p.name]  # kept for a person to look at
    model = client.clone_voice(sample, "After the tear")
    assert client.record.get(model.model_id) is not None


def test_a_record_that_cannot_be_written_does_not_fail_the_call(make_client, server, sample, monkeypatch, tmp_path, caplog) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(blocker / "data"))
    client = make_client(api_key=server.api_key, base_url=server.base_url)
    with caplog.at_level(logging.WARNING, logger="speechgen_jupyter"):
        model = client.clone_voice(sample, "Unrecorded")
    assert model.model_id.startswith("vm_")
    assert "could not remember a model in the record" in caplog.text and str(blocker) in caplog.text
    assert client.get_model(model.model_id).name == "Unrecorded"


def test_a_stopped_temporary_local_server_leaves_no_rows_behind(sample, monkeypatch) -> None:
    """The shared client's own local server keeps its models in a temporary folder: when it stops, so do their rows."""
    from speechgen_jupyter import _shared

    monkeypatch.setattr(_shared, "_local", None)
    previous = sg.set_client(None)
    try:
        client = sg.connect_local(page_only=True)
        model = client.clone_voice(sample, "Temporary")
        record = client.record
        assert record.get(model.model_id) is not None
        _shared.stop_local()
        assert record.get(model.model_id) is None
    finally:
        sg.set_client(previous)


def test_polling_a_settled_model_reads_the_record_but_never_rewrites_it(client, sample) -> None:
    """A GET per poll or per table row must not cost a write each time; a change is still written."""
    model = client.wait_for_model(client.clone_voice(sample, "Polled").model_id)
    path = client.record.path
    wal = Path(str(path) + "-wal")

    def written() -> tuple[int, int]:
        return (path.stat().st_mtime_ns, wal.stat().st_size if wal.exists() else 0)

    client.get_model(model.model_id)
    before = written()
    for _ in range(5):
        assert client.get_model(model.model_id).name == "Polled"
    assert written() == before

    client.forget_model(model.model_id)
    client.track_model(model.model_id)  # a real change is still written, and read back at once
    assert client.record.get(model.model_id).voice_id == model.voice_id
