"""Text longer than one request: split at sentences, spoken in order, joined into one clip."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator

import httpx
import pytest
from magics_calls import ok

import speechgen_jupyter as sg
from speechgen_jupyter._streamplan import plan_parts
from speechgen_jupyter.longtext import LongText, join_speech, speak_long, split_sentences, split_text

pytest_plugins = ["magics_env"]


def long_text(chars: int) -> str:
    """Numbered reading passages, so every chunk differs and order is checkable."""
    from speechgen_jupyter.local.engine import texts

    parts, i = [], 0
    while sum(len(p) + 2 for p in parts) < chars:
        parts.append(f"Part {i + 1}. " + texts.READING_PASSAGES[i % len(texts.READING_PASSAGES)])
        i += 1
    text = "\n\n".join(parts)[:chars]
    return text[: text.rfind(".") + 1]


def pcm(wav: bytes) -> bytes:
    pos = 12
    while pos + 8 <= len(wav):
        cid, size = wav[pos : pos + 4], struct.unpack_from("<I", wav, pos + 4)[0]
        if cid == b"data":
            return wav[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


# --------------------------------------------------------------------------- splitting


def test_short_text_is_one_chunk() -> None:
    assert split_text("  Hello there.  ") == ["Hello there."]
    assert split_text("   ") == []


def test_chunks_respect_the_limit_keep_every_word_in_order_and_end_at_sentences() -> None:
    text = long_text(12_000)
    chunks = split_text(text, 5000)
    assert len(chunks) == 3
    assert all(len(c) <= 5000 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert all(c.endswith(".") for c in chunks)


def test_abbreviations_do_not_end_a_chunk() -> None:
    chunks = split_text("Dr. Smith met Mr. Jones at noon. They talked for hours.", 40)
    assert chunks == ["Dr. Smith met Mr. Jones at noon.", "They talked for hours."]


def test_a_sentence_longer_than_the_limit_is_cut_at_clauses_then_words() -> None:
    sentence = "one, two, three, " * 20 + "and a final clause with many words in it"
    chunks = split_text(sentence, 50)
    assert all(len(c) <= 50 for c in chunks)
    assert " ".join(chunks).split() == sentence.split()
    assert split_text("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]


# --------------------------------------------------------------------------- joining, for real
#
# The engine's speech varies slightly from run to run, so each test records
# what the server really sent (an httpx response hook on a real client) and
# compares the joined clip with exactly those parts.


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[dict, sg.Speech]] = []

    def __call__(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith("/v1/text-to-speech") and response.is_success:
            response.read()
            body = json.loads(response.request.content)
            fmt = body["format"]
            self.calls.append((body, sg.Speech(response.content, fmt, text=body["text"])))

    @property
    def parts(self) -> list[sg.Speech]:
        return [speech for _, speech in self.calls]

    @property
    def texts(self) -> list[str]:
        return [body["text"] for body, _ in self.calls]


@pytest.fixture
def recorder(server) -> Iterator[tuple[sg.Client, Recorder]]:
    record = Recorder()
    http = httpx.Client(event_hooks={"response": [record]})
    with sg.Client(api_key=server.api_key, base_url=server.base_url, http_client=http) as client:
        previous = sg.set_client(client)
        try:
            yield client, record
        finally:
            sg.set_client(previous)
            http.close()


@pytest.mark.server_modes("full")  # splitting and joining do not depend on what the server offers
def test_twelve_thousand_characters_become_one_clip_with_the_parts_in_order(
    shell, recorder: tuple[sg.Client, Recorder], voice_id: str
) -> None:
    """Streamed (the default): the streaming plan's parts, a few in flight at once, joined in the text's order."""
    _, record = recorder
    text = long_text(12_000)
    shell.user_ns["book"] = text
    speech = ok(shell, f"%%speechgen --voice {voice_id} --format wav\n{{book}}")
    assert speech.format == "wav" and speech.text == text
    parts = plan_parts(text)
    assert 4 <= len(parts) <= 12 and parts[0].startswith(split_sentences(text)[0]) and len(parts[0]) < 200
    assert sorted(record.texts) == sorted(parts)  # each part asked once, nothing else
    spoken = dict(zip(record.texts, record.parts, strict=True))
    # The joined PCM is exactly the parts' PCM, in the text's order (whatever order they arrived in).
    assert pcm(speech.data) == b"".join(pcm(spoken[t].data) for t in parts)
    assert speech.duration == pytest.approx(sum(p.duration for p in record.parts), abs=1e-3)
    # And it is plausible speech: 10 to 25 characters a second.
    assert 12_000 / 25 < speech.duration < 12_000 / 10


@pytest.mark.server_modes("full")  # 12,000 characters in a clone's neural voice take a minute
def test_no_stream_sends_the_fewest_requests_one_after_another(shell, recorder: tuple[sg.Client, Recorder], voice_id: str) -> None:
    _, record = recorder
    text = long_text(12_000)
    shell.user_ns["book"] = text
    speech = ok(shell, f"%%speechgen --voice {voice_id} --format wav --no-stream\n{{book}}")
    chunks = split_text(text)
    assert len(chunks) == 3 and record.texts == chunks  # sent in order, nothing else
    assert pcm(speech.data) == b"".join(pcm(p.data) for p in record.parts)


def test_a_cell_again_is_answered_from_the_cache_and_no_cache_asks_again(
    shell, recorder: tuple[sg.Client, Recorder], voice_id: str
) -> None:
    _, record = recorder
    text = long_text(1_500)
    first = ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    asked = len(record.texts)
    assert asked == len(plan_parts(text))
    again = ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    assert len(record.texts) == asked and again == first  # a re-run makes no request
    ok(shell, f"%%speechgen --voice {voice_id} --no-cache\n{text}")
    assert len(record.texts) == 2 * asked
    ok(shell, "%config SpeechgenMagics.cache = False")
    ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    assert len(record.texts) == 3 * asked


def test_an_interrupted_long_text_resumes_where_it_stopped(shell, recorder: tuple[sg.Client, Recorder], voice_id: str) -> None:
    """Ctrl-C after two parts; the cell again asks only for the parts not spoken yet."""
    import _thread

    client, record = recorder
    text = long_text(3_000)
    parts = plan_parts(text)

    class Interrupt:
        def __call__(self, response: httpx.Response) -> None:
            if len(record.texts) == 2:
                _thread.interrupt_main()

    client._http.event_hooks["response"].append(Interrupt())
    with pytest.raises(KeyboardInterrupt):
        shell.run_cell(f"%%speechgen --voice {voice_id}\n{text}").raise_error()
    client._http.event_hooks["response"].pop()
    # Requests already in flight were let finish (into the cache): wait for them, then count.
    import threading
    import time

    deadline = time.monotonic() + 30
    while any(t.name.startswith("speechgen-stream") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    done = set(record.texts)
    assert 2 <= len(done) < len(parts)
    speech = ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    assert sorted(record.texts[len(done):]) == sorted(set(parts) - done)  # only the missing parts
    assert speech.text == text


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "flac"])
def test_joined_clip_lasts_the_sum_of_its_parts(recorder: tuple[sg.Client, Recorder], voice_id: str, fmt: str) -> None:
    client, record = recorder
    text = long_text(900)
    plan = LongText(text, voice_id, fmt, max_chars=200)
    assert len(plan.chunks) >= 4
    speech = speak_long(client, text, voice_id, fmt, max_chars=200)
    assert speech.format == fmt and sg.inspect_audio(speech.data).format == fmt
    assert record.texts == plan.chunks
    # OGG and FLAC parts are fetched as WAV and encoded once; MP3 parts are joined frame by frame.
    assert {p.format for p in record.parts} == {"mp3" if fmt == "mp3" else "wav"}
    expected = sum(p.duration for p in record.parts)
    # MP3 keeps each part's encoder delay and padding (~0.06 s a part); the others are exact to a frame.
    slack = 0.1 * len(record.parts) if fmt == "mp3" else 0.03
    assert speech.duration == pytest.approx(expected, abs=slack)
    assert speech.duration >= expected - 0.03


def test_mp3_join_drops_each_parts_info_frame(client: sg.Client, voice_id: str) -> None:
    parts = [client.text_to_speech(t, voice_id, "mp3") for t in ("First sentence here.", "And the second one.")]
    assert all(b"Info" in p.data or b"Xing" in p.data for p in parts)
    joined = join_speech(parts)
    assert b"Info" not in joined.data and b"Xing" not in joined.data
    assert joined.duration == pytest.approx(sum(p.duration for p in parts), abs=0.2)


def test_the_cell_magic_shows_progress_over_parts_and_uses_max_chars(shell, voice_id: str, capsys) -> None:
    text = long_text(700)
    ok(shell, "%config SpeechgenMagics.max_chars = 150")
    speech = ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    err = capsys.readouterr().err
    total = len(plan_parts(text, 150))
    assert re.search(rf"{total}/{total}", err), err
    assert speech.text == text and speech.duration > 20
