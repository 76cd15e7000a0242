"""Streamed speech of a long text: the plan of parts, and the sync and async streams over real HTTP.

The server's request log says what really arrived and when, so "bounded
look-ahead", "the first part before the last request" and "close sends
nothing more" are checked where the requests land.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter._streamplan import GROWTH, MIN_FIRST_CHARS, MIN_PART_CHARS, StreamPlan, plan_parts
from speechgen_jupyter.local import LocalServer, start
from speechgen_jupyter.longtext import join_speech, split_sentences
from speechgen_jupyter.streaming import StreamClosed

VOICE = "en-us-male-1"
TTS = "/v1/text-to-speech"


def chapter(sentences: int = 30) -> str:
    return " ".join(f"This is sentence number {i + 1} of a chapter that someone pasted into a cell." for i in range(sentences))


# --------------------------------------------------------------------------- the plan


def test_the_first_part_is_one_sentence_then_parts_grow_at_sentence_boundaries() -> None:
    text = chapter(40)
    parts = plan_parts(text)
    sentences = split_sentences(text)
    assert parts[0] == sentences[0]  # one sentence first (it is longer than MIN_FIRST_CHARS)
    assert " ".join(parts).split() == text.split()  # every word, in order
    assert all(p.endswith(".") for p in parts)
    for before, after in zip(parts, parts[1:-1], strict=False):  # the last one takes what is left
        assert len(after) <= max(MIN_PART_CHARS, len(before) * GROWTH)
        assert len(after) > len(before)
    assert len(parts) <= 8  # logarithmic in the length, not one request per sentence
    assert plan_parts(text) == parts  # deterministic: the same parts, so the same cache entries


def test_very_short_sentences_are_grouped_and_nothing_exceeds_max_chars() -> None:
    assert plan_parts("Hi. Yes. No. Maybe so, said the man at the door.")[0].startswith("Hi. Yes. No.")
    assert len(plan_parts("Hi. Yes. No. Maybe so, said the man at the door.")[0]) >= MIN_FIRST_CHARS
    long = "word " * 3000
    assert all(len(p) <= 500 for p in plan_parts(long, max_chars=500))
    assert plan_parts("   ") == []
    with pytest.raises(sg.InvalidInputError):
        StreamPlan("  ", VOICE, "mp3")


def test_ogg_and_flac_parts_are_asked_as_wav_unless_there_is_one() -> None:
    assert StreamPlan(chapter(), VOICE, "ogg").request_format == "wav"
    assert StreamPlan("One sentence.", VOICE, "ogg").request_format == "ogg"
    assert StreamPlan(chapter(), VOICE, "mp3").request_format == "mp3"


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def server(page_only: bool) -> Iterator[LocalServer]:
    """The local server, full and page-only (the stand-in for the real service): the cache is the client's."""
    with start(admin=True, transition="immediate", page_only=page_only) as srv:
        yield srv


@pytest.fixture
def admin(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30) as http:
        http.post("/_admin/reset").raise_for_status()
        yield http
        http.put("/_admin/faults", json={}).raise_for_status()


def log(admin: httpx.Client) -> dict:
    return admin.get("/_admin/requests", params={"path": TTS}).json()


@pytest.fixture
def client(server: LocalServer) -> Iterator[sg.Client]:
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


def test_parts_come_in_order_and_join_into_the_whole_text(client: sg.Client, admin: httpx.Client) -> None:
    text = chapter()
    with client.stream_speech(text, VOICE) as stream:
        parts = list(stream)
    plan = plan_parts(text)
    assert [p.index for p in parts] == list(range(len(plan))) and [p.text for p in parts] == plan
    assert all(p.total == len(plan) and not p.cached and p.speech.duration > 1 for p in parts)
    assert parts[-1].last and stream.complete
    speech = stream.speech
    assert speech.text == text and speech.voice == VOICE and speech.format == "mp3"
    assert speech == join_speech([p.speech for p in parts], text=text, voice=VOICE)
    assert speech.duration == pytest.approx(sum(p.speech.duration for p in parts), abs=0.1 * len(parts))
    assert [e["status"] for e in log(admin)["requests"]] == [200] * len(plan)


def test_look_ahead_is_bounded_and_the_first_part_arrives_before_the_last_is_asked(
    client: sg.Client, admin: httpx.Client
) -> None:
    # Every request held 0.3 s, so overlapping requests really overlap at the server.
    admin.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.3, "paths": [TTS]}).raise_for_status()
    with client.stream_speech(chapter(), VOICE, lookahead=2) as stream:
        first = next(stream)
        first_at = time.time()
        rest = list(stream)
    entries = log(admin)
    assert entries["peak_in_flight"] == 2  # never the whole text at once
    assert len(entries["requests"]) == 1 + len(rest) >= 5
    assert first.index == 0 and entries["requests"][-1]["at"] > first_at  # the last was asked after the first arrived


