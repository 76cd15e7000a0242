"""A live status panel for one voice model: processing -> ready (with its samples) or failed (with why).

Cloning takes seconds to minutes. The panel polls in a background thread (see
`_background`), so it keeps moving while other cells run or none do, and it
stops polling the moment it is closed. The bar is driven by the same
`WaitProgress` reports as `wait_for_model`'s `on_progress`, i.e. by the
server's `estimated_completion`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import _constants as C
from ..errors import ModelFailedError, SpeechgenError
from ..errors import TimeoutError as SpeechgenTimeout
from ..types import Speech, VoiceModel, WaitProgress
from ._background import ModelPoller, close_tree
from ._clients import resolve_client
from ._notice import SPINNER, Notice
from .player import AudioPlayer

__all__ = ["StatusWidget"]

_STATE_COLOURS = {"processing": "inherit", "ready": "#1b7a1b", "failed": "#b00020", "stopped": "#8a5a00"}


class StatusWidget(widgets.VBox):
    """Watch a model until it is ready or failed.

    `StatusWidget(model_or_id, client=None, timeout=600)` starts polling at
    once (`start=False` to start later with `.start()`). `state` is
    "processing", "ready", "failed" or "stopped" (timed out, lost connection
    or closed); `model` is the latest `VoiceModel`; `on_finished(callback)`
    is called with the model when it is ready or failed.
    """

    def __init__(
        self,
        model: VoiceModel | str,
        client: Any = None,
        *,
        timeout: float = C.DEFAULT_WAIT_TIMEOUT,
        start: bool = True,
    ) -> None:
        self.client = resolve_client(client)
        self.voice_model_id = model.model_id if isinstance(model, VoiceModel) else str(model)
        self.model: VoiceModel | None = model if isinstance(model, VoiceModel) else None
        self.timeout = timeout
        self.state = "processing"
        self.progress: WaitProgress | None = None
        self.samples: list[Speech] = []
        self._callbacks: list[Callable[[VoiceModel], None]] = []
        self._poller: ModelPoller | None = None

        self.title = widgets.HTML()
        self.line = widgets.HTML()
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info", layout=widgets.Layout(width="320px"))
        self.notice = Notice(lambda: self.client.api_key)
        self.check_again = widgets.Button(description="Check again", icon="refresh", layout=widgets.Layout(display="none"))
        self.check_again.add_class("sg-status-retry")
        self.check_again.on_click(lambda _b: self.start())
        self.players = widgets.VBox()
        self.players.add_class("sg-status-samples")
        super().__init__([self.title, widgets.HBox([self.bar, self.line]), self.notice, self.check_again, self.players])
        self.add_class("sg-status")
        self._render()
        if start:
            self.start()

    # -- public --------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart, after a timeout or lost connection) polling in the background."""
        if self._poller is not None and self._poller.running:
            return
        self.state = "processing"
        self.notice.clear()
        self.check_again.layout.display = "none"
        self._render()
        self._poller = ModelPoller(
            self.client,
            self.voice_model_id,
            timeout=self.timeout,
            on_progress=self._on_progress,
            on_ready=self._on_ready,
            on_error=self._on_error,
        )
        self._poller.start()

    def stop(self) -> None:
        """Stop polling (the model goes on cloning on the server)."""
        poller = getattr(self, "_poller", None)  # close() may run from __del__ of a half-built widget
        if poller is not None:
            poller.stop()

    @property
    def polling(self) -> bool:
        return self._poller is not None and self._poller.running

    def join(self, timeout: float = 60.0) -> bool:
        """Wait until polling has ended (ready, failed, stopped); for tests and scripts."""
        return self._poller is None or self._poller.join(timeout)

    def on_finished(self, callback: Callable[[VoiceModel], None]) -> None:
        """Call `callback(model)` when the model ends ready or failed."""
        self._callbacks.append(callback)

    def close(self) -> None:
        """Closing the panel stops its polling thread."""
        self.stop()
        close_tree(self)

    # -- from the polling thread ----------------------------------------------

    def _on_progress(self, progress: WaitProgress) -> None:
        self.progress = progress
        self.model = progress.model
        self._render()

    def _on_ready(self, model: VoiceModel) -> None:
        self.model = model
        self.state = "ready"
        self._render()
        self._load_samples(model)
        self._finished(model)

    def _on_error(self, err: BaseException) -> None:
        if isinstance(err, ModelFailedError):
            self.state = "failed"
            try:
                self.model = self.client.get_model(self.voice_model_id)
            except SpeechgenError:
                pass
            self._render()
            self.notice.error(f"Cloning failed: {err.reason or err}")
            if self.model is not None:
                self._finished(self.model)
            return
        self.state = "stopped"
        self._render()
        if isinstance(err, SpeechgenTimeout):
            self.notice.warning(str(err))
        else:
            self.notice.error(err, action="checking the voice model")
        self.check_again.layout.display = ""

    def _load_samples(self, model: VoiceModel) -> None:
        players = []
        for sample in model.samples:
            if not sample.audio_url:
                continue
            try:
                speech = self.client.sample_audio(sample, model)
            except Exception as err:  # noqa: BLE001 - shown, the panel stays usable
                self.notice.error(err, action="fetching the model's sample")
                continue
            self.samples.append(speech)
            players.append(AudioPlayer(speech, caption=f"{sample.title}: {sample.text}"))
        self.players.children = players

    def _finished(self, model: VoiceModel) -> None:
        for callback in list(self._callbacks):
            try:
                callback(model)
            except Exception as err:  # noqa: BLE001
                self.notice.error(err, action="reporting the finished model")

    # -- drawing ---------------------------------------------------------------

    def _render(self) -> None:
        model = self.model
        name = html.escape(model.name) if model and model.name else "Voice model"
        self.title.value = f"<b>{name}</b> <code style='font-size:smaller'>{html.escape(self.voice_model_id)}</code>"
        state = self.state
        progress = self.progress
        if state == "ready":
            self.bar.value, self.bar.bar_style = 1.0, "success"
            voice = f" Speak with voice <code>{html.escape(model.voice_id)}</code>." if model and model.voice_id else ""
            words = f"Ready.{voice}"
        elif state == "failed":
            self.bar.bar_style = "danger"
            words = "Failed."
        elif state == "stopped":
            self.bar.bar_style = "warning"
            words = "Not watching any more (see below)."
        else:
            self.bar.bar_style = "info"
            if progress is not None and progress.fraction is not None:
                self.bar.value = max(self.bar.value, progress.fraction)
            left = progress.seconds_left if progress is not None else None
            if left is not None and left > 0.5:
                words = f"Cloning… about {left:.0f} s left."
            elif progress is not None and progress.fraction is None:
                words = "Cloning… (the server gave no estimate)."
            else:
                words = "Cloning… almost done."
            words = SPINNER + words
        colour = _STATE_COLOURS.get(state, "inherit")
        self.line.value = (
            f'<span class="sg-status-line" data-state="{state}" style="color:{colour};margin-left:8px">{words}</span>'
        )

    def __repr__(self) -> str:
        return f"<StatusWidget {self.voice_model_id} {self.state}>"
