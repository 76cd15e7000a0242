"""Client benchmarks (issue 2), each measured side by side in one run on the local server.

- Client overhead: sequential get_model through `Client` vs the same requests
  through a bare `httpx.Client` (aim <= 1.15x).
- Readiness lag: from a model turning ready to `wait_for_model` returning, vs
  the page's fixed 5-second poll (aim: median < 0.3 s at <= ~1 request/s).
- Import cost: `import speechgen_jupyter` vs a bare interpreter (aim < 100 ms).

Run: python -m benchmarks.bench_client
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import httpx

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows


def speech_sample(seconds: float = 14.0) -> bytes:
    """A real English speech sample made by the local engine."""
    from speechgen_jupyter.local.engine import builtin_voices, encode, synthesize

    sentence = "The quick brown fox jumps over the lazy dog, and then it rests in the warm afternoon sun. "
    voice = builtin_voices()[0]
    text = sentence
    while True:
        samples, rate = synthesize(text, voice)
        if len(samples) / rate >= seconds:
            return encode(samples, rate, "mp3")
        text += sentence


def bench_overhead(server, sample: bytes, n: int = 400) -> Row:
    client = sg.Client(api_key=server.api_key, base_url=server.base_url)
    model = client.clone_voice(sample, "bench")
    url = f"{server.base_url.rstrip('/')}/v1/models/{model.model_id}"
    bare = httpx.Client(headers={"Authorization": f"Bearer {server.api_key}"})
    for _ in range(20):  # warm both connection pools
        client.get_model(model.model_id)
        bare.get(url).json()
    ours, theirs = [], []
    for _ in range(5):  # interleaved rounds, so drift hits both alike
        t = time.perf_counter()
        for _ in range(n // 5):
            client.get_model(model.model_id)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _ in range(n // 5):
            bare.get(url).json()
        theirs.append(time.perf_counter() - t)
    ratio = sum(ours) / sum(theirs)
    per_call = sum(ours) / n * 1000
    client.close()
    bare.close()
    return Row(
        "Client.get_model vs bare httpx", ratio, "x", "<= 1.15x",
        f"{n} sequential calls each, interleaved; {per_call:.2f} ms per call through Client",
    )


def bench_readiness(sample: bytes, delays: tuple[float, ...] = (1.3, 1.9, 2.6, 3.4, 4.1, 4.8)) -> list[Row]:
    from speechgen_jupyter.local import start

    lags_adaptive, lags_fixed, rates = [], [], []
    with start(transition={"progression": "immediate"}, admin=True) as server:
        client = sg.Client(api_key=server.api_key, base_url=server.base_url)
        admin = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"})

        lock = threading.Lock()  # the transition is global: set it and clone under one lock

        def guarded(delay: float, adaptive: bool) -> None:
            with lock:
                admin.put("/_admin/transition", json={"progression": "time", "seconds": delay}).raise_for_status()
                model = client.clone_voice(sample, f"lag {delay}")
            ready_at = model.created_at.timestamp() + delay
            polls = 0
            started = time.time()
            if adaptive:
                seen = []
                client.wait_for_model(model.model_id, on_progress=lambda p: seen.append(p))
                polls = len(seen)
            else:
                while True:
                    polls += 1
                    if client.get_model(model.model_id).is_ready:
                        break
                    time.sleep(5)
            done = time.time()
            (lags_adaptive if adaptive else lags_fixed).append(done - ready_at)
            if adaptive:
                rates.append(polls / max(done - started, 1e-9))

        threads = [threading.Thread(target=guarded, args=(d, a)) for d in delays for a in (True, False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        admin.close()
    return [
        Row(
            "readiness lag, wait_for_model", median(lags_adaptive), "s", "median < 0.3 s",
            f"{len(delays)} models ready after {delays[0]}-{delays[-1]} s; "
            f"{median(rates):.2f} requests/s median (aim <= ~1)",
        ),
        Row(
            "readiness lag, page's fixed 5 s poll", median(lags_fixed), "s", "(baseline)",
            f"same models, same run; ratio {median(lags_fixed) / max(median(lags_adaptive), 1e-3):.0f}x",
        ),
    ]


def bench_import(runs: int = 15) -> Row:
    def timed(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t

    bare, ours = [], []
    for _ in range(runs):
        bare.append(timed("pass"))
        ours.append(timed("import speechgen_jupyter"))
    added = (median(ours) - median(bare)) * 1000
    return Row(
        "import speechgen_jupyter", added, "ms", "< 100 ms",
        f"added to a bare interpreter start ({median(bare) * 1000:.0f} ms), median of {runs} interleaved runs",
    )


def run() -> list[Row]:
    from speechgen_jupyter.local import start

    sample = speech_sample()
    rows = []
    with start(transition={"progression": "immediate"}) as server:
        rows.append(bench_overhead(server, sample))
    rows.extend(bench_readiness(sample))
    rows.append(bench_import())
    return rows


if __name__ == "__main__":
    print_rows("Client", run())
