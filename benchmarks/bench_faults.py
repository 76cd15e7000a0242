"""What faults cost (issue 7): the same batch with and without 30 % injected faults, in one run.

- `speak_texts` speaks 200 short sentences (concurrency 8) on a clean server and on one that
  faults 30 % of requests (429 and 503 with Retry-After 0, dropped connections, 0.25 s slow
  answers), interleaved: the time ratio is what the retries cost; every text must come back.
- The same under faults with Retry-After 1 s, the delay a real rate limiter asks for.

The server runs as its own process, as `python -m speechgen_jupyter.local --admin`.

Run: python -m benchmarks.bench_faults
"""

from __future__ import annotations

import time

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process
from speechgen_jupyter.batch import speak_texts

N = 200
CONCURRENCY = 8
ROUNDS = 3


def faults(retry_after: int) -> dict[str, object]:
    return {"rate": 0.3, "kinds": ["429", "503", "drop", "slow"], "retry_after": retry_after,
            "slow_seconds": 0.25, "seed": 11, "paths": ["/v1/"]}


def timed_batch(client: sg.Client, texts: list[str], voice: str) -> float:
    t = time.perf_counter()
    items = speak_texts(texts, voice, client=client, concurrency=CONCURRENCY, progress=False)
    elapsed = time.perf_counter() - t
    failed = [i for i in items if not i.ok]
    assert not failed, failed[:3]
    return elapsed


def run() -> list[Row]:
    texts = [f"Sentence number {i} of the fault benchmark." for i in range(N)]
    clean: list[float] = []
    faulty: list[float] = []
    slow_limit: list[float] = []
    with server_process("--admin") as server:
        admin = server.http()
        # No speech cache (issue 12): every round must really ask the faulty server.
        client = sg.Client(api_key=server.api_key, base_url=server.base_url, max_retries=12, deadline=60, cache=False)
        voice = next(v.voice_id for v in client.list_voices() if v.kind == "builtin")
        for text in texts[:16]:
            client.text_to_speech(text, voice)  # warm the engine
        considered = injected = 0
        for _ in range(ROUNDS):  # interleaved, so drift hits all alike
            admin.put("/_admin/faults", json={}).raise_for_status()
            clean.append(timed_batch(client, texts, voice))
            for retry_after, times in ((0, faulty), (1, slow_limit)):
                admin.put("/_admin/faults", json=faults(retry_after)).raise_for_status()
                before = admin.get("/_admin/state").json()["fault_stats"]
                times.append(timed_batch(client, texts, voice))
                after = admin.get("/_admin/state").json()["fault_stats"]
                considered += after.get("considered", 0) - before.get("considered", 0)
                injected += sum(after.get(k, 0) - before.get(k, 0) for k in ("429", "503", "drop", "slow"))
        admin.put("/_admin/faults", json={}).raise_for_status()
        client.close()
        admin.close()
    c, f, s = median(clean), median(faulty), median(slow_limit)
    share = injected / max(considered, 1)
    return [
        Row(
            f"batch of {N} under 30 % faults vs none (Retry-After 0)", f / c, "x", "(cost of retries)",
            f"median of {ROUNDS}: clean {c:.2f} s ({N / c:.0f}/s), faulted {f:.2f} s ({N / f:.0f}/s); "
            f"{share:.0%} of {considered} requests faulted, every text spoken",
        ),
        Row(
            f"batch of {N} under 30 % faults vs none (Retry-After 1 s)", s / c, "x", "(cost of retries)",
            f"median of {ROUNDS}: {s:.2f} s ({N / s:.0f}/s): each 429/503 waits the 1 s the server asks for",
        ),
    ]


if __name__ == "__main__":
    print_rows("Faults (issue 7)", run())
