"""The tutorial notebooks, run once per test session under nbval, for every test that needs them.

`run_tutorials` (behind the session fixtures in tests/tutorial_runs.py) runs `pytest --nbval` with
the sanitizer file on a copy of each tutorial, each in its own working directory, with no
SPEECHGEN_API_KEY (so the kernel starts the bundled local server, as a newcomer's does), and with
data and cache folders of the run's own. With `page_only=True` that server offers only what
Speechgen's page documents (SPEECHGEN_LOCAL_PAGE_ONLY=1): the same committed outputs must come
out, which is what "the tutorials run unchanged against the real service" can be proved by here.
The `nbval_capture` plugin keeps the executed notebooks and what the kernels held. Both
tests/test_notebooks.py and tests/test_no_secrets_in_notebooks.py read those runs.

`scan_notebook` is the secrets scanner the secrets test applies (and proves able to fail).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZER = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
CAPTURE_PLUGIN = Path(__file__).resolve().parent / "nbval_capture.py"
TUTORIALS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
NBVAL_TIMEOUT = 540  # seconds for the whole nbval run of every tutorial (under the tests' 600 s timeout)


@dataclass
class TutorialRun:
    name: str
    committed: Path
    executed: Path | None
    workdir: Path
    cells: list[dict[str, Any]]
    keys: list[str] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [c for c in self.cells if c["outcome"] == "failed"]


@dataclass
class TutorialSession:
    runs: dict[str, TutorialRun]
    log: str
    returncode: int
    page_only: bool = False


def run_tutorials(work: Path, notebooks: Iterable[Path] = TUTORIALS, *, page_only: bool = False) -> TutorialSession:
    """Run `pytest --nbval` on copies of `notebooks` under `work`; collect what nbval_capture kept."""
    notebooks = list(notebooks)
    captured = work / "_captured"
    plugin_dir = work / "_plugin"
    captured.mkdir(parents=True)
    plugin_dir.mkdir()
    shutil.copy(CAPTURE_PLUGIN, plugin_dir / CAPTURE_PLUGIN.name)
    copies = []
    for notebook in notebooks:
        folder = work / notebook.stem
        folder.mkdir()
        copies.append(shutil.copy(notebook, folder / notebook.name))
        if (NOTEBOOKS / "images").is_dir():
            shutil.copytree(NOTEBOOKS / "images", folder / "images")
    (work / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHGEN_")}
    # The kernels remember the models they make (the record): in folders of this run, never the user's.
    env["SPEECHGEN_DATA_DIR"] = str(work / "_user" / "data")
    env["SPEECHGEN_CACHE_DIR"] = str(work / "_user" / "cache")
    if page_only:
        env["SPEECHGEN_LOCAL_PAGE_ONLY"] = "1"
    # Every tutorial clones: with no fitting search (a newcomer's server searches ~50 s per clone,
    # which would only add a fixed wait here; the search is tested in tests/local).
    env["SPEECHGEN_LOCAL_CLONE_SECONDS"] = "0"
    env["NBVAL_CAPTURE_DIR"] = str(captured)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "nbval_capture",
        "-c", str(work / "pytest.ini"), "--rootdir", str(work),
        "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZER),
        "--nbval-cell-timeout", "180", "-q", "-rfE", *map(str, copies),
    ]
    proc = subprocess.run(
        command, check=False, cwd=work, env=env, capture_output=True, text=True, timeout=NBVAL_TIMEOUT
    )
    log = proc.stdout + proc.stderr
    results_path = captured / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else []
    runs = {}
    for notebook, copy in zip(notebooks, copies, strict=True):
        stem = notebook.stem
        secrets_path = captured / f"{stem}.secrets.json"
        secrets = json.loads(secrets_path.read_text()) if secrets_path.exists() else {}
        executed = captured / f"{stem}.ipynb"
        runs[stem] = TutorialRun(
            name=stem,
            committed=notebook,
            executed=executed if executed.exists() else None,
            workdir=Path(copy).parent,
            cells=[r for r in results if f"{stem}.ipynb" in r["nodeid"]],
            keys=secrets.get("keys", []),
            uploads=[base64.b64decode(u) for u in secrets.get("uploads", [])],
        )
    return TutorialSession(runs=runs, log=log, returncode=proc.returncode, page_only=page_only)


# ----------------------------------------------------------------------------------- the scanner


def _b64_fragments(blob: bytes, chunk: int = 768, chunks: int = 4) -> set[str]:
    """Base64 strings that appear in any base64 text embedding `blob`, whatever its offset.

    Base64 encodes 3 bytes as 4 characters, so a blob embedded at an offset not divisible by 3
    shows different characters; for each of the three alignments, the encoding of a few whole
    chunks starting there is a substring of the embedding's.
    """
    found = set()
    for shift in range(3):
        for k in range(chunks):
            piece = blob[shift + k * chunk : shift + (k + 1) * chunk]
            if len(piece) == chunk:
                found.add(base64.b64encode(piece).decode("ascii"))
    if len(blob) < chunk + 3:  # a tiny file: look for the whole of it
        found.add(base64.b64encode(blob).decode("ascii"))
    return found


def _upload_widgets(state: dict[str, Any]) -> list[str]:
    """Model ids of FileUpload widgets whose saved state still holds file content."""
    bad = []
    for model_id, model in (state or {}).items():
        if not str(model.get("model_name", "")).startswith("FileUpload"):
            continue
        value = model.get("state", {}).get("value")
        buffers = model.get("buffers") or []
        if value or any(str(b.get("path", [""])[0]) == "value" for b in buffers):
            bad.append(model_id)
    return bad


def scan_notebook(text: str, keys: Iterable[str], uploads: Iterable[bytes]) -> list[str]:
    """What must not be in a saved notebook (its JSON text): each finding, described."""
    findings = []
    for key in keys:
        if key and key in text:
            findings.append(f"the API key {key[:6]}... is in the notebook")
    for i, blob in enumerate(uploads):
        if any(fragment in text for fragment in _b64_fragments(blob)):
            findings.append(f"the bytes of uploaded sample #{i} ({len(blob)} bytes) are embedded in the notebook")
    nb = json.loads(text)
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model_id in _upload_widgets(state.get("state", {})):
        findings.append(f"the saved widget state keeps a FileUpload's file content (model {model_id})")
    return findings
