"""Speech cache benchmarks (issue 12): what a re-run asks the server, and what a hit costs.

- Re-running a notebook top to bottom a second time, each run in a fresh kernel (nbclient), both
  runs keeping their speech cache in one folder, against one local server (its own process, admin
  on): the text-to-speech requests that reach the server on the second run, counted by the server.
  A notebook as a user keeps one (`%%speechgen` cells, a streamed long text, `speak_column`, the
  client, all with voices that exist before the run): aim 0. And the tutorials 01, 04 and 05 for the
  record: each clones the voices it speaks with on every run (on a page-only server nothing else is
  guaranteed to exist), and speech of a voice cloned a moment ago is new speech, so those requests
  are inherent to the tutorials, not misses of the cache.
- A cache hit against the request it saves, for a ~10 s clip: median milliseconds of
  `Client.text_to_speech` from the cache and with `cache=False` (aim: a hit under 10 ms).

Run: python -m benchmarks.bench_cache
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = ("01_quickstart", "04_batch_speech_from_a_dataframe", "05_the_client_from_python")
TEN_SECONDS = (
    "The cache keeps what the service already said, so that running a cell again costs nothing at all, "
    "neither a request nor a character billed, and the sound is there at once."
)

_USER_NOTEBOOK = [
    "%load_ext speechgen_jupyter\nimport pandas as pd\nimport speechgen_jupyter as sg\n"
    "from speechgen_jupyter.local.engine.texts import READING_PASSAGES\n"
    "VOICE = next(v.voice_id for v in sg.get_client().list_voices() if v.kind == 'builtin')",
    "%%speechgen --voice {VOICE}\nGood morning. This is the first cell of my notebook.",
    "%%speechgen greeting << --voice {VOICE}\nA second cell, kept in a variable.",
    "CHAPTER = ' '.join(READING_PASSAGES)",
    "%%speechgen --voice {VOICE}\n{CHAPTER}",
    "rows = pd.DataFrame({'text': [f'Line {i} of the table, spoken in a batch.' for i in range(20)]})\n"
    "spoken = sg.speak_column(rows, 'text', voice=VOICE, progress=False)\nspoken.error.isna().all()",
    "sg.get_client().text_to_speech('And one from Python.', VOICE).duration",
]


def _run_notebook(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()


def _tts_requests(admin: Any) -> int:
    return int(admin.get("/_admin/requests").json()["counts"].get("POST /v1/text-to-speech", 0))


def _clones(admin: Any) -> int:
    return int(admin.get("/_admin/requests").json()["counts"].get("POST /v1/voice-clone", 0))


def rerun_counts(base_url: str, key: str, admin: Any) -> dict[str, tuple[int, int, int]]:
    """Per notebook: (TTS requests on the first run, on the second, clones on the second)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    saved = {k: os.environ.get(k) for k in ("SPEECHGEN_BASE_URL", "SPEECHGEN_API_KEY", "SPEECHGEN_CACHE_DIR", "SPEECHGEN_DATA_DIR")}
    os.environ.update(SPEECHGEN_BASE_URL=base_url, SPEECHGEN_API_KEY=key,
                      SPEECHGEN_CACHE_DIR=str(work / "cache"), SPEECHGEN_DATA_DIR=str(work / "data"))
    notebooks: dict[str, Path] = {}
    user = new_notebook(cells=[new_code_cell(c) for c in _USER_NOTEBOOK])
    user.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    (work / "user").mkdir()
    nbformat.write(user, work / "user" / "user.ipynb")
    notebooks["a user's notebook"] = work / "user" / "user.ipynb"
    for name in TUTORIALS:
        (work / name).mkdir()
        notebooks[name] = Path(shutil.copy(REPO / "notebooks" / f"{name}.ipynb", work / name / f"{name}.ipynb"))
    counts: dict[str, tuple[int, int, int]] = {}
    try:
        for name, path in notebooks.items():
            before = _tts_requests(admin)
            _run_notebook(path)
            first = _tts_requests(admin) - before
            before, clones = _tts_requests(admin), _clones(admin)
            _run_notebook(path)  # again, in a fresh kernel: a restart and Run All
            counts[name] = (first, _tts_requests(admin) - before, _clones(admin) - clones)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(work, ignore_errors=True)
    return counts


def hit_latency(client: sg.Client, voice: str, runs: int = 30) -> tuple[list[float], list[float], float]:
    speech = client.text_to_speech(TEN_SECONDS, voice)  # stored
    hits, requests = [], []
    for i in range(runs):
        t = time.perf_counter()
        client.text_to_speech(TEN_SECONDS, voice)
        hits.append((time.perf_counter() - t) * 1000)
        if i % 3 == 0:  # fewer requests: each costs the server real synthesis
            t = time.perf_counter()
            client.text_to_speech(TEN_SECONDS, voice, cache=False)
            requests.append((time.perf_counter() - t) * 1000)
    return hits, requests, float(speech.duration or 0.0)


def run() -> list[Row]:
    rows: list[Row] = []
    with server_process("--admin", "--transition", "immediate") as server:
        admin = server.http()
        counts = rerun_counts(server.base_url, server.api_key, admin)
        directory = tempfile.mkdtemp(prefix="bench-cache-hits-")
        with sg.Client(api_key=server.api_key, base_url=server.base_url, cache=sg.SpeechCache(directory)) as client:
            voice = next(v.voice_id for v in client.list_voices() if v.kind == "builtin")
            hits, requests, seconds = hit_latency(client, voice)
        shutil.rmtree(directory, ignore_errors=True)
        admin.close()
    first, second, _ = counts["a user's notebook"]
    rows.append(Row(
        "re-running a notebook a second time (fresh kernel): TTS requests reaching the server", second, "requests", "<= 0",
        "a notebook of %%speechgen cells (one a streamed 1,500-character text), "
        f"a 20-row speak_column and a client call; first run {first} requests, counted by the server",
    ))
    for name in TUTORIALS:
        first, second, clones = counts[name]
        rows.append(Row(
            f"re-running tutorial {name[:2]} a second time: TTS requests reaching the server", second, "requests", "(inherent)",
            f"first run {first}; the re-run cloned its {clones} voice(s) anew and every request speaks with one of them "
            "(new voices: new speech; see the report)",
        ))
    rows.append(Row(
        f"cache hit, a {seconds:.0f} s clip", median(hits), "ms", "< 10 ms",
        f"median of {len(hits)} Client.text_to_speech answered from the cache (max {max(hits):.1f} ms); "
        f"the request it saves: {median(requests):.0f} ms (median of {len(requests)}), {median(requests) / median(hits):.0f}x longer",
    ))
    return rows


def main() -> None:
    print_rows("Speech cache (issue 12)", run())


if __name__ == "__main__":
    main()
