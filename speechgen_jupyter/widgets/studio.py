"""The voice studio: everything a person does with Speechgen, with the mouse, in one widget.

    import speechgen_jupyter as sg
    sg.studio()          # as the last line of a cell

Three sections over one client (the shared one unless given):

* Speak: a text box, a voice picker (your ready clones, and built-in voices
  where the server lists them) with a free field for any voice id, Speak,
  and a player that starts on the first sentence while the rest is spoken
  (any length of text; its Stop sends no further request), then holds the
  whole clip. Speech said before comes from the speech cache.
* Your voice models: the models table (Refresh, click a row), the selected
  model's details and sample, "Speak with this voice", and Delete with a
  confirmation; a model still cloning gets a live status panel; a field to
  track a model made elsewhere by its id. On a server without a model
  listing (the page documents none) the table shows the models made or
  tracked from this computer, and one quiet line says so: not an error.
* New voice: the upload (checks; the waveform with a selection to drag,
  play and trim, and the sample report for it; Clone, which sends only the
  selection; status of the clone) and the microphone recorder that feeds it.
  `speechgen-studio` shows this same studio as a page of its own.

Each section runs its requests in a background thread behind its own `Busy`
guard, so a section shows it is working, cannot be clicked into duplicate
requests, and never blocks the others or the kernel.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from .. import _constants as C
from ..types import Speech, Voice, VoiceModel
from ._background import Busy, close_tree
from ._clients import resolve_client
from ._notice import Notice
from .player import AudioPlayer
from .recorder import RecorderWidget
from .status import StatusWidget
from .table import ModelsTable
from .upload import UploadWidget

__all__ = ["Studio", "studio"]


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<h3 style='margin:14px 0 4px'>{html.escape(text)}</h3>")


def _voice_label(voice: Voice) -> str:
    kind = "built-in" if voice.kind == "builtin" else "your clone"
    return f"{voice.name} ({kind})"


class Studio(widgets.VBox):
    """Speak, manage voice models, and clone new voices, in one widget (see the module docstring)."""

    def __init__(self, client: Any = None) -> None:
        self.client = resolve_client(client)
        secret = lambda: self.client.api_key
        self.voices: list[Voice] = []
        self._prefer_voice: str | None = None
        self._refresh_again = False
        self.watch: StatusWidget | None = None

        # -- speak ---------------------------------------------------------------
        self.text = widgets.Textarea(
            placeholder="Type what the voice should say…", rows=3, layout=widgets.Layout(width="95%")
        )
        self.text.add_class("sg-text")
        self.voice = widgets.Dropdown(description="Voice", options=[], layout=widgets.Layout(width="24em"))
        self.voice.add_class("sg-voice")
        self.voice.observe(self._on_pick, names="value")
        self._setting_voices = False
        # Any voice id the server takes, listed or not (a voice made elsewhere, a built-in one you know).
        self.voice_field = widgets.Text(placeholder="or type a voice_id", layout=widgets.Layout(width="14em"))
        self.voice_field.add_class("sg-voice-id")
        self.format = widgets.Dropdown(
            description="Format", options=list(C.OUTPUT_FORMATS), value=C.DEFAULT_OUTPUT_FORMAT, layout=widgets.Layout(width="12em")
        )
        self.format.add_class("sg-format")
        self.speak_button = widgets.Button(description="Speak", icon="play", button_style="primary")
        self.speak_button.add_class("sg-speak-button")
        self.speak_button.on_click(lambda _b: self.speak())
        self.speak_notice = Notice(secret)
        self.player = AudioPlayer()
        self.player.add_class("sg-speak-player")
        self.speak_busy = Busy(self.speak_notice, [self.speak_button])

        # -- models ----------------------------------------------------------------
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.add_class("sg-refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.table = ModelsTable()
        self.table.observe(self._on_select, names="selected")
        self.details = widgets.HTML()
        self.details.add_class("sg-details")
        self.use_button = widgets.Button(description="Speak with this voice", icon="play")
        self.use_button.add_class("sg-use-voice")
        self.use_button.on_click(lambda _b: self.use_selected_voice())
        self.delete_button = widgets.Button(description="Delete…", icon="trash", button_style="danger")
        self.delete_button.add_class("sg-delete")
        self.delete_button.on_click(lambda _b: self.ask_delete())
        self.confirm_text = widgets.HTML()
        self.confirm_yes = widgets.Button(description="Yes, delete it", button_style="danger")
        self.confirm_yes.add_class("sg-confirm-delete")
        self.confirm_yes.on_click(lambda _b: self.delete_selected())
        self.confirm_no = widgets.Button(description="Cancel")
        self.confirm_no.add_class("sg-cancel-delete")
        self.confirm_no.on_click(lambda _b: self.cancel_delete())
        self.confirm = widgets.HBox([self.confirm_text, self.confirm_yes, self.confirm_no])
        self.confirm.add_class("sg-confirm")
        self.confirm.layout.display = "none"
        self.actions = widgets.HBox([self.use_button, self.delete_button])
        self.actions.layout.display = "none"
        self.sample_player = AudioPlayer()
        self.sample_player.add_class("sg-model-sample")
        self.sample_notice = Notice(secret)
        self._sample_for: VoiceModel | None = None
        self._sample_tried = ""
        self.sample_busy = Busy(self.sample_notice, settle=self._settle_sample)
        self.watch_box = widgets.VBox()
        self.watch_box.add_class("sg-watch")
        self.models_notice = Notice(secret)
        self.extras_note = widgets.HTML()
        self.extras_note.add_class("sg-extras-note")
        self.track_field = widgets.Text(
            placeholder="vm_… a model made elsewhere", description="Track", layout=widgets.Layout(width="24em")
        )
        self.track_field.add_class("sg-track-id")
        self.track_button = widgets.Button(description="Track it", icon="plus")
        self.track_button.add_class("sg-track")
        self.track_button.on_click(lambda _b: self.track())
        self.models_busy = Busy(
            self.models_notice,
            [self.refresh_button, self.delete_button, self.confirm_yes, self.track_button],
            settle=self._settle_models,
        )

        # -- new voice -------------------------------------------------------------
        self.upload = UploadWidget(self.client)
        self.upload.on_cloned(self._on_cloned)
        self.recorder = RecorderWidget(upload=self.upload)

        server = html.escape(str(self.client.base_url))
        super().__init__(
            [
                widgets.HTML(
                    f"<div style='font-size:larger'><b>Speechgen studio</b> "
                    f"<span style='opacity:.6;font-size:smaller'>server {server}</span></div>"
                ),
                _heading("Speak"),
                self.text,
                widgets.HBox([self.voice, self.voice_field, self.format, self.speak_button]),
                self.speak_notice,
                self.player,
                _heading("Your voice models"),
                widgets.HBox([self.refresh_button, self.models_notice]),
                self.extras_note,
                self.table,
                self.details,
                self.actions,
                self.confirm,
                self.sample_player,
                self.sample_notice,
                self.watch_box,
                widgets.HBox([self.track_field, self.track_button]),
                _heading("New voice"),
                widgets.HTML("<div style='opacity:.8'>Pick a recording of one person speaking, or record one here.</div>"),
                self.upload,
                widgets.HTML("<b>Or record from the microphone</b>"),
                self.recorder,
            ]
        )
        self.add_class("sg-studio")
        self.refresh()

    # -- speak -----------------------------------------------------------------------

    def speak(self) -> bool:
        """What Speak does; False when refused (busy) or nothing can be sent (and the widget says why)."""
        if self.speak_busy.active:
            self.speak_busy.refused += 1
            return False
        voice = self.voice_field.value.strip() or self.voice.value
        if not voice:
            self.speak_notice.error(
                "Pick a voice first, or type a voice_id. The list holds your ready voice models (clone one "
                "below, or track one by its model id) and the built-in voices of a server that lists them."
            )
            return False
        text, fmt = self.text.value, self.format.value
        return self.speak_busy.run(
            "Speaking…",
            lambda: self.player.play_stream(self.client.stream_speech(text, voice, fmt)),
            self._spoken,
            action_name="speaking",
        )

    def _spoken(self, speech: Speech | None) -> None:
        """The player plays the text as it is spoken and ends holding the joined clip (None: stopped)."""
        if speech is None:
            self.speak_notice.info("Stopped: nothing more was asked of the server.")

    # -- models ------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Reload the models table and the voice picker (again after the current load, if one is running)."""
        started = self.models_busy.run(
            "Loading voice models and voices…", self._load, self._loaded, action_name="loading the voice models"
        )
        if not started:
            self._refresh_again = True
        return started

    def _load(self) -> tuple[list[VoiceModel], list[Voice]]:
        models = self.client.list_models()
        # Where the server lists no voices, they are those of `models`: no second round of requests.
        return models, self.client.list_voices(models=models)

    def _loaded(self, result: tuple[list[VoiceModel], list[Voice]]) -> None:
        models, voices = result
        self.table.set_models(models)
        self._set_voices(voices)
        self._show_extras()
        self._show_selected()

    def _show_extras(self) -> None:
        """One quiet line on what this server lacks (the page documents no listing): said, not shown as an error."""
        note = self.client.extras.note()
        lacking = self.client.extras.lacking()
        if "model_listing" in lacking:
            note = f"{note} Track one made elsewhere by its model id, below."
            self.table.empty_text = "No voice models made or tracked from this computer yet: clone one below, or track one."
        self.extras_note.value = (
            f"<div class='sg-extras-line' style='opacity:.7;font-size:smaller;line-height:1.4'>{html.escape(note)}</div>" if note else ""
        )

    def _on_pick(self, change: dict[str, Any]) -> None:
        if not self._setting_voices and change["new"]:
            self.voice_field.value = ""  # a voice picked from the list is the one to use

    def _set_voices(self, voices: list[Voice]) -> None:
        self._setting_voices = True
        try:
            self._apply_voices(voices)
        finally:
            self._setting_voices = False

    def _apply_voices(self, voices: list[Voice]) -> None:
        self.voices = voices
        current = self._prefer_voice or self.voice.value
        self._prefer_voice = None
        options = [(_voice_label(v), v.voice_id) for v in voices]
        ids = [v.voice_id for v in voices]
        self.voice.options = options
        if current in ids:
            self.voice.value = current
        elif ids:
            self.voice.value = ids[0]

    def _settle_models(self) -> None:
        self.refresh_button.disabled = False
        self.confirm_yes.disabled = False
        self.delete_button.disabled = False
        self.track_button.disabled = False
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def _on_select(self, _change: dict[str, Any]) -> None:
        self.cancel_delete()
        self._show_selected()

    def _show_selected(self) -> None:
        model = self.table.selected_model
        if model is None:
            self.details.value = ""
            self.actions.layout.display = "none"
            self.sample_player.clear()
            self._watch(None)
            return
        rows = [
            ("Name", model.name),
            ("Status", model.status),
            ("Voice id", model.voice_id or "(none until ready)"),
            ("Model id", model.model_id),
            ("Description", model.description or ""),
        ]
        if model.error is not None:
            rows.append(("Why it failed", model.error.message))
        cells = "".join(
            f"<tr><td style='opacity:.7;padding-right:10px'>{k}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
        )
        self.details.value = f"<table class='sg-details-table' data-model-id='{html.escape(model.model_id)}'>{cells}</table>"
        self.actions.layout.display = ""
        self.use_button.disabled = not model.is_ready
        self._watch(model if model.is_processing else None)
        self._load_sample(model)

    def _watch(self, model: VoiceModel | None) -> None:
        """A live status panel for a selected model that is still cloning."""
        if self.watch is not None and (model is None or self.watch.voice_model_id != model.model_id):
            self.watch.close()
            self.watch = None
            self.watch_box.children = ()
        if model is not None and self.watch is None:
            self.watch = StatusWidget(model, self.client)
            self.watch.on_finished(self._on_model_finished)
            self.watch_box.children = (self.watch,)

    def _load_sample(self, model: VoiceModel) -> None:
        """Show the selected ready model's sample (fetched through the kernel, off the main thread)."""
        ready = model.is_ready and any(s.audio_url for s in model.samples)
        self._sample_for = model if ready else None
        if not ready:
            self.sample_player.clear()
            return
        if self.sample_player.speech is not None and self.sample_player.speech.voice == model.voice_id:
            return
        self._fetch_sample()

    def _fetch_sample(self) -> None:
        model = self._sample_for
        if model is None:
            return
        sample = next(s for s in model.samples if s.audio_url)
        self._sample_tried = model.model_id

        def shown(speech: Speech) -> None:
            if self._sample_for is not None and self._sample_for.model_id == model.model_id:
                self.sample_player.show(speech, caption=f"Sample of {model.name}: {sample.text}")

        # Refused while another sample loads: `_settle_sample` fetches the newly selected one after it.
        self.sample_busy.run("Fetching the sample…", lambda: self.client.sample_audio(sample, model), shown)

    def _settle_sample(self) -> None:
        want = self._sample_for
        if want is None or want.model_id == self._sample_tried:
            return
        self._fetch_sample()

    def use_selected_voice(self) -> None:
        model = self.table.selected_model
        if model is None or not model.voice_id:
            self.models_notice.error("Select a ready voice model first.")
            return
        ids = [v.voice_id for v in self.voices]
        if model.voice_id not in ids:
            self.models_notice.error(f"{model.name} is not in the voice list yet; press Refresh.")
            return
        self.voice.value = model.voice_id
        self.voice_field.value = ""
        self.models_notice.ok(f"Speak now uses {model.name}.")

    def track(self) -> bool:
        """What "Track it" does: remember a model made elsewhere (after checking it exists), then reload."""
        model_id = self.track_field.value.strip()
        if not model_id:
            self.models_notice.error("Type the model id (vm_…) of a model made elsewhere, then press Track it.")
            return False

        def tracked(model: VoiceModel) -> None:
            self.track_field.value = ""
            self.models_notice.ok(f"Tracking {model.name} ({model.model_id}).")
            if model.is_ready and model.voice_id:
                self._prefer_voice = model.voice_id
            self._refresh_again = True  # runs when this action has settled

        return self.models_busy.run(
            f"Looking for {model_id}…", lambda: self.client.track_model(model_id), tracked, action_name="tracking the model"
        )

    def ask_delete(self) -> None:
        model = self.table.selected_model
        if model is None:
            self.models_notice.error("Select a model in the table first.")
            return
        self.confirm_text.value = (
            f"<span class='sg-confirm-text'>Delete <b>{html.escape(model.name)}</b> ({html.escape(model.model_id)}) for good? "
            "Speech with its voice stops working.</span>"
        )
        self.confirm.layout.display = ""

    def cancel_delete(self) -> None:
        self.confirm.layout.display = "none"

    def delete_selected(self) -> bool:
        """What "Yes, delete it" does: delete the selected model, then reload."""
        model = self.table.selected_model
        if model is None:
            self.models_notice.error("Select a model in the table first.")
            return False

        def deleted(_none: None) -> None:
            self.confirm.layout.display = "none"
            self.models_notice.ok(f"Deleted {model.name} ({model.model_id}).")
            if self.upload.status is not None and self.upload.status.voice_model_id == model.model_id:
                self.upload.status.stop()
            self._refresh_again = True  # runs when this action has settled

        return self.models_busy.run(
            f"Deleting {model.name}…", lambda: self.client.delete_model(model.model_id), deleted, action_name="deleting the model"
        )

    # -- new voice -------------------------------------------------------------------

    def _on_cloned(self, model: VoiceModel, status: StatusWidget) -> None:
        status.on_finished(self._on_model_finished)
        self.refresh()

    def _on_model_finished(self, model: VoiceModel) -> None:
        if model.is_ready and model.voice_id:
            self._prefer_voice = model.voice_id
        self.refresh()

    def close(self) -> None:
        """Close the studio and every part of it (status panels stop polling)."""
        close_tree(self)

    def __repr__(self) -> str:
        return f"<Studio {self.client.base_url}>"


def studio(client: Any = None) -> Studio:
    """A new voice studio over `client` (default: the shared client); the last line of a cell shows it."""
    return Studio(client)