def test_closing_the_stream_sends_nothing_more(client: sg.Client, admin: httpx.Client) -> None:
    admin.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.2, "paths": [TTS]}).raise_for_status()
    stream = client.stream_speech(chapter(), VOICE, lookahead=2)
    next(stream)
    stream.close()
    asked = len(log(admin)["requests"])
    assert asked <= 3  # the first, plus at most the look-ahead in flight when it was closed
    time.sleep(1.0)  # what would have been asked next, had it gone on
    assert len(log(admin)["requests"]) == asked
    assert list(stream) == []
    with pytest.raises(StreamClosed):
        stream.speech


def test_a_stream_again_is_all_cache_and_an_interrupted_one_resumes(client: sg.Client, admin: httpx.Client) -> None:
    text = chapter()
    total = len(plan_parts(text))
    with client.stream_speech(text, VOICE, lookahead=1) as stream:
        for part in stream:
            if part.index == 1:
                break  # the user stops after two parts (one request at a time: exactly two were asked)
    assert len(log(admin)["requests"]) == 2
    with client.stream_speech(text, VOICE) as resumed:
        parts = list(resumed)
    assert [p.cached for p in parts] == [True, True] + [False] * (total - 2)
    assert len(log(admin)["requests"]) == total  # only what had not been spoken yet
    with client.stream_speech(text, VOICE) as again:
        assert all(p.cached for p in again)
    assert len(log(admin)["requests"]) == total and again.speech == resumed.speech


def test_a_failing_part_raises_and_stops_the_stream(client: sg.Client, admin: httpx.Client) -> None:
    with pytest.raises(sg.NotFoundError):
        with client.stream_speech(chapter(), "no-such-voice") as stream:
            list(stream)
    assert stream.closed and len(log(admin)["requests"]) <= 3


def test_ogg_streams_as_wav_parts_and_joins_into_ogg(client: sg.Client) -> None:
    with client.stream_speech(chapter(8), VOICE, "ogg") as stream:
        parts = list(stream)
    assert {p.speech.format for p in parts} == {"wav"}
    assert stream.speech.format == "ogg" and sg.inspect_audio(stream.speech.data).format == "ogg"


def test_bad_arguments_are_refused_before_any_request(client: sg.Client, admin: httpx.Client) -> None:
    with pytest.raises(sg.InvalidInputError, match="empty"):
        client.stream_speech("  ", VOICE)
    with pytest.raises(sg.InvalidInputError, match="format"):
        client.stream_speech("Hello.", VOICE, "mp4")
    with pytest.raises(sg.InvalidInputError, match="lookahead"):
        client.stream_speech("Hello.", VOICE, lookahead=0)
    assert log(admin)["requests"] == []


# --------------------------------------------------------------------------- async


def test_the_async_stream_keeps_order_bounds_look_ahead_and_joins(client: sg.Client, admin: httpx.Client, portal) -> None:  # type: ignore[no-untyped-def]
    admin.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.2, "paths": [TTS]}).raise_for_status()
    text = chapter()

    async def speak() -> tuple[list[sg.Speech], sg.Speech]:
        async with client.to_async() as aclient:
            async with aclient.stream_speech(text, VOICE, lookahead=2) as stream:
                parts = [part.speech async for part in stream]
            return parts, stream.speech

    parts, speech = portal.call(speak)
    assert len(parts) == len(plan_parts(text)) and speech.text == text
    assert speech == join_speech(parts, text=text, voice=VOICE)
    assert log(admin)["peak_in_flight"] == 2


def test_leaving_the_async_block_early_cancels_what_is_in_flight(client: sg.Client, admin: httpx.Client, portal) -> None:  # type: ignore[no-untyped-def]
    admin.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.2, "paths": [TTS]}).raise_for_status()

    async def first_only() -> sg.SpeechPart:
        async with client.to_async() as aclient:
            async with aclient.stream_speech(chapter(), VOICE, lookahead=2) as stream:
                async for part in stream:
                    return part
        raise AssertionError("no part")

    part = portal.call(first_only)
    assert part.index == 0
    asked = len(log(admin)["requests"])
    time.sleep(0.6)
    assert len(log(admin)["requests"]) == asked <= 3


def test_the_async_stream_needs_async_with(client: sg.Client, portal) -> None:  # type: ignore[no-untyped-def]
    async def wrong() -> None:
        async with client.to_async() as aclient:
            async for _ in aclient.stream_speech("Hello.", VOICE):
                pass

    with pytest.raises(RuntimeError, match="async with"):
        portal.call(wrong)
