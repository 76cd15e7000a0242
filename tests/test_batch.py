"""Speaking a DataFrame column: bounded concurrency, order kept, failures marked, faults survived,
and it works under an already running event loop (as in a notebook)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.batch import run_in_worker_loop, speak_column, speak_texts
from speechgen_jupyter.local import LocalServer, start
from speechgen_jupyter.tables import SpeechgenFrame

pytest_plugins = ["magics_env"]

FAULTS = {"rate": 0.3, "kinds": ["429", "503", "drop", "slow"], "retry_after": 0, "slow_seconds": 0.3, "seed": 42}


def sentences(n: int) -> list[str]:
    return [f"Sentence number {i}, spoken in order." for i in range(n)]


@pytest.fixture(scope="module")
def faulty() -> Iterator[LocalServer]:
    with start(transition="immediate", faults=FAULTS) as srv:
        yield srv


@pytest.fixture(scope="module")
def _counted(page_only: bool) -> Iterator[LocalServer]:
    with start(transition="immediate", admin=True, page_only=page_only) as srv:
        yield srv


@pytest.fixture
def counted(_counted: LocalServer) -> Iterator[LocalServer]:
    """A server whose request log each test starts empty (and whose faults it leaves off)."""
    admin(_counted, "POST", "/_admin/reset")
    yield _counted
    admin(_counted, "PUT", "/_admin/faults", json={})


#: A built-in voice of the `counted` server (which takes it in both modes; page-only, nothing lists it).
BUILTIN = "en-us-male-1"


def admin(server: LocalServer, method: str, path: str, **kwargs: object) -> dict:
    import httpx

    r = httpx.request(method, server.base_url + path, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30, **kwargs)
    r.raise_for_status()
    return r.json()


def requests_log(server: LocalServer) -> dict:
    return admin(server, "GET", "/_admin/requests", params={"path": "/v1/text-to-speech"})


def assert_every_row_spoken_or_marked(out: pd.DataFrame, df: pd.DataFrame, column: str = "text") -> tuple[int, int]:
    assert list(out.index) == list(df.index) and len(out) == len(df)  # none lost, order kept
    spoken = failed = 0
    for idx, speech, error in zip(out.index, out["speech"].tolist(), out["error"].tolist(), strict=True):
        assert (speech is None) != (error is None), (idx, speech, error)
        if speech is not None:
            assert isinstance(speech, sg.Speech) and speech.text == df.loc[idx, column]  # this row's own audio
            assert speech.duration and speech.duration > 0.5
            spoken += 1
        else:
            assert isinstance(error, str) and error
            failed += 1
    return spoken, failed


def test_speak_column_keeps_order_index_and_other_columns(client: sg.Client, voice_id: str) -> None:
    df = pd.DataFrame({"text": sentences(12), "n": range(12)}, index=[f"row{i}" for i in range(12)])
    out = speak_column(df, "text", voice=voice_id, client=client, concurrency=4, progress=False)
    assert type(out) is SpeechgenFrame
    assert list(out.columns) == ["text", "n", "speech", "error"]
    assert assert_every_row_spoken_or_marked(out, df) == (12, 0)
    assert list(df.columns) == ["text", "n"]  # the input is not modified
    assert out._repr_html_().count("<audio") == 12
    csv = out.to_csv()
    assert "base64" not in csv and "<Speech MP3" in csv


@pytest.mark.server_modes("full")  # retries are the same whatever the server offers; `faulty` is a full server
def test_faults_every_row_ends_spoken_or_marked(faulty: LocalServer, voice_id: str) -> None:
    """30 % of requests fail (429, 503, dropped connections, slow answers); with no retries
    many rows fail: each is marked with its error, the rest are spoken, in order."""
    df = pd.DataFrame({"text": sentences(40)})
    with sg.Client(api_key=faulty.api_key, base_url=faulty.base_url, max_retries=0) as no_retries:
        out = speak_column(df, "text", voice=voice_id, client=no_retries, concurrency=8, progress=False)
    spoken, failed = assert_every_row_spoken_or_marked(out, df)
    assert spoken > 0 and failed > 0 and spoken + failed == 40
    errors = set(out["error"].dropna().str.split(":").str[0])
    assert errors <= {"RateLimitError", "ServerError", "ConnectionError", "TimeoutError"}, errors


@pytest.mark.server_modes("full")
def test_faults_with_retries_lose_nothing(faulty: LocalServer, voice_id: str) -> None:
    df = pd.DataFrame({"text": sentences(40)})
    with sg.Client(api_key=faulty.api_key, base_url=faulty.base_url) as retrying:
        out = speak_column(df, "text", voice=voice_id, client=retrying, concurrency=8, progress=False)
    spoken, failed = assert_every_row_spoken_or_marked(out, df)
    assert spoken >= 36  # 0.3 ** 4 per row: a rare row may still fail, and is then marked


@pytest.mark.server_modes("full")  # two built-in voices, as the full server lists them
def test_empty_rows_are_marked_without_a_request_and_voices_per_row(client: sg.Client) -> None:
    voices = [v.voice_id for v in client.list_voices() if v.kind == "builtin"][:2]
    df = pd.DataFrame(
        {"text": ["Hello.", None, "  ", float("nan"), "Bye."], "voice": [voices[0], voices[1], voices[0], voices[1], voices[1]]}
    )
    out = speak_column(df, "text", voice_column="voice", client=client, progress=False)
    assert [s.voice if s is not None else None for s in out["speech"]] == [voices[0], None, None, None, voices[1]]
    assert out["error"].notna().tolist() == [False, True, True, True, False]


@pytest.mark.server_modes("full")  # splitting does not depend on the server (and ~7,000 characters in a clone's voice is slow)
def test_a_long_row_is_split_and_joined(client: sg.Client, voice_id: str) -> None:
    long = " ".join(f"This is sentence {i} of a long row." for i in range(200))  # ~7,000 characters
    (item,) = speak_texts([long], voice_id, client=client, progress=False, format="wav")
    assert item.ok and item.speech.text == long and item.speech.duration > 200


def test_works_under_a_running_event_loop(client: sg.Client, voice_id: str) -> None:
    """A notebook cell runs inside the kernel's event loop; asyncio.run would fail there."""
    df = pd.DataFrame({"text": sentences(6)})

    async def notebook_cell() -> pd.DataFrame:
        asyncio.get_running_loop()  # a loop is running, as in Jupyter
        return speak_column(df, "text", voice=voice_id, client=client, progress=False)

    out = asyncio.run(notebook_cell())
    assert assert_every_row_spoken_or_marked(out, df) == (6, 0)


