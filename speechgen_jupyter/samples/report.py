"""What a sample report holds and how it reads: the measurements, the findings, a small table.

The report is data first (the widgets read its fields, tests compare them)
and a table second: `_repr_html_` for a notebook, `__repr__` as plain text
for terminals, logs and nbval. Neither ever holds the audio itself, only
numbers and words: a voice sample is personal data.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["LEVELS", "Finding", "Level", "Measurements", "SampleReport", "clock"]

Level = Literal["ok", "advice", "warning", "error", "unchecked"]
#: From best to worst; "unchecked" says a check could not run here (and why).
LEVELS: tuple[Level, ...] = ("ok", "unchecked", "advice", "warning", "error")

_MARKS = {
    "ok": ("✓", "#1b7a1b"),
    "advice": ("i", "#245f9e"),
    "warning": ("!", "#a15c00"),
    "error": ("✗", "#b00020"),
    "unchecked": ("?", "#6b6b6b"),
}


@dataclass(frozen=True)
class Finding:
    """One line of the report: which check, how it came out, the measured value, and advice in words."""

    check: str
    level: Level
    label: str
    value: str
    message: str


@dataclass(frozen=True)
class Measurements:
    """What was measured on a sample, or on a selection of it (`start`-`end`, seconds into the file).

    None means "not measured here" (`unavailable` says why). Times are
    seconds. `leading_sound`/`trailing_sound`/`longest_pause_sound`: the
    stretch without speech is loud (music, noise) rather than quiet.
    `speech_start`/`speech_end`: where the first speech starts and the last
    ends, in seconds into the file (what trimming silence keeps).
    """

    filename: str | None
    format: str | None
    codec: str | None
    size: int | None
    sample_rate: int | None
    channels: int | None
    source_duration: float | None
    start: float
    end: float
    speech_seconds: float | None = None
    speech_start: float | None = None
    speech_end: float | None = None
    leading_silence: float | None = None
    leading_sound: bool | None = None
    trailing_silence: float | None = None
    trailing_sound: bool | None = None
    longest_pause: float | None = None
    longest_pause_at: float | None = None
    longest_pause_sound: bool | None = None
    clipped_share: float | None = None
    peak_dbfs: float | None = None
    loudness_lufs: float | None = None
    noise_floor_dbfs: float | None = None
    snr_db: float | None = None
    speaker_gap_semitones: float | None = None
    speaker_separation: float | None = None
    speaker_minor_share: float | None = None
    truncated: bool = False
    unavailable: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        """Seconds judged: the selection's length (the whole file when nothing is selected)."""
        return self.end - self.start

    @property
    def whole(self) -> bool:
        """Whether the selection is the whole file (to within 10 ms)."""
        total = self.source_duration
        return total is None or (self.start <= 0.01 and self.end >= total - 0.01)


@dataclass(frozen=True)
class SampleReport(Measurements):
    """A sample judged against Speechgen's requirements and recording tips, before upload.

    `findings` is one `Finding` per check, worst first within the table's
    order; `ok` is False only when a hard limit is broken (those are
    errors: format, size, 10 s to 5 minutes), everything else is advice or a
    warning. Shows as a small table in a notebook.
    """

    findings: tuple[Finding, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    @property
    def level(self) -> Level:
        """The worst level among the findings."""
        worst = 0
        for f in self.findings:
            worst = max(worst, LEVELS.index(f.level))
        return LEVELS[worst]

    def finding(self, check: str) -> Finding | None:
        """The finding of one check ("duration", "speech", "start", "end", "pauses", "clipping", "loudness", "noise", "voices", "format")."""
        return next((f for f in self.findings if f.check == check), None)

    @property
    def advice(self) -> list[str]:
        """The messages worth acting on (errors, warnings and advice), in table order."""
        return [f.message for f in self.findings if f.level in ("error", "warning", "advice")]

    @property
    def verdict(self) -> str:
        """One sentence for the whole report."""
        level = self.level
        if level == "error":
            return "This sample cannot be sent as it is: " + next(f.message for f in self.findings if f.level == "error")
        counts = {lv: sum(1 for f in self.findings if f.level == lv) for lv in ("warning", "advice")}
        if counts["warning"]:
            return f"It can be sent, but {_count(counts['warning'], 'warning')} may make a poorer clone."
        if counts["advice"]:
            return f"Good to send; {_count(counts['advice'], 'piece')} of advice could make the clone better."
        return "Good to send: it meets every requirement and recording tip checked here."

    def _title(self) -> str:
        name = self.filename or "sample"
        what = [self.format.upper()] if self.format else []
        if self.sample_rate:
            what.append(f"{self.sample_rate} Hz")
        if self.channels:
            what.append({1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels"))
        span = clock(self.duration)
        if not self.whole:
            span = f"{clock(self.duration)} selected, {clock(self.start)}-{clock(self.end)} of {clock(self.source_duration or 0)}"
        return f"{name}: {span}" + (f" ({', '.join(what)})" if what else "")

    def __repr__(self) -> str:
        lines = [f"Sample report for {self._title()}"]
        for f in self.findings:
            lines.append(f"  {f.level:<9} {f.label:<10} {f.value:<14} {f.message}")
        lines.append(self.verdict)
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        rows = []
        for f in self.findings:
            mark, colour = _MARKS[f.level]
            rows.append(
                f'<tr class="sg-finding" data-check="{f.check}" data-level="{f.level}">'
                f'<td style="color:{colour};font-weight:bold;padding:1px 6px 1px 0;text-align:center">{mark}</td>'
                f'<td style="padding:1px 10px 1px 0;white-space:nowrap">{html.escape(f.label)}</td>'
                f'<td style="padding:1px 10px 1px 0;white-space:nowrap"><b>{html.escape(f.value)}</b></td>'
                f'<td style="padding:1px 0;max-width:34em">{html.escape(f.message)}</td></tr>'
            )
        return (
            f'<div class="sg-report" data-level="{self.level}" data-ok="{str(self.ok).lower()}">'
            f'<div style="margin-bottom:2px"><b>Sample report</b> <span style="opacity:.75">{html.escape(self._title())}</span></div>'
            f'<table class="sg-report-table" style="border-collapse:collapse;font-size:inherit;text-align:left">{"".join(rows)}</table>'
            f'<div class="sg-report-verdict" style="margin-top:3px">{html.escape(self.verdict)}</div>'
            '<div style="opacity:.65;font-size:smaller">Not measured: echo (room reverberation) and a steady distance '
            "from the microphone; listen for them.</div></div>"
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def clock(seconds: float | None) -> str:
    """12.3 s, or 1:02.5 past a minute."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds, 1), 60)
    return f"{int(minutes)}:{secs:04.1f}"
