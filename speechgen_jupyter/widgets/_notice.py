"""The one line where a widget says what it is doing, what went well and what went wrong.

Why one helper: the issue's rule is that no action may fail silently and no
error may surface only as a traceback in a log the user never opens. Every
component routes its outcome through a `Notice`, so the rule holds by
construction:

* a `SpeechgenError` is something the user can act on: its message is shown
  as it is (it was written for people);
* anything else is a bug: a short "unexpected error" line is shown, and the
  traceback goes both into a collapsed "details" box in the widget and to the
  `speechgen_jupyter.widgets` logger, with the API key scrubbed from both.
"""

from __future__ import annotations

import html
import logging
import traceback
from collections.abc import Callable

import ipywidgets as widgets

from .._secret import Secret, scrub
from ..errors import SpeechgenError

__all__ = ["SPINNER", "Notice", "log"]

log = logging.getLogger("speechgen_jupyter.widgets")

#: A self-contained spinner (SMIL animation: needs no stylesheet or icon font).
SPINNER = (
    '<svg width="14" height="14" viewBox="0 0 50 50" style="vertical-align:-2px;margin-right:6px" aria-hidden="true">'
    '<circle cx="25" cy="25" r="20" fill="none" stroke="currentColor" stroke-width="6" stroke-dasharray="90 40">'
    '<animateTransform attributeName="transform" type="rotate" from="0 25 25" to="360 25 25" dur="0.9s" '
    'repeatCount="indefinite"/></circle></svg>'
)

_COLOURS = {
    "info": "inherit",
    "working": "inherit",
    "ok": "#1b7a1b",
    "warning": "#8a5a00",
    "error": "#b00020",
}


class Notice(widgets.HTML):
    """A status/error line. `level` mirrors what is shown, for code and tests to read."""

    def __init__(self, secret: Callable[[], Secret | None] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._secret = secret or (lambda: None)
        self.level = ""
        self.text = ""
        self.add_class("sg-notice")

    # -- what can be shown -------------------------------------------------

    def clear(self) -> None:
        self._show("", "")

    def info(self, text: str) -> None:
        self._show("info", text)

    def working(self, text: str) -> None:
        self._show("working", text)

    def ok(self, text: str) -> None:
        self._show("ok", text)

    def warning(self, text: str) -> None:
        self._show("warning", text)

    def error(self, err: BaseException | str, *, action: str = "") -> None:
        """Show an error. A `SpeechgenError` (or a plain string) is the user's to fix; anything else is ours."""
        if isinstance(err, str):
            self._show("error", err)
        elif isinstance(err, SpeechgenError) and err.user_facing:
            self._show("error", str(err))
        else:
            self._unexpected(err, action)

    def snapshot(self) -> tuple[str, str, str]:
        return (self.level, self.text, self.value)

    def restore(self, snap: tuple[str, str, str]) -> None:
        self.level, self.text, self.value = snap

    # -- internals ---------------------------------------------------------

    def _unexpected(self, err: BaseException, action: str) -> None:
        where = f" while {action}" if action else ""
        details = self._scrub("".join(traceback.format_exception(type(err), err, err.__traceback__)))
        log.error("speechgen_jupyter widget: unexpected error%s\n%s", where, details)
        summary = self._scrub(f"{type(err).__name__}: {err}")
        text = f"Unexpected error{where} ({summary}). This is a bug in speechgen_jupyter; the details below help report it."
        self.level, self.text = "error", text
        self.value = (
            f'<div class="sg-notice-line" data-level="error" role="alert" style="color:{_COLOURS["error"]}">'
            f"{html.escape(text)}"
            f'<details style="color:inherit;opacity:.8"><summary>Details</summary>'
            f'<pre style="white-space:pre-wrap;font-size:smaller">{html.escape(details)}</pre></details></div>'
        )

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secret())

    def _show(self, level: str, text: str) -> None:
        text = self._scrub(text)
        self.level, self.text = level, text
        if not level:
            self.value = ""
            return
        spinner = SPINNER if level == "working" else ""
        role = ' role="alert"' if level == "error" else ' role="status"'
        self.value = (
            f'<div class="sg-notice-line" data-level="{level}"{role} style="color:{_COLOURS[level]}">'
            f"{spinner}{html.escape(text)}</div>"
        )