def test_concurrency_is_bounded(counted: LocalServer) -> None:
    """Counted where it matters, at the server: never more than `concurrency` requests at once."""
    with sg.Client(api_key=counted.api_key, base_url=counted.base_url) as c:
        items = speak_texts(sentences(24), BUILTIN, client=c, concurrency=3, progress=False)
    assert all(i.ok for i in items)
    log = requests_log(counted)
    assert len(log["requests"]) == 24 and 1 < log["peak_in_flight"] <= 3


def test_progress_bar_counts_every_row(client: sg.Client, voice_id: str, capsys) -> None:
    speak_texts(sentences(5) + [""], voice_id, client=client, progress=True, desc="Batch")
    err = capsys.readouterr().err
    assert "Batch" in err and "6/6" in err and "1 failed" in err


def test_a_bug_stops_the_batch_and_raises(client: sg.Client, voice_id: str, monkeypatch) -> None:
    import speechgen_jupyter.batch as batch

    async def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug, not a failed request")

    monkeypatch.setattr(batch, "_speak_row", broken)
    with pytest.raises(ZeroDivisionError):
        speak_texts(sentences(3), voice_id, client=client, progress=False)


def test_interrupting_the_wait_cancels_the_work() -> None:
    cancelled = threading.Event()

    async def work(report) -> None:
        try:
            for i in range(1000):
                report(i)
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def interrupt(i: int) -> None:
        if i == 3:
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_in_worker_loop(work, on_report=interrupt)
    assert cancelled.is_set() and time.monotonic() - started < 5
    assert not any(t.name == "speechgen-batch" and t.is_alive() for t in threading.enumerate())


def test_bad_arguments_are_refused_before_any_request(client: sg.Client, voice_id: str) -> None:
    df = pd.DataFrame({"text": ["a"]})
    with pytest.raises(sg.InvalidInputError, match="No column"):
        speak_column(df, "txt", voice=voice_id, client=client)
    with pytest.raises(sg.InvalidInputError, match="either"):
        speak_column(df, "text", client=client)
    with pytest.raises(sg.InvalidInputError, match="format"):
        speak_column(df, "text", voice=voice_id, client=client, format="mp4")
    with pytest.raises(sg.InvalidInputError, match="concurrency"):
        speak_texts(["a"], voice_id, client=client, concurrency=0)


# --------------------------------------------------------------------------- resuming, adapting


