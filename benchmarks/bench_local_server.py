"""Local server benchmarks (issue 3), measured in one run against the server as a separate process.

- Text-to-speech real-time factor with a cloned voice, MP3 encoding included (aim <= 0.05):
  request time over seconds of audio returned, through HTTP; the engine alone alongside.
- Cloning a 60 s sample, upload to ready (aim <= 3 s), with no fitting search (`--clone-seconds 0`:
  analysis, the nearest voice, one scored move and the demo sample; bench_voices measures a real
  fit's minute).
- Peak memory a 10 MB upload adds to the server process (aim <= ~2x the file), and that an
  11 MB upload is refused without the server reading it all.
- Requests per second for GET /v1/models/{id} and short text-to-speech under 8 concurrent clients.

The server runs as `python -m speechgen_jupyter.local` in its own process, as a user would
run it, so the clients measuring it do not share its interpreter lock, and its memory is its own.

Run: python -m benchmarks.bench_local_server
"""

from __future__ import annotations

import os
import select
import socket
import tempfile
import threading
import time
from urllib.parse import urlsplit

import httpx
import numpy as np

from benchmarks._report import Row, median, print_rows
from benchmarks._server import ServerProcess

MB = 1024 * 1024


# -- audio -----------------------------------------------------------------------------------


def speech(seconds: float, voice: str = "en-us-male-2", rate: int | None = None) -> tuple[np.ndarray, int]:
    """`seconds` of English speech from the engine's reading passages."""
    from speechgen_jupyter.local.engine import synthesize
    from speechgen_jupyter.local.engine.codec import resample
    from speechgen_jupyter.local.engine.texts import READING_PASSAGES

    parts, total, i, sr = [], 0, 0, 0
    while True:
        x, sr = synthesize(READING_PASSAGES[i % len(READING_PASSAGES)], voice)
        parts += [x, np.zeros(sr // 4, np.float32)]
        total += len(x) + sr // 4
        i += 1
        if total >= seconds * sr:
            break
    out = np.concatenate(parts)[: int(seconds * sr)]
    if rate and rate != sr:
        out, sr = resample(out, sr, rate)[: int(seconds * rate)], rate
    return out.astype(np.float32), sr


def speech_file(fmt: str, seconds: float, rate: int | None = None) -> bytes:
    from speechgen_jupyter.local.engine import encode

    x, sr = speech(seconds, rate=rate)
    return encode(x, sr, fmt)


def upload(api: httpx.Client, audio: bytes, name: str, filename: str = "sample.mp3") -> httpx.Response:
    return api.post("/v1/voice-clone", files={"audio": (filename, audio)}, data={"name": name})


# -- benchmarks -------------------------------------------------------------------------------


def bench_tts(api: httpx.Client, voice_id: str, sample60: bytes, runs: int = 9) -> list[Row]:
    from speechgen_jupyter.local.engine import build_profile, decode, encode, synthesize

    text = (
        "Benchmarks are only honest when they measure the whole path. This paragraph is long enough "
        "to make about fifteen seconds of speech, so that fixed costs do not flatter the result, "
        "and short enough to be a typical notebook request."
    )
    http, audio_seconds = [], 0.0
    for _ in range(runs):
        t = time.perf_counter()
        r = api.post("/v1/text-to-speech", json={"text": text, "voice": voice_id, "format": "mp3"})
        http.append(time.perf_counter() - t)
        r.raise_for_status()
        audio_seconds = decode(r.content).duration
    # The same work in this process, without HTTP: what the engine costs with a clone of the same sample.
    profile = build_profile(decode(sample60))
    engine = []
    for _ in range(runs):
        t = time.perf_counter()
        x, sr = synthesize(text, profile)
        encode(x, sr, "mp3")
        engine.append(time.perf_counter() - t)
    return [
        Row(
            "TTS real-time factor, cloned voice, MP3, over HTTP", median(http) / audio_seconds, "x", "<= 0.05",
            f"{median(http) * 1000:.0f} ms for {audio_seconds:.1f} s of audio, median of {runs}",
        ),
        Row(
            "TTS real-time factor, engine only", median(engine) / audio_seconds, "x", "(for scale)",
            f"synthesize + encode in this process, {median(engine) * 1000:.0f} ms",
        ),
    ]


def bench_clone(api: httpx.Client, sample60: bytes, runs: int = 3) -> Row:
    times = []
    for i in range(runs):
        t = time.perf_counter()
        created = upload(api, sample60, f"clone-bench-{i}")
        created.raise_for_status()
        # Under the "immediate" transition this GET returns the moment the worker commits: no poll interval.
        model = api.get(f"/v1/models/{created.json()['model_id']}").json()
        times.append(time.perf_counter() - t)
        assert model["status"] == "ready", model
    return Row(
        "clone a 60 s MP3 sample, upload to ready", median(times), "s", "<= 3 s",
        f"upload + checks + profile + demo sample, median of {runs} ({', '.join(f'{x:.2f}' for x in times)})",
    )


def bench_memory(server: ServerProcess, api: httpx.Client, big_wav: bytes, junk: bytes) -> list[Row]:
    rows = []
    for label, data, filename, until_ready in [
        ("10 MB non-audio upload (streamed, then refused 415)", junk, "junk.mp3", False),
        # "To ready" first: the first clone of a long sample is the one that raises the
        # peak; a repeat reuses what the worker's previous clone freed.
        ("10 MB WAV upload (5 min of speech), to ready", big_wav, "long.wav", True),
        ("10 MB WAV upload (5 min of speech), to 201", big_wav, "long.wav", False),
    ]:
        before = server.memory_kb("VmRSS")
        server.reset_peak()
        r = upload(api, data, "memory", filename)
        if until_ready and r.status_code == 201:
            api.get(f"/v1/models/{r.json()['model_id']}")
        peak = server.memory_kb("VmHWM")
        added = (peak - before) * 1024
        if r.status_code == 201 and not until_ready:
            # Let this model's clone finish before the next row: its baseline must not
            # include a clone still running, nor its peak the end of this one.
            api.get(f"/v1/models/{r.json()['model_id']}")
        rows.append(
            Row(
                f"peak memory added: {label}", added / len(data), "x", "<= ~2x the file",
                f"{added / MB:.1f} MB over {before / 1024:.0f} MB resident, file {len(data) / MB:.1f} MB, HTTP {r.status_code}",
            )
        )
    return rows


def bench_refusal(server: ServerProcess) -> list[Row]:
    parts = urlsplit(server.base_url)
    boundary = "benchboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="big.mp3"\r\n\r\n'.encode()
    rows = []
    # 1. Declared: Content-Length says 11 MB.
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        t = time.perf_counter()
        sock.sendall(
            f"POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {11 * MB}\r\n\r\n".encode()
        )
        status = sock.recv(64).split(b" ")[1].decode()
        rows.append(Row("11 MB upload with Content-Length: body bytes read before the refusal", 0, "MB", "refused early",
                        f"HTTP {status} after the headers alone, in {(time.perf_counter() - t) * 1000:.1f} ms"))
    # 2. Streamed (chunked, no length), paced at 20 MB/s so that socket buffers do not run ahead of
    #    the server: what had been sent when the 413 came back is about what the server had read.
    before = server.memory_kb("VmRSS")
    server.reset_peak()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            f"POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
        block = os.urandom(64 * 1024)
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        pace = len(block) / (20 * MB)
        sent, answer, t0 = 0, b"", time.perf_counter()
        while not answer and sent < 11 * MB:
            sock.sendall(frame)
            sent += len(block)
            readable, _, _ = select.select([sock], [], [], max(0.0, t0 + sent / len(block) * pace - time.perf_counter()))
            if readable:
                answer = sock.recv(64)
        finished = sent >= 11 * MB
        answer = answer or sock.recv(64)
        added = (server.memory_kb("VmHWM") - before) / 1024
        status = answer.split(b" ")[1].decode()
    rows.append(
        Row(
            "11 MB chunked upload: MB sent when the refusal arrived", sent / MB, "MB", "~10 MB, not 11",
            f"HTTP {status}, {'after' if finished else 'before'} the whole body was sent (paced at 20 MB/s); "
            f"peak memory added {added:.1f} MB: the stream is never held in memory",
        )
    )
    return rows


def bench_throughput(server: ServerProcess, model_id: str, voice_id: str, seconds: float = 4.0, clients: int = 8) -> list[Row]:
    def run(make_request) -> tuple[float, int]:  # type: ignore[no-untyped-def]
        done, errors = [0] * clients, [0] * clients
        stop = time.perf_counter() + seconds

        def worker(n: int) -> None:
            with server.http() as api:
                while time.perf_counter() < stop:
                    r = make_request(api)
                    if r.status_code == 200:
                        done[n] += 1
                    else:
                        errors[n] += 1

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return sum(done) / (time.perf_counter() - t), sum(errors)

    get_rate, get_errors = run(lambda api: api.get(f"/v1/models/{model_id}"))
    tts_rate, tts_errors = run(lambda api: api.post("/v1/text-to-speech", json={"text": "Hello there, how are you today?", "voice": voice_id}))
    return [
        Row(f"GET /v1/models/{{id}}, {clients} concurrent clients", get_rate, "req/s", "(rate)", f"{seconds:.0f} s run, {get_errors} errors"),
        Row(f"short TTS (cloned voice, MP3), {clients} concurrent clients", tts_rate, "req/s", "(rate)", f"{seconds:.0f} s run, {tts_errors} errors"),
    ]


def run() -> list[Row]:
    sample60 = speech_file("mp3", 60.0)
    big_wav = speech_file("wav", 300.0, rate=16_000)  # 5 min at 16 kHz, 16-bit: ~9.6 MB, passes every check
    junk = os.urandom(10 * MB)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess("--data-dir", tmp, "--transition", "immediate")
        try:
            with server.http() as api:
                warm = upload(api, sample60, "warm-up")  # first clone pays the one-time engine costs
                warm.raise_for_status()
                model = api.get(f"/v1/models/{warm.json()['model_id']}").json()
                rows += bench_tts(api, model["voice_id"], sample60)
                rows.append(bench_clone(api, sample60))
                rows += bench_memory(server, api, big_wav, junk)
                rows += bench_refusal(server)
                rows += bench_throughput(server, model["model_id"], model["voice_id"])
        finally:
            server.stop()
    return rows


if __name__ == "__main__":
    print_rows("Local server", run())
