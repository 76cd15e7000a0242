"""No tutorial, executed or committed, holds an API key or the bytes of a sample it uploaded.

A notebook is shared as a file: whatever its outputs and its saved widget state hold goes with it.
The key must never be there, and neither may a user's voice sample (personal data): players of
*generated* speech embed their audio, which is fine, but the uploaded recording must not ride along,
whether as a player, a FileUpload's saved value or anything else.

The executed copies come from the one nbval run of the tutorials (tests/tutorials.py): for each,
the kernel reported every key it held and the bytes of every sample the client uploaded. The scanner
is proven able to fail by planting a key and a sample in copies.
"""

from __future__ import annotations

import base64
import json
import re

import nbformat
import pytest
from tutorials import TUTORIALS, TutorialSession, scan_notebook

pytest_plugins = ["tutorial_runs"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the first test runs every tutorial

# What the repository's own hooks refuse, and the shape of the local server's development keys.
KEY_PATTERNS = [
    re.compile(r"Bearer\s+[A-Za-z0-9._~+/-]{8,}"),
    re.compile(r"SPEECHGEN_API_KEY\s*=\s*[\"'][^\"']+[\"']"),
    re.compile(r"sg_local_[A-Za-z0-9_-]{16,}"),
]


def test_every_executed_tutorial_is_free_of_keys_and_uploads(tutorial_runs: TutorialSession) -> None:
    assert set(tutorial_runs.runs) == {p.stem for p in TUTORIALS}
    for name, run in tutorial_runs.runs.items():
        assert run.executed is not None, f"{name} was not executed:\n{tutorial_runs.log[-2000:]}"
        assert run.keys, f"{name}: the kernel reported no key, so the scan would prove nothing"
        text = run.executed.read_text()
        assert scan_notebook(text, run.keys, run.uploads) == [], name
        assert not [p.pattern for p in KEY_PATTERNS if p.search(text)], name


def test_the_page_only_run_is_free_of_keys_and_its_record_holds_none(page_only_tutorial_runs: TutorialSession) -> None:
    """Against a page-only server the models listed are this computer's record: the kernels wrote it, without a key."""
    keys = sorted({k for run in page_only_tutorial_runs.runs.values() for k in run.keys})
    assert keys
    for name, run in page_only_tutorial_runs.runs.items():
        assert run.executed is not None, f"{name} was not executed:\n{page_only_tutorial_runs.log[-2000:]}"
        assert scan_notebook(run.executed.read_text(), run.keys, run.uploads) == [], name
    record = next(iter(page_only_tutorial_runs.runs.values())).workdir.parent / "_user" / "data"
    files = [p for p in record.iterdir() if p.name.startswith("models.sqlite3")]
    assert files, "the kernels kept no record of the models they made"
    written = b"".join(p.read_bytes() for p in files)
    assert not [k for k in keys if k.encode() in written]


def test_the_tutorials_that_upload_were_watched_uploading(tutorial_runs: TutorialSession) -> None:
    """The upload scan is not vacuous: the cloning and failure tutorials' uploads were recorded."""
    cloning = tutorial_runs.runs["02_cloning_a_voice"]
    (sent,) = cloning.uploads  # the sample prepared from my_voice_sample.mp3 (trimmed, as WAV)
    assert sent[:4] == b"RIFF" and len(sent) > 100_000
    assert len(tutorial_runs.runs["06_when_things_fail"].uploads) >= 3


def test_every_committed_tutorial_is_free_of_keys_and_uploads(tutorial_runs: TutorialSession) -> None:
    """The committed notebooks were run with other keys: look for any key's shape, and this run's samples
    (the tutorials make the same samples each run), and FileUpload content in saved widget state."""
    keys = sorted({k for run in tutorial_runs.runs.values() for k in run.keys})
    uploads = [u for run in tutorial_runs.runs.values() for u in run.uploads]
    for notebook in TUTORIALS:
        text = notebook.read_text()
        assert scan_notebook(text, keys, uploads) == [], notebook.name
        assert not [p.pattern for p in KEY_PATTERNS if p.search(text)], notebook.name


# ----------------------------------------------------------------------- the scanner can fail


@pytest.fixture
def cloning(tutorial_runs: TutorialSession):
    run = tutorial_runs.runs["02_cloning_a_voice"]
    assert run.executed is not None and run.uploads and run.keys
    return run


def _with_output(nb: nbformat.NotebookNode, output: dict) -> str:
    nb = json.loads(nbformat.writes(nb))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"].append(output)
    return json.dumps(nb, indent=1)


def test_scanner_finds_a_planted_key(cloning) -> None:
    nb = nbformat.read(cloning.executed, as_version=4)
    key = cloning.keys[0]
    planted = _with_output(nb, {"output_type": "stream", "name": "stdout", "text": f"my key is {key}\n"})
    assert scan_notebook(planted, cloning.keys, cloning.uploads) == [f"the API key {key[:6]}... is in the notebook"]
    assert KEY_PATTERNS[2].search(planted)


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_scanner_finds_a_planted_sample_player(cloning, offset: int) -> None:
    """The uploaded sample embedded in a player, alone or inside a bigger blob at any alignment."""
    nb = nbformat.read(cloning.executed, as_version=4)
    sample = cloning.uploads[0]
    blob = b"\x00" * offset + sample + b"tail"
    encoded = base64.b64encode(blob).decode("ascii")
    html = f'<audio controls src="data:audio/mpeg;base64,{encoded}"></audio>'
    planted = _with_output(nb, {"output_type": "display_data", "metadata": {}, "data": {"text/html": html}})
    findings = scan_notebook(planted, cloning.keys, cloning.uploads)
    assert findings == [f"the bytes of uploaded sample #0 ({len(sample)} bytes) are embedded in the notebook"]


def test_scanner_finds_a_file_upload_value_in_saved_widget_state(cloning) -> None:
    nb = json.loads(cloning.executed.read_text())
    state = {
        "version_major": 2,
        "version_minor": 0,
        "state": {
            "f" * 32: {
                "model_name": "FileUploadModel",
                "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0",
                "state": {"value": [{"name": "me.wav", "type": "audio/wav", "size": 4}]},
                "buffers": [{"encoding": "base64", "path": ["value", 0, "content"], "data": "AAAAAA=="}],
            }
        },
    }
    nb.setdefault("metadata", {})["widgets"] = {"application/vnd.jupyter.widget-state+json": state}
    findings = scan_notebook(json.dumps(nb), cloning.keys, cloning.uploads)
    assert findings == [f"the saved widget state keeps a FileUpload's file content (model {'f' * 32})"]


def test_scanner_passes_generated_speech(cloning) -> None:
    """Players of generated speech are what the tutorials are for: they are not findings."""
    text = cloning.executed.read_text()
    assert "data:audio/mpeg;base64," in text
    assert scan_notebook(text, cloning.keys, cloning.uploads) == []