def test_a_resumed_batch_requests_only_the_missing_rows(counted: LocalServer) -> None:
    """Ctrl-C ("interrupt kernel") halfway; the same batch again asks only for what was not spoken."""
    import _thread

    texts = sentences(40)
    # Slow enough that the interrupt lands mid-batch.
    admin(counted, "PUT", "/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.05})
    stop = threading.Event()

    def interrupt_after_ten() -> None:
        while not stop.wait(0.01):
            if sum(e["status"] == 200 for e in requests_log(counted)["requests"]) >= 10:
                _thread.interrupt_main()  # what "interrupt kernel" does: SIGINT to the main thread
                return

    watcher = threading.Thread(target=interrupt_after_ten)
    watcher.start()
    with sg.Client(api_key=counted.api_key, base_url=counted.base_url) as c:
        try:
            with pytest.raises(KeyboardInterrupt):
                speak_texts(texts, BUILTIN, client=c, concurrency=4, progress=False)
        finally:
            stop.set()
            watcher.join()
        kept = len(sg.cache.default_cache())
        first = len(requests_log(counted)["requests"])
        assert 10 <= kept < 40 and kept <= first
        items = speak_texts(texts, BUILTIN, client=c, concurrency=4, progress=False)
    assert all(i.ok for i in items) and [i.speech.text for i in items] == texts
    assert len(requests_log(counted)["requests"]) - first == 40 - kept  # only the missing rows


def test_a_batch_again_is_all_cache_and_the_bar_says_so(counted: LocalServer, capsys) -> None:
    with sg.Client(api_key=counted.api_key, base_url=counted.base_url) as c:
        speak_texts(sentences(6), BUILTIN, client=c, progress=True, desc="First")
        first = capsys.readouterr().err
        speak_texts(sentences(6), BUILTIN, client=c, progress=True, desc="Again")
        again = capsys.readouterr().err
    assert len(requests_log(counted)["requests"]) == 6
    chars = sum(len(t) for t in sentences(6))
    assert f"{chars:,} chars spoken" in first and "concurrency 6/8" in first or "concurrency 8/8" in first
    assert "0 chars spoken" in again and "6 from cache" in again


def test_cache_false_asks_again(counted: LocalServer) -> None:
    df = pd.DataFrame({"text": sentences(3)})
    with sg.Client(api_key=counted.api_key, base_url=counted.base_url) as c:
        speak_column(df, "text", voice=BUILTIN, client=c, progress=False)
        speak_column(df, "text", voice=BUILTIN, client=c, progress=False, cache=False)
    assert len(requests_log(counted)["requests"]) == 6


def test_the_batch_lowers_its_concurrency_under_429_and_loses_nothing(counted: LocalServer, capsys) -> None:
    """A server that takes 2 requests at once (429 beyond): the batch, allowed 8, settles near 2."""
    admin(counted, "PUT", "/_admin/faults", json={
        "max_in_flight": 2, "retry_after": 0, "rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.05, "paths": ["/v1/text-to-speech"],
    })
    with sg.Client(api_key=counted.api_key, base_url=counted.base_url) as c:
        items = speak_texts(sentences(40), BUILTIN, client=c, concurrency=8, progress=True, desc="Limited")
    assert all(i.ok for i in items)
    statuses = [e["status"] for e in requests_log(counted)["requests"]]
    refused = statuses.count(429)
    assert statuses.count(200) == 40
    assert refused < 0.3 * len(statuses), f"{refused} of {len(statuses)} answered 429"  # a fixed 8 gets ~3 in 4 refused
    final = capsys.readouterr().err.rsplit("concurrency ", 1)[1].split("/")[0]
    assert int(final) <= 3


def test_adaptive_limit_cuts_once_per_round_and_pauses_only_at_one() -> None:
    from speechgen_jupyter._aimd import DECREASE, AdaptiveLimit

    now = [100.0]
    limit = AdaptiveLimit(8, clock=lambda: now[0])
    assert limit.allowed == 8
    epoch = limit.epoch
    limit.refused(epoch, 1.0)
    assert limit.limit == pytest.approx(8 * DECREASE)
    limit.refused(epoch, 1.0)  # sent before the cut: says nothing new
    assert limit.limit == pytest.approx(8 * DECREASE) and limit.resume_at == 0
    for _ in range(50):
        limit.refused(limit.epoch, 1.0)
    assert limit.allowed == 1 and limit.resume_at == pytest.approx(101.0)  # refused at 1: a rate limit, so wait
    for _ in range(200):
        limit.succeeded()
    assert limit.allowed == 8 and limit.limit <= 8
