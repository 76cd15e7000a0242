"""Batch benchmarks of issue 12, each measured side by side in one run.

- A batch of 200 short sentences (`speak_texts`, concurrency 8, as a user runs it: speech cache on,
  adaptive concurrency on) against raw asyncio + httpx at the same concurrency on the same server:
  a throughput ratio (aim >= 0.95: the batch's thread, ordering, retries, cache writes and gate must
  cost little). New texts every round, so the cache stores but never answers.
- Against a server that serves only 4 requests at once (the local server's `max_in_flight: 4`, 429 with
  Retry-After 1 s beyond it): the adaptive batch allowed 8 against the best fixed concurrency found by
  hand (2, 3 and 4 tried, the fastest kept; none of them is ever refused), with the share of the
  adaptive batch's requests answered 429 (aim under 10 %).

The server runs in its own process (`python -m speechgen_jupyter.local --admin`), not sharing this
process's GIL with the clients measured.

Run: python -m benchmarks.bench_batch
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process
from benchmarks.bench_magics import raw_httpx
from speechgen_jupyter.batch import speak_texts

N = 200
CONCURRENCY = 8
ROUNDS = 3
LIMIT = 4
FIXED = (2, 3, 4)
_fresh = itertools.count()


def fresh_texts(n: int = N) -> list[str]:
    """Sentences never spoken before in this run (so the speech cache cannot answer them)."""
    batch = next(_fresh)
    return [f"This is short sentence number {i} of batch {batch} for the benchmark." for i in range(n)]


def ours(client: sg.Client, voice: str, concurrency: int = CONCURRENCY) -> float:
    texts = fresh_texts()
    t = time.perf_counter()
    items = speak_texts(texts, voice, client=client, concurrency=concurrency, progress=False)
    elapsed = time.perf_counter() - t
    failed = [i for i in items if not i.ok]
    assert not failed, failed[:3]
    return elapsed


def run() -> list[Row]:
    os.environ.setdefault("SPEECHGEN_CACHE_DIR", tempfile.mkdtemp(prefix="bench-batch-cache-"))
    with server_process("--admin", "--transition", "immediate") as server:
        admin = server.http()
        client = sg.Client(api_key=server.api_key, base_url=server.base_url)
        voice = next(v.voice_id for v in client.list_voices() if v.kind == "builtin")
        for text in fresh_texts(20):  # warm the engine and the pools
            client.text_to_speech(text, voice)

        batch, raw = [], []
        for _ in range(ROUNDS):  # interleaved, so drift hits both alike
            batch.append(ours(client, voice))
            raw.append(raw_httpx(server.base_url, server.api_key, fresh_texts(), voice))

        admin.put("/_admin/faults", json={"max_in_flight": LIMIT, "retry_after": 1, "paths": ["/v1/text-to-speech"]}).raise_for_status()
        fixed: dict[int, list[float]] = {c: [] for c in FIXED}
        adaptive: list[float] = []
        refused = sent = 0
        for _ in range(ROUNDS):
            for c in FIXED:
                fixed[c].append(ours(client, voice, c))
            since = admin.get("/_admin/requests").json()["last_seq"]
            adaptive.append(ours(client, voice, CONCURRENCY))
            statuses = [e["status"] for e in admin.get("/_admin/requests", params={"since": since, "path": "/v1/text-to-speech"}).json()["requests"]]
            refused += statuses.count(429)
            sent += len(statuses)
        admin.put("/_admin/faults", json={}).raise_for_status()
        client.close()
        admin.close()

    b, r = median(batch), median(raw)
    best_c = min(FIXED, key=lambda c: median(fixed[c]))
    best, a = median(fixed[best_c]), median(adaptive)
    tried = ", ".join(f"{c}: {median(fixed[c]):.2f} s" for c in FIXED)
    return [
        Row(
            f"batch vs raw httpx, concurrency {CONCURRENCY} (cache and adaptive concurrency on)", r / b, "x", ">= 0.95",
            f"throughput ratio, median of {ROUNDS}: raw asyncio+httpx {r:.2f} s ({N / r:.0f}/s), batch {b:.2f} s ({N / b:.0f}/s)",
        ),
        Row(
            f"adaptive batch (max {CONCURRENCY}) vs best fixed concurrency, server taking {LIMIT} at once", best / a, "x", ">= 0.9",
            f"median of {ROUNDS}: adaptive {a:.2f} s, best fixed {best:.2f} s at {best_c} (tried {tried}); 429 + Retry-After 1 s beyond {LIMIT}",
        ),
        Row(
            "share of the adaptive batch's requests answered 429", 100 * refused / max(sent, 1), "%", "< 10",
            f"{refused} of {sent} requests over {ROUNDS} batches of {N}, counted by the server",
        ),
    ]


def main() -> None:
    print_rows("Batch speech (issue 12)", run())


if __name__ == "__main__":
    main()
