"""The tutorials in notebooks/, run as a newcomer runs them: top to bottom, no API key, local server.

Every tutorial runs under `pytest --nbval` (stored outputs compared, after tests/nbval_sanitize.cfg
removes ids, ports, times and embedded audio; cells tagged `nbval-ignore-output` are only run), twice:
against the full local server, and unchanged against one with only what Speechgen's page documents
(no model or voice listing), where the same stored outputs must come out; only the cells that show a
listing are tagged to differ. The runs are shared with the secrets test (see tests/tutorials.py).
Then each executed notebook is checked for what the tutorial is there to show: players, tables,
waveforms, the real error messages.

To refresh the committed outputs after changing a tutorial, run it for real from notebooks/ with no
SPEECHGEN_API_KEY set, e.g. `jupyter nbconvert --to notebook --execute --inplace notebooks/0*.ipynb`.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from tutorials import TUTORIALS, TutorialSession

pytest_plugins = ["tutorial_runs"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the first test runs every tutorial
MODES = ["full", "page-only"]

BY_NAME = {p.stem: p for p in TUTORIALS}
EXPECTED = {
    "01_quickstart",
    "02_cloning_a_voice",
    "03_widgets_and_the_studio",
    "04_batch_speech_from_a_dataframe",
    "05_the_client_from_python",
    "06_when_things_fail",
}


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def outputs_text(cell: Any) -> str:
    """Everything a cell showed, as text (stream text, every mime type's data, error messages)."""
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        for value in out.get("data", {}).values():
            parts.append(value if isinstance(value, str) else json.dumps(value))
        if out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(parts)


def executed(runs: TutorialSession, name: str) -> Any:
    run = runs.runs[name]
    assert run.executed is not None, f"nbval kept no executed copy of {name}:\n{runs.log[-3000:]}"
    return nbformat.read(run.executed, as_version=4)


def cell_with(nb: Any, snippet: str) -> Any:
    found = [c for c in code_cells(nb) if snippet in c.source]
    assert len(found) == 1, f"expected one cell containing {snippet!r}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------------------------- the series


def test_the_series_is_all_there() -> None:
    assert set(BY_NAME) == EXPECTED


@pytest.mark.parametrize("notebook", TUTORIALS, ids=lambda p: p.stem)
def test_committed_notebook_was_run_top_to_bottom_for_real(notebook: Path) -> None:
    """Stored executed: every code cell ran, in order, in one kernel, and none failed unexpectedly."""
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" not in cell.metadata.get("tags", []):
            assert not errors, f"{notebook.name}: an error is stored in\n{cell.source}"
    assert any(c.outputs for c in cells)
    assert nb.metadata.kernelspec.name == "python3"


@pytest.fixture(params=MODES)
def runs(request: pytest.FixtureRequest) -> TutorialSession:
    """The nbval run of every tutorial against the full local server, then against a page-only one."""
    name = "tutorial_runs" if request.param == "full" else "page_only_tutorial_runs"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("notebook", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_passes_nbval_against_the_local_server(notebook: Path, runs: TutorialSession) -> None:
    run = runs.runs[notebook.stem]
    ran = [c for c in run.cells if c["when"] == "call"]
    assert len(ran) == len(code_cells(nbformat.read(notebook, as_version=4))), runs.log[-3000:]
    problems = "\n\n".join(f"{c['nodeid']} ({c['when']}):\n{c['message']}" for c in run.failures)
    assert not run.failures, problems


def test_no_voice_id_or_key_is_hard_coded_in_the_tutorials() -> None:
    """They must run unchanged against the real service: voices come from a clone they make."""
    from speechgen_jupyter.local.engine import builtin_voices

    builtin = [v.voice_id for v in builtin_voices()]
    for notebook in TUTORIALS:
        for cell in code_cells(nbformat.read(notebook, as_version=4)):
            for line in cell.source.splitlines():
                # Only the offline engine that makes a sample may name one of its own voices.
                if any(v in line for v in builtin):
                    assert "synthesize(" in line, f"{notebook.name}: hard-coded voice in {line!r}"
                assert not re.search(r"\bvm_[0-9a-f]{20}\b|\bcustom-[0-9a-f]{16}\b", line), line
                assert not re.search(r"sg_local_\w{20,}|Bearer\s+\w", line), line


# ---------------------------------------------------------------------------------- what each shows


def test_quickstart_makes_a_voice_then_shows_voices_and_players(runs: TutorialSession) -> None:
    nb = executed(runs, "01_quickstart")
    page_only = runs.page_only
    cloned = outputs_text(cell_with(nb, "%speechgen clone my_voice.mp3"))
    assert "no SPEECHGEN_API_KEY set, so using the local Speechgen server" in cloned and "http://127.0.0.1:" in cloned
    assert "is ready: speak with --voice custom-" in cloned
    voices = outputs_text(cell_with(nb, "%speechgen voices"))
    assert "<table" in voices and "custom" in voices and "data:audio/mpeg;base64," in voices  # the clone plays its sample
    if page_only:  # no voice listing: your clone only, and one quiet line saying why
        assert "builtin" not in voices and "(This server has no model or voice listing" in voices
    else:
        assert "builtin" in voices and "This server has no" not in voices
    spoken = [c for c in code_cells(nb) if c.source.startswith("%%speechgen")]
    assert len(spoken) == 3 and all("data:audio/mpeg;base64," in outputs_text(c) for c in spoken)
    assert "{like this}" in outputs_text(cell_with(nb, "print(hello.text)"))
    assert (runs.runs["01_quickstart"].workdir / "hello.mp3").stat().st_size > 1000


def test_cloning_shows_the_sample_without_embedding_it(runs: TutorialSession) -> None:
    run = runs.runs["02_cloning_a_voice"]
    nb = executed(runs, "02_cloning_a_voice")
    waveform = cell_with(nb, "ax.plot(seconds, samples")
    assert any("image/png" in o.get("data", {}) for o in waveform.outputs)
    player = outputs_text(cell_with(nb, "Audio(url=SAMPLE.name)"))
    assert '<source src="my_voice_sample.mp3"' in player and "base64" not in player
    report = outputs_text(cell_with(nb, "report = sg.check_sample(SAMPLE)"))
    assert "Sample report for my_voice_sample.mp3" in report and 'data-check="start" data-level="advice"' in report
    assert "{'speech': 'advice', 'start': 'advice', 'end': 'advice'}" in outputs_text(cell_with(nb, "print(report.verdict)"))
    assert "silence trimmed" in outputs_text(cell_with(nb, "ready = sg.prepare_sample"))
    # What was cloned is the prepared sample (a mono WAV, trimmed), not the padded recording.
    (sent,) = run.uploads
    assert sent[:4] == b"RIFF" and len(sent) != (run.workdir / "my_voice_sample.mp3").stat().st_size
    waited = cell_with(nb, "%speechgen wait")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in waited.outputs)  # progress
    assert "is ready: speak with --voice custom-" in outputs_text(waited)
    samples = outputs_text(cell_with(nb, "%speechgen samples"))
    assert "Default Sample" in samples and "data:audio/mpeg;base64," in samples
    assert "voice custom-" in outputs_text(cell_with(nb, "%%speechgen --voice {model.voice_id}"))
    assert "Deleted vm_" in outputs_text(cell_with(nb, "%speechgen delete"))
    assert "Gone:" in outputs_text(cell_with(nb, "except sg.NotFoundError"))


def test_batch_shows_a_table_of_players_and_marks_the_empty_row(runs: TutorialSession) -> None:
    run = runs.runs["04_batch_speech_from_a_dataframe"]
    nb = executed(runs, "04_batch_speech_from_a_dataframe")
    table = outputs_text(next(c for c in code_cells(nb) if c.source.strip() == "spoken"))
    assert "<table" in table and table.count("<audio") == 3
    failed = outputs_text(cell_with(nb, "spoken.error.notna()"))
    assert "InvalidInputError: There is no text in this row." in failed
    assert sorted(p.name for p in (run.workdir / "dialogue").iterdir()) == [
        "00-guide.mp3", "01-visitor.mp3", "02-guide.mp3",
    ]
    assert "base64" not in outputs_text(cell_with(nb, "to_csv"))
    assert "Guide ready | Visitor ready" in outputs_text(cell_with(nb, "guide, visitor = ("))
    assert outputs_text(cell_with(nb, "client.delete_model(model.model_id)")).strip() == "[]"  # both gone, from both lists


def test_client_notebook_shows_sync_async_errors_and_numpy(runs: TutorialSession) -> None:
    nb = executed(runs, "05_the_client_from_python")
    assert "api_key=<redacted>" in outputs_text(cell_with(nb, "client = sg.get_client()"))
    assert "Secret('<redacted>')" in outputs_text(cell_with(nb, "patient = sg.Client("))
    assert "ask for format='wav'" in outputs_text(cell_with(nb, 'speech.save("plain_python.wav")'))
    numpy_cell = cell_with(nb, "wav.to_numpy()")
    assert "at 22050 Hz" in outputs_text(numpy_cell) or "Hz:" in outputs_text(numpy_cell)
    assert any("image/png" in o.get("data", {}) for o in numpy_cell.outputs)
    assert "NotFoundError → 404" in outputs_text(cell_with(nb, '"no-such-voice"'))
    assert outputs_text(cell_with(nb, "async with client.to_async()")).count(" s  ") == 3
    assert "ready custom-" in outputs_text(cell_with(nb, "model = client.wait_for_model(model)"))
    # Listed on either server: from the listing, or from this computer's record of the models made here.
    assert outputs_text(cell_with(nb, "client.list_models()")) == "['Python voice']\n[]\n"


def test_failure_notebook_shows_the_real_messages(runs: TutorialSession) -> None:
    nb = executed(runs, "06_when_things_fail")
    text = "\n".join(outputs_text(c) for c in code_cells(nb))
    for shown in [
        "AudioValidationError: hello.mp3 is",
        "UnsupportedMediaTypeError: notes.mp3 is not audio",
        "HTTP 422, code 'no_speech'",
        "AuthenticationError: The API key is wrong",
        "NotFoundError: No voice model with that id",
        "UsageError: No voice model with that id",
        "Retrying POST /v1/text-to-speech in 1.00 s after HTTP 429 (retry 2 of 2)",
        "RateLimitError: Too many requests",
        "retry_after 1.0 s",
        "sentence 5:",
        "TimeoutError: The Speechgen server at http://127.0.0.1:",
        "is still 'processing' after 2 s",
        "ModelFailedError: Voice model vm_",
        "status now: failed",
    ]:
        assert shown in text
    assert "Skipped:" not in text
    assert "not-a-real-key" not in text.replace('api_key="not-a-real-key"', "")


def test_studio_notebook_shows_the_studio_and_drives_it(runs: TutorialSession) -> None:
    nb = executed(runs, "03_widgets_and_the_studio")
    studio = cell_with(nb, "studio = sg.studio()")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in studio.outputs)
    assert "<Studio http://127.0.0.1:" in outputs_text(studio)
    assert "ready to clone" in outputs_text(cell_with(nb, "studio.upload.set_sample("))
    assert "ready True" in outputs_text(cell_with(nb, "studio.upload.clone()"))
    spoke = outputs_text(cell_with(nb, "picked = studio.voice.value"))
    assert "picked the new voice: True" in spoke and "<Speech MP3" in spoke and "voice custom-" in spoke
    player = cell_with(nb, "AudioPlayer(client.text_to_speech(")
    assert "<AudioPlayer MP3" in outputs_text(player) and "voice custom-" in outputs_text(player)
    # The studio's state is saved with the notebook (so it shows when reopened), minus the sample.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = {m["model_name"] for m in state.values()}
    assert {"FileUploadModel", "AnyModel", "TextareaModel", "DropdownModel"} <= names
    run = runs.runs["03_widgets_and_the_studio"]
    assert len(run.uploads) == 1 and run.uploads[0][:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


# ------------------------------------------------------------------ on the real service, unchanged


def _outward_address() -> str | None:
    """An address of this machine that is not loopback (how a real service looks to the notebooks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the OS only picks a route
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_local_only_cells_skip_themselves_when_connected_to_a_real_service(tmp_path: Path, monkeypatch) -> None:
    """With a key for a server that is not on loopback, fault injection and state control step aside."""
    from speechgen_jupyter.local import start

    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to stand in for the real service")
    with start(host=address) as remote:
        monkeypatch.setenv("SPEECHGEN_BASE_URL", remote.base_url)
        monkeypatch.setenv("SPEECHGEN_API_KEY", remote.api_key)
        nb = nbformat.read(BY_NAME["06_when_things_fail"], as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(outputs_text(c) for c in code_cells(nb))
    local_only = [c for c in code_cells(nb) if "if ON_LOCAL_SERVER:" in c.source]
    assert len(local_only) == 6
    for cell in local_only:
        assert outputs_text(cell).strip().endswith("(you are connected to the real Speechgen service).")
    # What works on any server still ran: the client's own checks, a wrong key, an unknown model.
    assert "AudioValidationError: hello.mp3 is" in text and "AuthenticationError:" in text
    assert "no SPEECHGEN_API_KEY set" not in text and remote.api_key not in nbformat.writes(nb)


# ---------------------------------------------------------------------------------- the README


def test_readme_commands_and_links_are_real() -> None:
    """The README's two commands, its links and its picture point at things that exist."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    setup = next(b for b in blocks if "jupyter lab" in b)
    extra = re.search(r'-e "\.\[(\w+)\]"', setup).group(1)
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extra in extras and any(d.startswith("jupyterlab") for d in extras[extra])
    assert "notebooks/" in setup and (root / "notebooks").is_dir()
    assert any(b.strip() == "bash .ci/run" for b in blocks)
    assert (root / ".ci" / "run").is_file()
    for target in re.findall(r"\]\(((?:notebooks|docs)/[^)]+)\)", readme):
        assert (root / target).is_file(), target
    assert {f"notebooks/{p.name}" for p in TUTORIALS} <= set(re.findall(r"\((notebooks/[^)]+)\)", readme))
    badge = re.search(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+)/HEAD\?urlpath=lab/tree/(\S+?)\)", readme)
    assert badge and (root / badge.group(2)).is_file()
