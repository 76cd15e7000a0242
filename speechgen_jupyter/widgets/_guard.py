"""A size check in the browser for the upload's FileUpload, before any byte is sent.

Why: ipywidgets' FileUpload reads the whole file in the browser and sends it
over the notebook's websocket in one message. Tornado caps those messages at
10 MiB (ipywidgets #2522), so a file over Speechgen's 10 MB limit never
reaches Python: the connection drops, Lab reconnects, and the widget says
nothing. Measured here: an 11 MB WAV picked in JupyterLab 4.6 left the upload
silent. A sample that is too big must be refused with the reason, not lost.

How: this invisible companion widget takes over the click on its own
upload's FileUpload button (a capture-phase listener, so it runs first),
opens the file chooser itself, and then either hands the file to the
FileUpload's model exactly as FileUpload's own view would (so the bytes
reach Python the usual way, through FileUpload's value), or, for a file over
the limit, sends Python only its name and size. If this code cannot run,
the FileUpload works on its own as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from .. import audio as A

__all__ = ["PickGuard"]

_ESM = r"""
function render({ model, el }) {
  el.style.display = "none";
  const input = document.createElement("input");
  input.type = "file";
  input.style.display = "none";
  el.append(input);
  let upload = null;
  const ref = String(model.get("picker") || "").replace(/^IPY_MODEL_/, "");
  const ready = model.widget_manager.get_model(ref).then((m) => { upload = m; });

  function onClick(event) {
    const container = el.closest(".sg-upload");
    const button = event.target && event.target.closest ? event.target.closest(".widget-upload") : null;
    if (!upload || !container || !button || !container.contains(button) || button.disabled) return;
    event.stopImmediatePropagation();
    event.preventDefault();
    input.accept = upload.get("accept");
    input.value = "";
    input.click();
  }
  document.addEventListener("click", onClick, true);

  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    await ready;
    if (file.size > model.get("limit")) {
      model.send({ kind: "too-big", name: file.name, size: file.size });
      return;
    }
    const content = await file.arrayBuffer();
    upload.set({
      value: [{ content, name: file.name, type: file.type, size: file.size, last_modified: file.lastModified }],
      error: "",
    });
    upload.save_changes();
  });
  return () => document.removeEventListener("click", onClick, true);
}
export default { render };
"""


class PickGuard(anywidget.AnyWidget):
    """Refuses, in the browser, a file too big to send; calls `on_too_big(name, size)` instead."""

    _esm = _ESM

    picker = traitlets.Instance(widgets.FileUpload).tag(sync=True, **widgets.widget_serialization)
    limit = traitlets.Int(A.MAX_BYTES).tag(sync=True)

    def __init__(self, picker: widgets.FileUpload, on_too_big: Callable[[str, int], None]) -> None:
        super().__init__(picker=picker)
        self._on_too_big = on_too_big
        self.on_msg(self._on_custom_msg)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: list[Any]) -> None:
        if isinstance(content, dict) and content.get("kind") == "too-big":
            self._on_too_big(str(content.get("name") or "sample"), int(content.get("size") or 0))
