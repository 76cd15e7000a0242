"""Sample report benchmark (issue 13): how long `sg.check_sample` takes, as a share of the sample's length,
and how long the widget's report for a new selection takes.

Samples are real engine speech encoded as MP3 (what users upload most),
60 s and 5 minutes long. "Cold" is the first report in a fresh process
(it imports PyAV, Silero, Praat, pyloudnorm and loads Silero's model);
"warm" is the median of the next three, what every later sample costs.
The selection row is `SampleAnalysis.report(start, end)` on the 5-minute
sample, what runs (in a thread) each time a handle is released.

Run: python -m benchmarks.bench_samples
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._report import Row, median, print_rows

REPO = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import json, sys, time
sys.path.insert(0, {tests!r})
import numpy as np
from media import encode, speech
x, rate = speech(60.0, sample_rate=22050)
files = {{60: encode(x, "mp3", rate), 300: encode(np.tile(x, 5), "mp3", rate)}}
import speechgen_jupyter as sg
from speechgen_jupyter.samples import analyse
out = {{}}
for seconds, data in files.items():
    times = []
    for _ in range(4):
        t = time.perf_counter(); sg.check_sample(data); times.append(time.perf_counter() - t)
    out[seconds] = times
analysis = analyse(files[300])
sel = []
for a in (12.5, 40.0, 71.3):
    t = time.perf_counter(); analysis.report(a, a + 150.0); sel.append(time.perf_counter() - t)
out["selection"] = sel
print(json.dumps(out))
"""


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as work:
        code = _MEASURE.format(tests=str(REPO / "tests"))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=work)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = []
    for seconds, label in ((60, "60 s"), (300, "5 min")):
        times = out[str(seconds)]
        warm = median(times[1:])
        rows.append(
            Row(
                f"sample report, {label} MP3 (warm)", warm / seconds, "of its length", "< 0.05",
                f"median of 3 after the first, {warm:.2f} s; decode once at 16 kHz, Silero, Praat pitch, pyloudnorm",
            )
        )
        if seconds == 60:
            rows.append(
                Row(
                    f"sample report, {label} MP3 (cold: first in a process)", times[0] / seconds, "of its length", "(for scale)",
                    f"{times[0]:.2f} s, including importing the audio stack and loading Silero",
                )
            )
    rows.append(
        Row(
            "report for a new selection (2:30 of the 5 min sample)", median(out["selection"]) * 1000, "ms", "(rate)",
            "SampleAnalysis.report(start, end): slices the measured windows, loudness measured again",
        )
    )
    return rows


def main() -> None:
    print_rows("Sample report (issue 13)", run())


if __name__ == "__main__":
    main()
