"""Security: the key stays secret, the server stays on this machine and inside its data directory.

- The key never appears in what a user can see or keep: reprs and str of the
  clients, models, speeches and errors; tracebacks even with every frame's
  local variables (IPython's verbose mode, pytest -l); every log record at
  DEBUG (client, httpx, httpcore, the in-process server); the magics' printed
  and displayed outputs; the widgets' state as a notebook saves it; and the
  server's own log output at debug and trace level.
- The local server listens on loopback by default: the listening sockets of
  the process, read from /proc, are bound to 127.0.0.1, for `start()` and the CLI.
- It refuses wrong keys, near misses included (one character changed, added
  or dropped, other case, look-alike characters, the key in the wrong place),
  and never echoes a presented key.
- It serves no file outside its data directory whatever the path: traversal in
  every path parameter (and the body and query values that name things),
  encoded every way, absolute paths, backslashes, NUL bytes; and symlinks
  planted in the data directory are never followed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import pickle
import secrets
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter._secret import Secret
from speechgen_jupyter.local import LocalServer, start

from .corpus import Target
from .support import CliServer, assert_api_error, data_files

SENTINEL = "TOP-SECRET-SENTINEL-" + secrets.token_hex(8)


def new_key() -> str:
    return "sg_local_" + secrets.token_urlsafe(24)


# -- the key stays secret ------------------------------------------------------------------


def traceback_with_locals(exc: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def failure(call: Callable[[], object]) -> BaseException:
    """The exception `call` raises (the test fails if it raises none)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - any error is what we inspect
        return exc
    raise AssertionError(f"{call} did not fail")


