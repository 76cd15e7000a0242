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


import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import ServerProcess, server_process


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


def bench_overhead(server: ServerProcess, sample: bytes, n: int = 400) -> Row:
    client = sg.Client(api_key=server.api_key, base_url=server.base_url)
    # Measured on a ready model: while one is being fitted the server's CPU is the fit's, and its
    # answers change (so the client rightly writes them to its record) as they would not in use.
    model = client.wait_for_model(client.clone_voice(sample, "bench").model_id)
    url = f"{server.base_url.rstrip('/')}/v1/models/{model.model_id}"
    bare = server.http()
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


def bench_readiness(sample: bytes, delays: tuple[float, ...] = (2.0, 2.7, 3.3, 4.1, 4.6, 5.4)) -> list[Row]:
    """Each model is watched at once by wait_for_model and by the page's loop.

    The server's "time" transition makes a model read ready exactly `delay`
    seconds after creation (its clone finishes well before), so the moment of
    readiness is known and both watchers are measured against the same one.
    """
    lags_adaptive, lags_fixed, rates = [], [], []
    with server_process("--admin") as server:
        client = sg.Client(api_key=server.api_key, base_url=server.base_url)
        admin = server.http()

        def adaptive(model_id: str, ready_at: float) -> None:
            started = time.time()
            seen: list[sg.WaitProgress] = []
            client.wait_for_model(model_id, on_progress=seen.append)
            done = time.time()
            lags_adaptive.append(done - ready_at)
            rates.append(len(seen) / (done - started))

        def page_loop(model_id: str, ready_at: float) -> None:
            while not client.get_model(model_id).is_ready:  # the page's loop: poll, then sleep 5 s
                time.sleep(5)
            lags_fixed.append(time.time() - ready_at)

        for delay in delays:
            admin.put("/_admin/transition", json={"progression": "time", "seconds": delay}).raise_for_status()
            model = client.clone_voice(sample, f"lag {delay}")
            ready_at = model.created_at.timestamp() + delay
            watchers = [threading.Thread(target=f, args=(model.model_id, ready_at)) for f in (adaptive, page_loop)]
            for t in watchers:
                t.start()
            for t in watchers:
                t.join()
        client.close()
        admin.close()
    return [
        Row(
            "readiness lag, wait_for_model", median(lags_adaptive), "s", "median < 0.3 s",
            f"{len(delays)} models ready {delays[0]}-{delays[-1]} s after creation; "
            f"{median(rates):.2f} requests/s median (aim <= ~1)",
        ),
        Row(
            "readiness lag, page's fixed 5 s poll", median(lags_fixed), "s", "(baseline)",
            f"the same models watched at the same time; {median(lags_fixed) / max(median(lags_adaptive), 1e-3):.0f}x "
            f"the lag of wait_for_model",
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
    sample = speech_sample()
    rows = []
    with server_process("--transition", "immediate") as server:
        rows.append(bench_overhead(server, sample))
    rows.extend(bench_readiness(sample))
    rows.append(bench_import())
    return rows


if __name__ == "__main__":
    print_rows("Client", run())
