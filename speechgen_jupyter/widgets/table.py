"""The voice models as a table whose rows can be selected.

ipywidgets has no table widget, and a `Select` list box is not a table. This
small anywidget draws a real `<table>` from plain rows (strings only: no
audio, no key, nothing personal) and syncs back which row was picked, by
mouse or keyboard (Tab to a row, Enter or Space).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import anywidget
import traitlets

from ..types import VoiceModel

__all__ = ["COLUMNS", "ModelsTable"]

#: (key, heading) of what the table shows, in order.
COLUMNS = (
    ("name", "Name"),
    ("status", "Status"),
    ("voice_id", "Voice id"),
    ("created", "Created (UTC)"),
    ("usage", "Used"),
    ("description", "Description"),
    ("model_id", "Model id"),
)

_NEVER = datetime.min.replace(tzinfo=timezone.utc)

_ESM = r"""
function render({ model, el }) {
  el.classList.add("sg-table-view");
  const table = document.createElement("table");
  table.className = "sg-table";
  const empty = document.createElement("div");
  empty.className = "sg-table-empty";
  el.append(table, empty);

  function select(id) {
    model.set("selected", model.get("selected") === id ? "" : id);
    model.save_changes();
  }
  function draw() {
    const rows = model.get("rows");
    const columns = model.get("columns");
    const selected = model.get("selected");
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const [, heading] of columns) {
      const th = document.createElement("th");
      th.textContent = heading;
      head.append(th);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.modelId = row.model_id;
      tr.dataset.status = row.status;
      tr.tabIndex = 0;
      tr.setAttribute("aria-selected", String(row.model_id === selected));
      if (row.model_id === selected) tr.classList.add("sg-selected");
      for (const [key] of columns) {
        const td = tr.insertCell();
        td.textContent = row[key] == null ? "" : String(row[key]);
        if (key === "status") td.className = "sg-status-" + row.status;
      }
      tr.addEventListener("click", () => select(row.model_id));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(row.model_id); }
      });
    }
    empty.textContent = rows.length ? "" : model.get("empty_text");
    el.dataset.rows = String(rows.length);
  }
  model.on("change:rows", draw);
  model.on("change:selected", draw);
  draw();
  return () => { model.off("change:rows", draw); model.off("change:selected", draw); };
}
export default { render };
"""

_CSS = """
.sg-table-view { max-height: 18em; overflow: auto; margin: 4px 0; }
.sg-table { border-collapse: collapse; font-size: var(--jp-ui-font-size1, 13px); }
.sg-table th { text-align: left; padding: 2px 10px 2px 4px; border-bottom: 1px solid rgba(127,127,127,.5); position: sticky; top: 0;
  background: var(--jp-layout-color1, white); }
.sg-table td { padding: 2px 10px 2px 4px; border-bottom: 1px solid rgba(127,127,127,.15); white-space: nowrap; }
.sg-table tbody tr { cursor: pointer; }
.sg-table tbody tr:hover { background: rgba(59,120,195,.08); }
.sg-table tbody tr.sg-selected { background: rgba(59,120,195,.22); }
.sg-table tbody tr:focus { outline: 1px solid #3b78c3; }
.sg-table .sg-status-ready { color: #1b7a1b; }
.sg-table .sg-status-failed { color: #b00020; }
.sg-table .sg-status-processing { color: #8a5a00; }
.sg-table-empty { opacity: .7; padding: 4px; }
"""


def model_row(model: VoiceModel) -> dict[str, str]:
    """A model as the table shows it: strings only."""
    created = model.created_at.strftime("%Y-%m-%d %H:%M:%S") if model.created_at else ""
    return {
        "model_id": model.model_id,
        "name": model.name,
        "status": model.status,
        "voice_id": model.voice_id or "",
        "created": created,
        "usage": "" if model.usage_count is None else str(model.usage_count),
        "description": model.description or "",
        "error": model.error.message if model.error else "",
    }


class ModelsTable(anywidget.AnyWidget):
    """Rows of voice models; `selected` is the picked row's model_id ("" for none)."""

    _esm = _ESM
    _css = _CSS

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    columns = traitlets.List(default_value=[list(c) for c in COLUMNS]).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    empty_text = traitlets.Unicode("No voice models yet: clone one below.").tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.models: dict[str, VoiceModel] = {}
        self.add_class("sg-models")

    def set_models(self, models: Iterable[VoiceModel]) -> None:
        """Show these models, newest first; a selection that no longer exists is dropped."""
        ordered = sorted(models, key=lambda m: m.created_at or _NEVER, reverse=True)
        self.models = {m.model_id: m for m in ordered}
        with self.hold_sync():
            self.rows = [model_row(m) for m in ordered]
            if self.selected and self.selected not in self.models:
                self.selected = ""

    @property
    def selected_model(self) -> VoiceModel | None:
        return self.models.get(self.selected)
