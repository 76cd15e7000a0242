"""Magics and batch benchmarks (issue 4), each measured side by side in one run.

- Batch of 200 short sentences on the local server: `speak_texts` (concurrency
  8) against the same 200 requests one by one, as the page's example does
  (a speed-up ratio; higher is better).
- The same batch against raw concurrent httpx requests at the same
  concurrency (a throughput ratio; aim >= 0.8: the batch's worker thread,
  ordering, retries and progress must cost little).
- `%load_ext speechgen_jupyter` in a fresh IPython shell in a fresh
  subprocess, timed around the load only (aim < 300 ms).

The server runs in its own process (`python -m speechgen_jupyter.local`), so
it does not share this process's GIL with the clients being measured.

Run: python -m benchmarks.bench_magics
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process
from speechgen_jupyter.batch import speak_texts

N = 200
CONCURRENCY = 8
ROUNDS = 3


def sentences(n: int = N) -> list[str]:
    return [f"This is short sentence number {i} for the batch." for i in range(n)]


def sequential(client: sg.Client, texts: list[str], voice: str) -> float:
    t = time.perf_counter()
    for text in texts:
        client.text_to_speech(text, voice)
    return time.perf_counter() - t


def batch(client: sg.Client, texts: list[str], voice: str) -> float:
    t = time.perf_counter()
    items = speak_texts(texts, voice, client=client, concurrency=CONCURRENCY, progress=False)
    elapsed = time.perf_counter() - t
    assert all(i.ok for i in items)
    return elapsed


def raw_httpx(base_url: str, key: str, texts: list[str], voice: str) -> float:
    """The floor: N workers posting with a bare httpx.AsyncClient, bodies read, nothing else."""

    async def run() -> float:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for text in texts:
            queue.put_nowait(text)
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            t = time.perf_counter()

            async def worker() -> None:
                while not queue.empty():
                    text = queue.get_nowait()
                    r = await http.post("/v1/text-to-speech", json={"text": text, "voice": voice, "format": "mp3"})
                    r.raise_for_status()

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            return time.perf_counter() - t

    return asyncio.run(run())


def bench_batch() -> list[Row]:
    texts = sentences()
    with server_process("--transition", "immediate") as server:
        base_url, key = server.base_url, server.api_key
        # The same 200 texts each round: without the speech cache (issue 12), or rounds 2 and 3 would ask nothing.
        client = sg.Client(api_key=key, base_url=base_url, cache=False)
        voice = next(v.voice_id for v in client.list_voices() if v.kind == "builtin")
        for text in texts[:20]:  # warm the engine and the pools
            client.text_to_speech(text, voice)
        seq, ours, raw = [], [], []
        for _ in range(ROUNDS):  # interleaved, so drift hits all alike
            seq.append(sequential(client, texts, voice))
            ours.append(batch(client, texts, voice))
            raw.append(raw_httpx(base_url, key, texts, voice))
        client.close()
    s, b, r = median(seq), median(ours), median(raw)
    return [
        Row(
            f"batch of {N} (concurrency {CONCURRENCY}) vs one by one", s / b, "x", "> 1 (faster)",
            f"median of {ROUNDS}: one by one {s:.2f} s ({N / s:.0f}/s), batch {b:.2f} s ({N / b:.0f}/s)",
        ),
        Row(
            f"batch vs raw httpx, concurrency {CONCURRENCY}", r / b, "x", ">= 0.8",
            f"throughput ratio; raw asyncio+httpx {r:.2f} s ({N / r:.0f}/s), batch {b:.2f} s",
        ),
    ]


_LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
t = time.perf_counter()
ip.run_line_magic("load_ext", "speechgen_jupyter")
print(time.perf_counter() - t)
"""


def bench_load_ext(runs: int = 7) -> Row:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHGEN_")}
    times = [
        float(subprocess.run([sys.executable, "-c", _LOAD_EXT], capture_output=True, text=True, check=True, env=env).stdout)
        for _ in range(runs)
    ]
    return Row(
        "%load_ext speechgen_jupyter", median(times) * 1000, "ms", "< 300 ms",
        f"median of {runs} fresh subprocesses, timed around the load only; max {max(times) * 1000:.0f} ms",
    )


def run() -> list[Row]:
    """Every benchmark of this module, as `python -m benchmarks` gathers them."""
    return [*bench_batch(), bench_load_ext()]


def main() -> None:
    print_rows("Magics and batch (issue 4)", run())


if __name__ == "__main__":
    main()
