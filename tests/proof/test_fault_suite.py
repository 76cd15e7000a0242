"""The fault suite: 200 speeches and 20 clones through a server that fails 30 % of requests.

The local server runs as its own process (as a user runs it), with seeded
fault injection on every /v1/ request: 429 and 503 with Retry-After, dropped
connections before the request is processed (drop) and after it was (drop_after:
the model exists, the response is lost), and slow responses. Through it, at
the same time:

- `speechgen_jupyter.batch.speak_texts` speaks 200 texts of 1 to 20 words with
  two built-in voices (8 at a time), and
- an `AsyncClient` clones 20 voices, 4 at a time, and waits for each.

Then, with faults off, every result is checked for what it claims to be: each
speech is the engine's audio for its own text and voice (its decoded duration
equals what the engine makes for that text, so 200 distinct lengths are told
apart), each clone is ready under its own name and speaks, no model exists
twice (listing and GET /_admin/state agree: exactly 20), and the whole run
took no longer than the client's deadline settings allow.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.batch import speak_texts

from .support import CliServer, sized

N_TEXTS = sized("SPEECHGEN_FAULT_TEXTS", 200)
N_CLONES = sized("SPEECHGEN_FAULT_CLONES", 20)
CONCURRENCY = 8  # speak_texts' workers
CLONE_CONCURRENCY = 4
# The client's settings under test: a call (its retries included) never outlives DEADLINE. Large enough
# that 30 % faults cannot exhaust it (it takes ~9 failures in a row), so every call must succeed.
DEADLINE = 60.0
MAX_RETRIES = 12
WAIT_TIMEOUT = 120.0  # wait_for_model's own limit, on top of the clone call's deadline
FAULTS: dict[str, Any] = {
    "rate": 0.3,
    "kinds": ["429", "503", "drop", "drop_after", "slow"],
    "seed": 20_260_707,
    "retry_after": 1,
    "slow_seconds": 0.25,
    "paths": ["/v1/"],
}
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango")
VOICES = ("en-us-male-2", "en-us-female-1")


def text_for(i: int) -> str:
    """Text i has 1 + i % 20 words after its number, so lengths (and durations) vary across the batch."""
    return f"Line {i}. " + " ".join(WORDS[: 1 + i % 20]) + "."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    import json

    data = tmp_path_factory.mktemp("fault-suite") / "data"
    with CliServer(data, "sg_local_fault_" + secrets.token_hex(8), "--admin", "--transition", "immediate",
                   "--faults", json.dumps(FAULTS)) as srv:
        yield srv


async def clone_all(client: sg.AsyncClient, sample: bytes, timings: list[float]) -> list[sg.VoiceModel]:
    """Clone N_CLONES voices, CLONE_CONCURRENCY at a time, each waited for until ready."""
    gate = asyncio.Semaphore(CLONE_CONCURRENCY)

    async def one(i: int) -> sg.VoiceModel:
        async with gate:
            started = time.monotonic()
            created = await client.clone_voice(sample, f"Fault voice {i:02d}", f"clone {i} under faults")
            ready = await client.wait_for_model(created.model_id, timeout=WAIT_TIMEOUT)
            timings.append(time.monotonic() - started)
            return ready

    return list(await asyncio.gather(*(one(i) for i in range(N_CLONES))))


def test_200_speeches_and_20_clones_through_30_percent_faults(
    server: CliServer, speech_mp3: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    from speechgen_jupyter.local.engine import decode, synthesize

    caplog.set_level(logging.INFO, logger="speechgen_jupyter")
    texts = [text_for(i) for i in range(N_TEXTS)]
    voices = [VOICES[i % len(VOICES)] for i in range(N_TEXTS)]
    options: dict[str, Any] = {"api_key": server.api_key, "base_url": server.base_url, "max_retries": MAX_RETRIES,
                               "deadline": DEADLINE}
    clone_timings: list[float] = []
    clones: list[sg.VoiceModel] = []
    failure: list[BaseException] = []

    def clone_thread() -> None:
        async def run() -> None:
            async with sg.AsyncClient(**options) as aclient:
                clones.extend(await clone_all(aclient, speech_mp3, clone_timings))

        try:
            asyncio.run(run())
        except BaseException as err:  # noqa: BLE001 - reported by the test thread
            failure.append(err)

    started = time.monotonic()
    cloner = threading.Thread(target=clone_thread, name="fault-suite-clones")
    cloner.start()
    with sg.Client(**options) as client:
        items = speak_texts(texts, voices, client=client, concurrency=CONCURRENCY, progress=False)
    batch_seconds = time.monotonic() - started
    cloner.join()
    total_seconds = time.monotonic() - started
    if failure:
        raise failure[0]

    with server.client() as admin:
        stats = admin.get("/_admin/state").json()["fault_stats"]
        admin.put("/_admin/faults", json={}).raise_for_status()  # faults off: check the results plainly
        state = admin.get("/_admin/state").json()
        listing = admin.get("/v1/models", params={"limit": 100}).json()

    # -- the faults really happened, at about the rate asked ------------------------------------
    injected = {kind: stats.get(kind, 0) for kind in FAULTS["kinds"]}
    considered = stats.get("considered", 0)
    retried = Counter(
        re.sub(r"vm_[a-z0-9]+", "{id}", r.getMessage().split(" in ")[0])
        for r in caplog.records if r.getMessage().startswith("Retrying")
    )
    print(f"\nfault suite: {considered} requests drew for a fault, {sum(injected.values())} faulted {injected}; "
          f"client retries by route {dict(retried)}; batch {batch_seconds:.1f} s, all {total_seconds:.1f} s")
    assert considered >= N_TEXTS + 2 * N_CLONES
    assert all(n > 0 for n in injected.values()), injected
    assert 0.2 <= sum(injected.values()) / considered <= 0.4
    assert retried["Retrying POST /v1/voice-clone"] > 0, "uploads were among the faulted requests"
    assert retried["Retrying POST /v1/text-to-speech"] > 0

    # -- every speech is real audio for its own text ---------------------------------------------
    assert [i.index for i in items] == list(range(N_TEXTS))
    failed = [(i.index, str(i.error)) for i in items if not i.ok]
    assert not failed, failed[:5]
    for item, text, voice in zip(items, texts, voices, strict=True):
        assert item.speech is not None and item.text == text and item.speech.format == "mp3"
        got = decode(item.speech.data)
        pcm, rate = synthesize(text, voice)
        # An MP3 decode may differ from the raw PCM by up to one frame (1152 samples of
        # priming/padding), and espeak's own length varies by ~10 ms run to run; texts
        # here differ by whole words (~0.3 s), so this still tells each text's audio apart.
        tolerance = 1152 / rate + 0.02
        assert abs(got.duration - len(pcm) / rate) < tolerance, (item.index, got.duration, len(pcm) / rate)
        assert float(abs(got.samples).max()) > 0.05, "sound, not silence"
    for voice in VOICES:  # more words, longer speech: 20 lengths per voice, told apart
        by_words: dict[int, list[float]] = {}
        for i, item in enumerate(items):
            if voices[i] == voice:
                by_words.setdefault(1 + i % 20, []).append(decode(item.speech.data).duration)  # type: ignore[union-attr]
        means = [sum(v) / len(v) for _, v in sorted(by_words.items())]
        assert means == sorted(means) and means[-1] > 3 * means[0], means

    # -- every clone is ready, under its own name, exactly once ---------------------------------
    names = [f"Fault voice {i:02d}" for i in range(N_CLONES)]
    assert sorted(m.name for m in clones) == names
    assert all(m.is_ready and m.voice_id for m in clones)
    assert {m.name: m.description for m in clones} == {n: f"clone {i} under faults" for i, n in enumerate(names)}
    listed = listing["models"]
    assert listing["next_cursor"] is None
    assert sorted(m["name"] for m in listed) == names, "no model created twice, none lost"
    assert {m["model_id"] for m in listed} == {m.model_id for m in clones}
    assert state["models"] == {"processing": 0, "ready": N_CLONES, "failed": 0}
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as plain:
        for model in clones[:5]:  # the clones speak (faults off: this checks the voices, not the retries)
            speech = plain.text_to_speech(f"I am {model.name}.", model.voice_id)  # type: ignore[arg-type]
            assert speech.duration and speech.duration > 0.5

    # -- the whole run is bounded by the deadline settings --------------------------------------
    # Each of speak_texts' workers speaks its share one call at a time, each call within DEADLINE;
    # the cloner runs its share likewise, each clone within DEADLINE plus wait_for_model's timeout.
    batch_bound = math.ceil(N_TEXTS / CONCURRENCY) * DEADLINE
    clone_bound = math.ceil(N_CLONES / CLONE_CONCURRENCY) * (DEADLINE + WAIT_TIMEOUT)
    assert batch_seconds <= batch_bound
    assert total_seconds <= max(batch_bound, clone_bound)
    assert max(clone_timings) <= DEADLINE + WAIT_TIMEOUT