def scan_for(text: str, *keys: str) -> None:
    for key in keys:
        assert key not in text, f"the key leaked: ...{text[max(0, text.find(key) - 200):text.find(key) + 50]}..."
        for encoded in (base64.b64encode(key.encode()).decode()[:-4], key.encode().hex()):
            assert encoded not in text, "the key leaked, encoded"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server whose key is made here, so the test knows exactly what must never show."""
    with start(api_key=new_key(), admin=True, transition="immediate",
               data_dir=tmp_path_factory.mktemp("security") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def model(keyed: LocalServer, speech_mp3: bytes) -> sg.VoiceModel:
    with sg.Client(api_key=keyed.api_key, base_url=keyed.base_url) as client:
        created = client.clone_voice(speech_mp3, "Secret keeper", "for the security tests", filename="keeper.mp3")
        return client.wait_for_model(created.model_id, 60)


def test_the_key_never_appears_in_reprs_errors_tracebacks_or_logs(
    keyed: LocalServer, model: sg.VoiceModel, speech_mp3: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything: ours, httpx, httpcore, the server in this process
    key, wrong = Secret(keyed.api_key), Secret(keyed.api_key[:-1] + ("A" if keyed.api_key[-1] != "A" else "B"))
    seen: list[str] = []

    def keep(*things: object) -> None:
        for thing in things:
            seen.extend([repr(thing), str(thing)])
            for rich in ("_repr_html_", "_repr_markdown_", "_repr_mimebundle_"):
                method = getattr(thing, rich, None)
                if callable(method):
                    with contextlib.suppress(Exception):
                        seen.append(json.dumps(method(), default=str) if rich == "_repr_mimebundle_" else str(method()))
        with contextlib.suppress(Exception):
            seen.append(repr(pickle.dumps(things)))  # whatever pickles (a Secret refuses) must not carry the key

    with sg.Client(api_key=key, base_url=keyed.base_url, max_retries=3) as client:
        keep(client, client.api_key, client.to_async())
        voices = client.list_voices()
        models = client.list_models()
        speech = client.text_to_speech("Nothing to hide here.", model.voice_id)  # type: ignore[arg-type]
        sample = client.sample_audio(model.samples[0], model)
        keep(voices, models, model, speech, sample, sg.models_table(client), sg.voices_table(client))
        with httpx.Client(base_url=keyed.base_url, headers={"Authorization": f"Bearer {keyed.api_key}"}) as admin:
            admin.put("/_admin/faults", json={"rate": 0.5, "kinds": ["503", "drop", "429"], "retry_after": 0,
                                              "seed": 5, "paths": ["/v1/"]}).raise_for_status()
            try:
                for i in range(6):  # retries, logged at INFO by the client, at DEBUG by httpx/httpcore
                    keep(client.text_to_speech(f"Retried sentence {i}.", "en-us-male-1"))
            finally:
                admin.put("/_admin/faults", json={}).raise_for_status()
        errors = [
            failure(lambda: sg.Client(api_key=wrong, base_url=keyed.base_url).list_voices()),  # 401
            failure(lambda: client.get_model("vm_doesnotexist")),  # 404
            failure(lambda: client.clone_voice(b"not audio" * 100, "x", check=False)),  # 415
            failure(lambda: sg.Client(api_key=key, base_url="http://127.0.0.1:9", max_retries=1, deadline=2).list_voices()),
            failure(lambda: sg.Client(api_key=key, base_url=keyed.base_url, timeout=0.001, max_retries=0).text_to_speech(
                "A timeout.", "en-us-male-1")),
        ]
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError", "NotFoundError", "UnsupportedMediaTypeError", "ConnectionError", "TimeoutError"]
    for exc in errors:
        keep(exc)
        seen.append("".join(traceback.format_exception(exc)))
        seen.append(traceback_with_locals(exc))
    seen.append(caplog.text)
    seen.extend(str(record.args) for record in caplog.records)
    assert any("Retrying" in r.getMessage() for r in caplog.records), "the retries were logged"
    assert any(r.name.startswith("httpcore") for r in caplog.records), "transport debug logs were on"
    scan_for("\n".join(seen), key.reveal(), wrong.reveal())


def test_the_key_never_appears_in_magics_output(keyed: LocalServer, model: sg.VoiceModel, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "speechgen_jupyter")
    publisher, ip.display_pub = ip.display_pub, CapturingDisplayPublisher()
    client = sg.Client(api_key=keyed.api_key, base_url=keyed.base_url)
    previous = sg.set_client(client)
    results = []
    try:
        for line in ["voices", "models", f"status {model.model_id}", f"samples {model.model_id}", "status vm_nope",
                     "help connect"]:
            results.append(ip.run_cell(f"%speechgen {line}"))
        results.append(ip.run_cell("%%speechgen --voice en-us-male-1\nThe key stays out of the notebook."))
        sg.set_client(sg.Client(api_key=keyed.api_key + "x", base_url=keyed.base_url))
        results.append(ip.run_cell("%speechgen voices"))  # an authentication error, shown to the user
        outputs = json.dumps([o for o in ip.display_pub.outputs], default=str)
    finally:
        ip.display_pub = publisher
        sg.set_client(previous)
        client.close()
    printed = capsys.readouterr()
    shown = outputs + printed.out + printed.err + repr([r.result for r in results])
    assert "en-us-male-1" in shown and model.model_id in shown, "the magics really showed things"
    assert "key" in (printed.out + printed.err + outputs).lower(), "the authentication error was shown"
    scan_for(shown, keyed.api_key, keyed.api_key + "x")


def test_the_key_never_appears_in_widget_state(keyed: LocalServer, model: sg.VoiceModel, speech_mp3: bytes) -> None:
    widgets = pytest.importorskip("speechgen_jupyter.widgets")
    from ipywidgets import Widget

    def settled() -> None:  # the widgets work in threads; wait until every one of them is done
        for thread in threading.enumerate():
            if thread.name.startswith("speechgen-widget") or thread.name.startswith("speechgen-status"):
                thread.join(60)

    good = sg.Client(api_key=keyed.api_key, base_url=keyed.base_url)
    bad = sg.Client(api_key=keyed.api_key + "x", base_url=keyed.base_url)
    made: list[Any] = []
    try:
        made.append(widgets.Studio(good))
        made.append(widgets.Studio(bad))  # fails to load: the error is shown in the widget
        made.append(widgets.StatusWidget(model, good))
        made.append(widgets.StatusWidget("vm_missing", bad))
        made.append(widgets.UploadWidget(good))
        made.append(widgets.AudioPlayer(good.text_to_speech("Widget speech.", "en-us-male-1")))
        table = widgets.ModelsTable()
        table.set_models(good.list_models())
        made.append(table)
        settled()
        state = json.dumps(Widget.get_manager_state(drop_defaults=False), default=lambda o: (
            base64.b64encode(bytes(o)).decode() if isinstance(o, (bytes, memoryview)) else str(o)))
        reprs = "\n".join(repr(w) for w in made)
    finally:
        for w in made:
            w.close()
        good.close()
        bad.close()
    assert model.model_id in state, "the widgets really hold the server's data"
    scan_for(state + reprs, keyed.api_key, keyed.api_key + "x")


@pytest.mark.parametrize("level", ["debug", "trace"])
def test_the_key_never_appears_in_the_servers_own_log(tmp_path: Path, level: str, speech_mp3: bytes) -> None:
    key = new_key()
    with CliServer(tmp_path / "data", key, "--log-level", level, "--admin", "--transition", "immediate") as server:
        assert key not in "".join(server.banner), "a given key is not echoed at start"
        with server.client() as api:
            created = api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3)}, data={"name": "Logged"})
            voice = api.get(f"/v1/models/{created.json()['model_id']}").json()["voice_id"]
            assert api.post("/v1/text-to-speech", json={"text": "Logged speech.", "voice": voice}).status_code == 200
            assert api.post("/v1/voice-clone", files={"audio": ("bad.mp3", b"junk")}, data={"name": "x"}).status_code == 415
            assert api.get("/v1/models/vm_missing").status_code == 404
        for presented in (key[:-1], key + "x", key.upper()):
            assert httpx.get(server.base_url + "/v1/voices", headers={"Authorization": f"Bearer {presented}"}).status_code == 401
    log = server.log()  # all of it, shutdown included
    assert "Finished server process" in log and (level == "debug" or log.count("ASGI [") >= 20), log[-500:]
    scan_for(log, key, key[:-1], key.upper())


# -- loopback by default ----------------------------------------------------------------------


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process `pid` holds, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = fd.readlink().as_posix()
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            raw, port = fields[1].split(":")
            if width == 8:
                address = ".".join(str(b) for b in bytes.fromhex(raw)[::-1])
            else:
                address = ":".join(raw[i:i + 8] for i in range(0, 32, 8))
            found.add((address, int(port, 16)))
    return found


def test_start_listens_on_loopback_only_by_default() -> None:
    import os

    with start() as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        ours = {entry for entry in listening(os.getpid()) if entry[1] == port}
        assert ours == {("127.0.0.1", port)}, ours
        assert server.base_url == f"http://127.0.0.1:{port}"


def test_the_cli_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    with CliServer(tmp_path / "data", new_key()) as server:
        sockets = listening(server.pid)
        assert sockets and all(address == "127.0.0.1" for address, _ in sockets), sockets
        assert server.base_url.startswith("http://127.0.0.1:")


# -- wrong keys ----------------------------------------------------------------------------------


def near_misses(key: str) -> list[tuple[str, bytes]]:
    """Authorization header values that are almost right, and each must be refused."""
    middle = len(key) // 2

    def flip(c: str) -> str:
        return "B" if c != "B" else "C"

    values = {
        "last character changed": key[:-1] + flip(key[-1]),
        "first character changed": flip(key[0]) + key[1:],
        "middle character changed": key[:middle] + flip(key[middle]) + key[middle + 1:],
        "one character dropped": key[:-1],
        "one character added": key + "0",
        "upper case": key.upper(),
        "lower case": key.lower(),
        "the prefix only": "sg_local_",
        "twice": key + key,
        "with a space inside": key[:middle] + " " + key[middle:],
    }
    out = [(name, f"Bearer {v}".encode()) for name, v in values.items() if v != key]
    out += [
        ("a look-alike character (Cyrillic a)", b"Bearer " + key.replace("_", "\u2017", 1).encode()),
        ("no scheme", key.encode()),
        ("Basic scheme", b"Basic " + base64.b64encode(f"{key}:".encode())),
        ("Token scheme", b"Token " + key.encode()),
        ("empty", b""),
        ("Bearer alone", b"Bearer"),
    ]
    return out


@pytest.fixture(scope="module")
def target(keyed: LocalServer) -> Iterator[Target]:
    with httpx.Client(base_url=keyed.base_url, headers={"Authorization": f"Bearer {keyed.api_key}"}, timeout=60) as api:
        yield Target(api, keyed.base_url, keyed.api_key)


def raw_with_headers(t: Target, path: bytes, headers: list[bytes]) -> httpx.Response:
    return t.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers)
                 + b"Connection: close\r\n\r\n")


def test_wrong_keys_are_refused_near_misses_included(target: Target) -> None:
    misses = near_misses(target.api_key)
    assert len(misses) >= 15
    for name, value in misses:
        for path in (b"/v1/voices", b"/v1/models", b"/_admin/state"):
            r = raw_with_headers(target, path, [b"Authorization: " + value])
            assert r.status_code == 401, (name, path, r.status_code)
            assert_api_error(r, 401)
            presented = value.split(b" ")[-1].decode("utf-8", "replace")
            assert len(presented) < 9 or presented not in r.text, "a presented key is never echoed"
    elsewhere = [
        (b"/v1/voices?api_key=" + target.api_key.encode(), []),
        (b"/v1/voices", [b"X-API-Key: " + target.api_key.encode()]),
        (b"/v1/voices", [b"Cookie: api_key=" + target.api_key.encode()]),
        (b"/v1/voices", [b"Authorization: Bearer " + target.api_key.encode(), b"Authorization: Bearer wrong"]),
        (b"/v1/voices", [b"Authorization: Bearer wrong", b"Authorization: Bearer " + target.api_key.encode()]),
    ]
    for path, headers in elsewhere:  # the key anywhere but one Authorization header does not count
        assert raw_with_headers(target, path, headers).status_code == 401, (path, headers)
    assert raw_with_headers(target, b"/v1/voices", [b"Authorization: Bearer " + target.api_key.encode()]).status_code == 200
    assert raw_with_headers(target, b"/v1/voices", [b"authorization: bearer " + target.api_key.encode()]).status_code == 200


# -- nothing outside the data directory -------------------------------------------------------


def spellings(relative: str) -> list[bytes]:
    """One path-like value, spelled every way a server might decode into a path."""
    dots = relative.encode()
    return [
        dots,
        dots.replace(b"/", b"%2f"),
        dots.replace(b".", b"%2e").replace(b"/", b"%2f"),
        dots.replace(b"/", b"%5c"),
        dots.replace(b"/", b"\\"),
        dots.replace(b".", b"%252e").replace(b"/", b"%252f"),  # double-encoded
        dots.replace(b"../", b"%c0%ae%c0%ae/"),  # overlong UTF-8 dots
        dots.replace(b"../", b"....//"),
        dots + b"%00",
        dots + b"%00.mp3",
    ]


def forbidden_content(r: httpx.Response) -> bool:
    return SENTINEL.encode() in r.content or b"root:x:0:0" in r.content or b"SQLite format 3" in r.content or (
        r.headers.get("content-type", "").startswith("audio/"))


@pytest.fixture(scope="module")
def planted(keyed: LocalServer, model: sg.VoiceModel) -> Path:
    """A secret beside the data directory, for traversal to aim at."""
    secret = keyed.data_dir.parent / "secret.txt"
    secret.write_text(SENTINEL)
    return secret


def test_no_path_reaches_a_file_outside_the_data_dir(target: Target, keyed: LocalServer, model: sg.VoiceModel,
                                                      planted: Path) -> None:
    url = model.samples[0].audio_url
    assert url is not None and httpx.get(url).status_code == 200  # the real sample is served (control)
    token = url.rsplit("/", 1)[1].removesuffix(".mp3")
    aims = ["../../secret.txt", "../secret.txt", "../speechgen-local.sqlite3", f"../uploads/{model.model_id}.audio",
            "../../../../../../etc/passwd", f"../samples/{token}"]
    absolute = [str(planted).encode(), b"/etc/passwd", str(planted).replace("/", "%2f").encode(), b"C:\\Windows\\win.ini"]
    before = data_files(keyed.data_dir)
    tried = 0
    for value in [s for aim in aims for s in spellings(aim)] + absolute:
        for method, path in [(b"GET", b"/cdn/samples/" + value + b".mp3"), (b"GET", b"/cdn/samples/" + value),
                             (b"GET", b"/v1/models/" + value), (b"DELETE", b"/v1/models/" + value),
                             (b"GET", b"/v1/models?cursor=" + value), (b"GET", b"/v1/models?limit=" + value)]:
            r = target.get_raw(path.replace(b" ", b"%20"), method)
            tried += 1
            assert 400 <= r.status_code < 500 and not forbidden_content(r), (method, path, r.status_code, r.content[:80])
            assert r.headers["content-type"].startswith("application/json"), (path, r.headers)
        for voice in (value.decode("latin-1"), "custom-" + value.decode("latin-1")):  # values in bodies name things too
            r = target.api.post("/v1/text-to-speech", json={"text": "hello", "voice": voice})
            tried += 1
            assert r.status_code == 404 and not forbidden_content(r), (voice, r.status_code)
    print(f"\n{tried} path-like requests, none served a file")
    assert tried >= 400
    assert data_files(keyed.data_dir) == before and planted.read_text() == SENTINEL, "and none changed a file"
    assert target.api.get(f"/v1/models/{model.model_id}").status_code == 200


def test_symlinks_planted_in_the_data_dir_are_never_followed(tmp_path: Path, speech_mp3: bytes) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SENTINEL)
    outside = tmp_path / "outside-samples"
    outside.mkdir()
    data = tmp_path / "data"
    key = new_key()
    with start(data_dir=data, api_key=key, transition="immediate") as server, httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        created = api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3)}, data={"name": "Linked"}).json()
        url = api.get(f"/v1/models/{created['model_id']}").json()["samples"][0]["audio_url"]
        token = url.rsplit("/", 1)[1].removesuffix(".mp3")
        real = data / "samples" / f"{token}.mp3"
        assert httpx.get(url).status_code == 200

        # 1. The sample's own file replaced by a link to a file outside.
        kept = real.read_bytes()
        real.unlink()
        real.symlink_to(secret)
        r = httpx.get(url)
        assert r.status_code == 404 and SENTINEL not in r.text, r.text[:100]
        assert_api_error(r, 404)

        # 2. samples/ itself replaced by a link to a directory outside holding the "sample".
        (outside / f"{token}.mp3").write_bytes(kept)
        real.unlink()
        (data / "samples").rename(data / "samples-moved")
        (data / "samples").symlink_to(outside, target_is_directory=True)
        r = httpx.get(url)
        assert r.status_code == 404 and not r.headers["content-type"].startswith("audio/"), r.status_code
        (data / "samples").unlink()
        (data / "samples-moved").rename(data / "samples")

        # 3. A link under a token the store does not know.
        stray = data / "samples" / ("A" * 32 + ".mp3")
        stray.symlink_to(secret)
        r = httpx.get(server.base_url + "/cdn/samples/" + "A" * 32 + ".mp3")
        assert r.status_code == 404 and SENTINEL not in r.text
    # A restart sweeps files no row points at: the planted link goes, never what it points to.
    with start(data_dir=data, api_key=key):
        assert not stray.is_symlink() and not stray.exists()
    assert secret.read_text() == SENTINEL and (outside / f"{token}.mp3").read_bytes() == kept


def test_path_like_upload_filenames_write_nothing_outside(target: Target, keyed: LocalServer, speech_mp3: bytes,
                                                          tmp_path: Path) -> None:
    escape = tmp_path / "escaped.mp3"
    names = ["../../../../" + escape.as_posix().lstrip("/"), escape.as_posix(), "..\\..\\escaped.mp3",
             "C:\\temp\\escaped.mp3", "sub/../../escaped.mp3"]
    for filename in names:
        r = target.api.post("/v1/voice-clone", files={"audio": (filename, speech_mp3)}, data={"name": "Path-like"},
                            headers={"Idempotency-Key": secrets.token_hex(8)})
        assert r.status_code == 201, r.text
        target.api.delete(f"/v1/models/{r.json()['model_id']}")
    assert not escape.exists() and not (keyed.data_dir.parent / "escaped.mp3").exists()
    assert not any("escaped" in f for f in data_files(keyed.data_dir))
    rejected = target.api.post("/v1/voice-clone", files={"audio": (names[0], b"plain text, no audio")}, data={"name": "x"})
    message = assert_api_error(rejected, 415)["message"]
    assert "escaped.mp3" in message and "/" not in message.split("escaped.mp3")[0].split("'")[-1], message
