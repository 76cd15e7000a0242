"""A pytest plugin for the nbval run of the tutorials (loaded with `-p nbval_capture`).

nbval executes each notebook and compares outputs, but keeps nothing. This plugin keeps what the
secrets test needs, so every tutorial is executed once for both tests:

* the executed notebook (nbval's fresh outputs in a copy of the notebook), with the kernel's widget
  state saved in `metadata.widgets` the way Jupyter saves it;
* every API key the kernel held at the end (the shared client's, every local server's, the env's);
* the bytes of every sample the notebook uploaded (recorded in the kernel where the client reads
  them, so generated speech, which players rightly embed, is not mistaken for an upload);
* each cell's outcome.

It writes `<NBVAL_CAPTURE_DIR>/<notebook stem>.ipynb`, `<stem>.secrets.json` and `results.json`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

OUT = Path(os.environ.get("NBVAL_CAPTURE_DIR", "."))

# Runs in the kernel before the notebook's first cell: remember every sample handed to the client.
_RECORD_UPLOADS = r"""
def _nbval_capture_record():
    import speechgen_jupyter._operations as ops
    original = ops.read_audio_input
    seen = ops.__dict__.setdefault("_nbval_uploads", [])

    def recording(audio, filename=None):
        name, data = original(audio, filename)
        seen.append(data)
        return name, data

    ops.read_audio_input = recording
_nbval_capture_record()
del _nbval_capture_record
"""

# Runs in the kernel after the notebook's last cell.
_DUMP = r"""
def _nbval_capture_dump(path):
    import base64, gc, json, os, sys
    keys = set()
    if os.environ.get("SPEECHGEN_API_KEY"):
        keys.add(os.environ["SPEECHGEN_API_KEY"])
    shared = sys.modules.get("speechgen_jupyter._shared")
    if shared is not None and shared._client is not None:
        keys.add(shared._client.api_key.reveal())
    server = sys.modules.get("speechgen_jupyter.local.server")
    if server is not None:
        for obj in gc.get_objects():
            if type(obj) is server.LocalServer:  # type(), not isinstance(): dead weak proxies raise
                keys.add(obj.api_key)
    ops = sys.modules.get("speechgen_jupyter._operations")
    uploads = list(getattr(ops, "_nbval_uploads", []))
    widgets = sys.modules.get("ipywidgets")
    state = widgets.Widget.get_manager_state(drop_defaults=True) if widgets is not None else None
    with open(path, "w") as f:
        json.dump({
            "keys": sorted(keys),
            "uploads": [base64.b64encode(u).decode("ascii") for u in uploads],
            "widget_state": state,
        }, f)
_nbval_capture_dump(%r)
del _nbval_capture_dump
"""

_outputs: dict[int, list[Any]] = {}
_results: list[dict[str, Any]] = []


def _is_cell(item: Any) -> bool:
    return type(item).__name__ == "IPyNbCell"


def _run_in_kernel(notebook: Any, code: str) -> None:
    kernel = notebook.kernel
    msg_id = kernel.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
    while True:
        reply = kernel.get_message(stream="shell", timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout=60)
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"the capture code failed in the kernel: {content.get('ename')}: {content.get('evalue')}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: Any) -> Any:
    yield  # the notebook's kernel is started by now
    if _is_cell(item) and not getattr(item.parent, "_capture_started", False):
        item.parent._capture_started = True
        _run_in_kernel(item.parent, _RECORD_UPLOADS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    yield
    if _is_cell(item) and hasattr(item, "test_outputs"):
        _outputs[id(item.cell)] = list(item.test_outputs)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Any:
    # Before nbval's own teardown stops the kernel: this was the notebook's last cell.
    if _is_cell(item) and (nextitem is None or nextitem.parent is not item.parent):
        try:
            _finish(item.parent)
        except Exception as err:  # noqa: BLE001 - reported in results.json; nbval must still stop the kernel
            _results.append({"nodeid": item.nodeid, "when": "capture", "outcome": "failed", "message": repr(err)})
    yield


def _finish(notebook: Any) -> None:
    stem = Path(str(notebook.fspath)).stem
    secrets_path = OUT / f"{stem}.secrets.json"
    _run_in_kernel(notebook, _DUMP % str(secrets_path))
    captured = json.loads(secrets_path.read_text())

    nb = copy.deepcopy(notebook.nb)
    count = 0
    for original, cell in zip(notebook.nb.cells, nb.cells, strict=True):
        if cell.cell_type != "code":
            continue
        outputs = _outputs.get(id(original))
        if outputs is None:
            cell.outputs, cell.execution_count = [], None
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = [_as_output(o, count) for o in outputs]
    state = captured.pop("widget_state")
    if state and state.get("state"):
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": state}
    nbformat.write(nb, OUT / f"{stem}.ipynb")
    secrets_path.write_text(json.dumps(captured))


def _as_output(out: Any, count: int) -> Any:
    node = nbformat.from_dict(dict(out))
    if node.output_type == "execute_result":
        node.execution_count = count
        node.setdefault("metadata", {})
    elif node.output_type == "display_data":
        node.setdefault("metadata", {})
    return node


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome == "failed":
        _results.append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "message": str(report.longrepr) if report.failed else "",
            }
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    (OUT / "results.json").write_text(json.dumps(_results, indent=1))
