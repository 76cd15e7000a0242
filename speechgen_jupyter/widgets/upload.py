"""Pick (or receive a recorded) voice sample, see whether it will do, and clone a voice from it.

What it shows before anything is sent: the sample's length against the
10 s - 5 min range, its size against 10 MB, its format (the client's own
checks, the ones `clone_voice` runs, at once); then, measured off the
kernel's main thread, the waveform with a selection the user drags (two
handles, "play the selection", "select the speech") and beside it the
sample report (`sg.check_sample`) for that selection: speech, silence,
pauses, voices, noise, clipping, loudness. Clone uploads only the
selection (cut by `prepare_sample`, exact to the sample) and stays
disabled while a hard limit is broken.

A voice sample is personal data. ipywidgets' FileUpload keeps the file's
bytes in its widget state, and a notebook saved with widget state would keep
them too (ipywidgets PR #2799). So the bytes are taken out of the FileUpload
the moment they arrive: the widget state is emptied and only this Python
object holds the sample, until it has been sent.

A file over 10 MB would never arrive at all (the notebook's websocket drops
messages that big, silently): a small browser-side guard (`_guard`) refuses
it before sending and tells Python its name and size, so the widget says why.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from .. import audio as A
from ..audio import AudioInfo, check_sample, inspect_audio
from ..errors import AudioValidationError, UnsupportedMediaTypeError
from ..types import VoiceModel
from ..samples import SampleAnalysis, SampleReport, analyse, prepare_sample
from ..sound.vad import VAD_RATE
from ._background import Busy, Latest, close_tree
from ._clients import resolve_client
from ._guard import PickGuard
from ._notice import Notice
from ._waveform import WaveformSelector
from .status import StatusWidget

__all__ = ["Assessment", "Check", "UploadWidget", "assess"]

ACCEPT = "audio/*,.mp3,.wav,.m4a,.flac,.ogg,.oga,.opus"


@dataclass(frozen=True)
class Check:
    """One requirement, as the widget shows it: what the sample has, against what is needed."""

    label: str
    value: str
    rule: str
    ok: bool | None  # None: cannot tell here (the server will)


@dataclass(frozen=True)
class Assessment:
    """What the client-side checks say about a sample, before it is sent."""

    filename: str
    size: int
    info: AudioInfo | None
    checks: tuple[Check, ...]
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} kB"


def _length(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)} min {secs:.0f} s"


def assess(data: bytes, filename: str) -> Assessment:
    """Every requirement checked on its own (so all that fail are marked), plus the first problem in words."""
    size = len(data)
    info: AudioInfo | None = None
    format_problem: str | None = None
    try:
        info = inspect_audio(data)
    except UnsupportedMediaTypeError as err:
        format_problem = str(err)
    size_ok = size <= A.MAX_BYTES
    checks = [Check("Size", _mb(size), "at most 10 MB", size_ok)]
    if info is None:
        checks.insert(0, Check("Format", "not audio we can take", "MP3, WAV, M4A, FLAC or OGG", False))
        checks.insert(0, Check("Length", "unknown", "10 s to 5 min", None))
    else:
        checks.insert(0, Check("Format", info.format.upper(), "MP3, WAV, M4A, FLAC or OGG", True))
        if info.duration is None:
            checks.insert(0, Check("Length", "not in the file's headers", "10 s to 5 min", None))
        else:
            d = info.duration
            in_range = A.MIN_SECONDS - A.DURATION_TOLERANCE <= d <= A.MAX_SECONDS + A.PADDING_TOLERANCE
            checks.insert(0, Check("Length", _length(d), "10 s to 5 min", in_range))
    problem: str | None = None
    try:
        check_sample(data, filename)
    except AudioValidationError as err:
        problem = str(err)
    if problem is None and format_problem is not None:  # pragma: no cover - check_sample inspects too
        problem = format_problem
    return Assessment(filename, size, info, tuple(checks), problem)


def assess_unsent(filename: str, size: int) -> Assessment:
    """A file the browser refused to send (over the limit): only its name and size are known."""
    # The client's own wording for this case (what check_sample would raise), plus what happened.
    problem = A._too_large_message(filename, size, filename) + " It was not sent."
    checks = (
        Check("Length", "not read", "10 s to 5 min", None),
        Check("Format", "not read", "MP3, WAV, M4A, FLAC or OGG", None),
        Check("Size", _mb(size), "at most 10 MB", False),
    )
    return Assessment(filename, size, None, checks, problem)


def _for_selection(assessment: Assessment, report: SampleReport | None) -> tuple[Assessment, str | None]:
    """The file's checks with Length judged on the selection, and the problem that blocks Clone (None: it may go).

    Size and format belong to the file; length belongs to what is sent. While
    the whole file is selected (or not yet measured) the client's own message
    for the file stands, word for word.
    """
    if report is None or report.whole or assessment.info is None:
        return assessment, assessment.problem
    size_ok = assessment.size <= A.MAX_BYTES
    length = report.finding("duration")
    in_range = length is None or length.level != "error"
    checks = tuple(
        Check("Length", f"{_length(report.duration)} selected", c.rule, in_range) if c.label == "Length" else c
        for c in assessment.checks
    )
    problem = None if size_ok and in_range else (assessment.problem if not size_ok else length.message if length else None)
    return Assessment(assessment.filename, assessment.size, assessment.info, checks, problem), problem


def _checks_html(assessment: Assessment, picture: str | None, source: str) -> str:
    marks = {True: ("✓", "#1b7a1b"), False: ("✗", "#b00020"), None: ("?", "#8a5a00")}
    rows = []
    for check in assessment.checks:
        mark, colour = marks[check.ok]
        state = {True: "ok", False: "bad", None: "unknown"}[check.ok]
        rows.append(
            f'<tr class="sg-check" data-check="{check.label.lower()}" data-ok="{state}">'
            f'<td style="color:{colour};font-weight:bold;padding-right:6px">{mark}</td>'
            f"<td style='padding-right:10px'>{check.label}</td>"
            f"<td style='padding-right:10px'><b>{html.escape(check.value)}</b></td>"
            f"<td style='opacity:.7'>needs {html.escape(check.rule)}</td></tr>"
        )
    origin = "recorded in the browser" if source == "recording" else "picked from your computer"
    head = f'<div><b>{html.escape(assessment.filename)}</b> <span style="opacity:.7">({origin})</span></div>'
    table = f'<table class="sg-checks" style="border-collapse:collapse;margin:4px 0">{"".join(rows)}</table>'
    if assessment.problem:
        verdict = (
            f'<div class="sg-problem" role="alert" style="color:#b00020;max-width:60em">{html.escape(assessment.problem)}</div>'
        )
    else:
        verdict = '<div class="sg-problem-none" style="color:#1b7a1b">This sample meets the requirements.</div>'
    if picture is None:
        picture = '<div style="font-size:smaller;opacity:.7">(no waveform: this machine cannot decode this file)</div>'
    return f'<div class="sg-sample" data-ok="{str(assessment.ok).lower()}">{head}{table}{picture}{verdict}</div>'


class UploadWidget(widgets.VBox):
    """Clone a voice from a sample: pick a file (or take a recording), check it, name it, Clone.

    `on_cloned(callback)` is called with `(model, status_widget)` once the
    upload is accepted; the status panel below then follows the clone.
    """

    def __init__(self, client: Any = None) -> None:
        self.client = resolve_client(client)
        self._sample: bytes | None = None
        self._filename = ""
        self._source = ""
        self.assessment: Assessment | None = None
        self.analysis: SampleAnalysis | None = None
        self.report: SampleReport | None = None
        self._generation = 0  # which sample a background result belongs to
        self.status: StatusWidget | None = None
        self._callbacks: list[Callable[[VoiceModel, StatusWidget], None]] = []

        self.picker = widgets.FileUpload(
            accept=ACCEPT, multiple=False, description="Pick an audio file", icon="upload", layout=widgets.Layout(width="max-content")
        )
        self.picker.add_class("sg-picker")
        self.picker.observe(self._on_pick, names="value")
        self.guard = PickGuard(self.picker, self._too_big)
        self.checks = widgets.HTML(
            '<div class="sg-sample-empty" style="opacity:.7">No sample yet: pick an audio file '
            "(10 s to 5 min of one person speaking, MP3/WAV/M4A/FLAC/OGG, up to 10 MB) or record one.</div>"
        )
        self.checks.add_class("sg-sample-checks")
        self.selector = WaveformSelector()
        self.selector.observe(self._on_selection, names=["start", "end"])
        self.report_view = widgets.HTML()
        self.report_view.add_class("sg-sample-report")
        self.editor = widgets.HBox(
            [self.selector, self.report_view], layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="12px")
        )
        self.editor.add_class("sg-sample-editor")
        self.editor.layout.display = "none"
        self.name = widgets.Text(description="Name", placeholder="e.g. My narrator voice")
        self.name.add_class("sg-name")
        self.description = widgets.Text(description="Description", placeholder="optional")
        self.description.add_class("sg-description")
        self.enhance = widgets.Checkbox(
            value=False, description="Enhance quality (reduce background noise)", indent=False, layout=widgets.Layout(width="auto")
        )
        self.enhance.add_class("sg-enhance")
        self.clone_button = widgets.Button(description="Clone voice", button_style="primary", icon="clone", disabled=True)
        self.clone_button.add_class("sg-clone")
        self.clone_button.on_click(self._on_clone_clicked)
        self.notice = Notice(lambda: self.client.api_key)
        self.status_box = widgets.VBox()
        self.status_box.add_class("sg-upload-status")
        self.busy = Busy(self.notice, [self.clone_button, self.picker], settle=self._settle)
        self.measuring = Latest(self._measured, self._measure_failed)
        super().__init__(
            [
                self.picker,
                self.guard,
                self.checks,
                self.editor,
                self.name,
                self.description,
                self.enhance,
                widgets.HBox([self.clone_button, self.notice]),
                self.status_box,
            ]
        )
        self.add_class("sg-upload")

    # -- the sample -------------------------------------------------------------

    @property
    def sample(self) -> bytes | None:
        """The sample this widget holds (only in this process, never in widget state)."""
        return self._sample

    @property
    def filename(self) -> str:
        return self._filename

    def set_sample(self, data: bytes, filename: str, *, source: str = "file") -> Assessment:
        """Take a sample (picked or recorded), check it, and show what the checks say."""
        data = bytes(data)
        self._sample, self._filename, self._source = data, filename or "sample", source
        assessment = assess(data, self._filename)
        self.assessment = assessment
        self.analysis = self.report = None
        self._generation += 1
        self.selector.clear()
        self.report_view.value = ""
        self.editor.layout.display = "none"
        waiting = None
        if assessment.info is not None:
            waiting = '<div class="sg-measuring" style="font-size:smaller;opacity:.7">Measuring the sample…</div>'
            generation, info = self._generation, assessment.info
            self.measuring.submit(lambda: (generation, *self._measure(data, info)))
        self.checks.value = _checks_html(assessment, waiting or "", source)
        if not self.name.value.strip() and source == "file":
            self.name.placeholder = f"e.g. {filename.rsplit('.', 1)[0][:40]}"
        self.notice.clear()
        self._settle()
        return assessment

    # -- measuring (off the kernel's main thread) -----------------------------------

    def _measure(self, data: bytes, info: AudioInfo) -> tuple[SampleAnalysis, SampleReport]:
        analysis = analyse(data, self._filename, info)
        return analysis, analysis.report()

    def _measured(self, result: tuple[int, SampleAnalysis, SampleReport]) -> None:
        generation, analysis, report = result
        if generation != self._generation or self._sample is None:
            return  # a newer sample (or none) is shown now
        if self.analysis is not analysis:
            self.analysis = analysis
            decoded = analysis.decoded
            if decoded is not None:
                segments = analysis.speech_segments()
                speech = (segments[0].start, segments[-1].end) if segments else None
                self.selector.set_signal(decoded.x16, VAD_RATE, speech=speech)
        self._show(report)

    def _measure_failed(self, err: BaseException) -> None:
        self.notice.error(err, action="measuring the sample")

    def _on_selection(self, _change: dict[str, Any]) -> None:
        analysis = self.analysis
        if analysis is None or self.selector.end <= self.selector.start:
            return
        generation, a, b = self._generation, self.selector.start, self.selector.end
        self.measuring.submit(lambda: (generation, analysis, analysis.report(a, b)))

    def _show(self, report: SampleReport) -> None:
        self.report = report
        assert self.assessment is not None
        shown, _problem = _for_selection(self.assessment, report)
        picture = "" if self.analysis is not None and self.analysis.decoded is not None else None
        self.checks.value = _checks_html(shown, picture, self._source)
        self.report_view.value = report._repr_html_()
        self.editor.layout.display = ""
        self._settle()

    @property
    def problem(self) -> str | None:
        """What stops Clone now (a hard limit, of the file or of the selection), or None."""
        if self.assessment is None:
            return "Pick an audio file (or record one) first."
        return _for_selection(self.assessment, self.report)[1]

    @property
    def selection(self) -> tuple[float, float] | None:
        """(start, end) in seconds when only part of the sample is selected; None for all of it."""
        report = self.report
        if report is None or report.whole:
            return None
        return report.start, report.end

    def clear_sample(self) -> None:
        """Forget the sample (the widget state never held it)."""
        self._sample = None
        self.assessment = self.analysis = self.report = None
        self._generation += 1
        self.selector.clear()
        self.editor.layout.display = "none"
        self._settle()

    def _too_big(self, filename: str, size: int) -> None:
        """The browser kept a file over the limit (see `_guard`): say so, as the checks would."""
        self._sample, self._filename, self._source = None, filename, "file"
        self.assessment = assess_unsent(filename, size)
        self.analysis = self.report = None
        self._generation += 1
        self.selector.clear()
        self.editor.layout.display = "none"
        note = '<div style="font-size:smaller;opacity:.7">(not read: the file stayed in your browser)</div>'
        self.checks.value = _checks_html(self.assessment, note, "file")
        self.notice.clear()
        self._settle()

    def _on_pick(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        try:
            item = files[0]
            data = bytes(item["content"])
            name = str(item.get("name") or "sample")
        except Exception as err:  # noqa: BLE001
            self.notice.error(err, action="reading the picked file")
            return
        finally:
            # The bytes leave widget state at once: a saved notebook must never hold a voice sample.
            self.picker.value = ()
        try:
            self.set_sample(data, name, source="file")
        except Exception as err:  # noqa: BLE001
            self.notice.error(err, action="checking the sample")

    # -- cloning ------------------------------------------------------------------

    def on_cloned(self, callback: Callable[[VoiceModel, StatusWidget], None]) -> None:
        self._callbacks.append(callback)

    def clone(self) -> bool:
        """What the Clone button does; False when nothing was sent (and the widget says why)."""
        if self.busy.active:
            self.busy.refused += 1
            return False
        if self._sample is None or self.assessment is None:
            self.notice.error("Pick an audio file (or record one) first.")
            return False
        problem = self.problem
        if problem:
            self.notice.error(problem)
            return False
        name = self.name.value.strip()
        if not name:
            self.notice.error("Type a name for the new voice first.")
            return False
        data, filename, selection = self._sample, self._filename, self.selection
        description = self.description.value.strip() or None
        enhance = bool(self.enhance.value)

        def send() -> VoiceModel:
            if selection is None:
                return self.client.clone_voice(data, name, description, enhance, filename=filename)
            # Only the selection goes: cut exactly, at the file's own rate, mono WAV (or MP3 past 10 MB).
            part = prepare_sample(data, start=selection[0], end=selection[1], filename=filename)
            return self.client.clone_voice(bytes(part), name, description, enhance, filename=part.filename)

        what = filename if selection is None else f"the selection of {filename}"
        return self.busy.run(f"Uploading {what} and starting the clone…", send, self._cloned, action_name="cloning the voice")

    def _on_clone_clicked(self, _button: widgets.Button) -> None:
        self.clone()

    def _cloned(self, model: VoiceModel) -> None:
        # Sent: drop the only copy of the personal data this widget held.
        self._sample = None
        self.assessment = self.analysis = self.report = None
        self._generation += 1
        self.selector.clear()
        self.editor.layout.display = "none"
        self.checks.value = (
            f'<div class="sg-sample-sent" style="opacity:.8">{html.escape(self._filename)} was sent and is no longer '
            "kept here. Pick or record another sample to clone another voice.</div>"
        )
        self.notice.ok(f"Uploaded. Cloning “{model.name}” ({model.model_id})…")
        if self.status is not None:
            self.status.close()
        self.status = StatusWidget(model, self.client)
        self.status.on_finished(self._clone_finished)
        self.status_box.children = (self.status,)
        for callback in list(self._callbacks):
            callback(model, self.status)

    def _clone_finished(self, model: VoiceModel) -> None:
        if model.is_ready:
            self.notice.ok(f"“{model.name}” is ready ({model.model_id}).")
        else:
            self.notice.error(f"“{model.name}” could not be cloned; the reason is below.")

    def _settle(self) -> None:
        busy = self.busy.active
        self.picker.disabled = busy
        self.clone_button.disabled = busy or self.assessment is None or self.problem is not None

    def close(self) -> None:
        """Close the widget and its parts (a status panel stops polling)."""
        close_tree(self)

    def __repr__(self) -> str:
        held = f"holding {self._filename}" if self._sample is not None else "no sample"
        return f"<UploadWidget {held}>"
