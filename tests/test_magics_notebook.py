"""One real notebook, executed by nbclient in a python3 kernel against the local server:
its outputs must hold the inline players and the DataFrame's HTML."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from speechgen_jupyter.local import LocalServer

pytest_plugins = ["magics_env"]

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics_end_to_end.ipynb"


def html_of(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))


def test_the_notebook_runs_and_shows_players_and_tables(
    server: LocalServer, sample_mp3: bytes, tmp_path: Path, monkeypatch
) -> None:
    sample = tmp_path / "sample.mp3"
    sample.write_bytes(sample_mp3)
    # The kernel inherits this environment: the shared client it builds speaks to the test server.
    monkeypatch.setenv("SPEECHGEN_BASE_URL", server.base_url)
    monkeypatch.setenv("SPEECHGEN_API_KEY", server.api_key)
    monkeypatch.setenv("SPEECHGEN_TEST_SAMPLE", str(sample))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    by_source = {c.source.splitlines()[0]: c for c in code}
    speech_html = html_of(by_source["%%speechgen hello <<"])
    assert "<audio" in speech_html and "data:audio/mpeg;base64," in speech_html
    models_html = html_of(by_source["%speechgen models"])
    assert "<table" in models_html and "Notebook voice" in models_html and "<audio" in models_html
    batch_html = html_of(next(c for c in code if "speak_column(df" in c.source))
    assert batch_html.count("<audio") == 3 and "<table" in batch_html
    assert server.api_key not in nbformat.writes(nb)  # the key never lands in the notebook
