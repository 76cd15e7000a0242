"""`check_sample`: the hard limits as errors (today's), then the report on what the limits do not cover."""

from __future__ import annotations

from ..audio import DURATION_TOLERANCE, MAX_BYTES, MAX_SECONDS, MIN_SECONDS, PADDING_TOLERANCE, inspect_audio
from ..audio import _too_large_message  # the upload path's own wording
from ..audio import check_sample as check_limits
from ..errors import AudioValidationError, PayloadTooLargeError
from .._inputs import AudioInput, read_audio_input
from .analysis import analyse
from .report import SampleReport, clock

__all__ = ["check_sample"]


def check_sample(
    sample: AudioInput, filename: str | None = None, *, start: float | None = None, end: float | None = None
) -> SampleReport:
    """Judge a sample (a path, bytes or a binary file) before upload; it shows as a table in a notebook.

    The hard limits are raised as the client's upload raises them:
    `PayloadTooLargeError` over 10 MB, `UnsupportedMediaTypeError` when it is
    not MP3/WAV/M4A/FLAC/OGG, `AudioValidationError` outside 10 s to 5 minutes
    (of the selection, when `start`/`end` pick one, in seconds). Everything
    else (speech, silence at the ends, pauses, voices, noise, clipping,
    loudness, format) comes back as findings worded as advice. Nothing is
    written or sent; the sample is read, never changed.

    This name used to return the headers' `AudioInfo`; the report
    carries the same `format`, `size`, `sample_rate` and `channels`, and
    `duration` (of the selection). `speechgen_jupyter.audio.check_sample`
    still returns `AudioInfo`.
    """
    name, data = read_audio_input(sample, filename)
    label = filename or (name if name != "sample" else None)
    if start is None and end is None:
        info = check_limits(data, label)
    else:
        # The file's own length is not the question then; its size and format still are.
        if len(data) > MAX_BYTES:
            raise PayloadTooLargeError(_too_large_message(label or "The sample", len(data), label), filename=label)
        info = inspect_audio(data)
    report = analyse(data, label, info).report(start, end)
    _raise_for_length(report, info.duration if start is None and end is None else None)
    return report


def _raise_for_length(report: SampleReport, header_duration: float | None) -> None:
    """Outside 10 s to 5 minutes is an error, as in the upload path: here for a selection, or a length no header gave."""
    if header_duration is not None and report.whole:
        return  # check_limits judged the file's own length already
    d = report.duration
    if MIN_SECONDS - DURATION_TOLERANCE <= d <= MAX_SECONDS + PADDING_TOLERANCE:
        return
    finding = report.finding("duration")
    message = finding.message if finding else f"{clock(d)} is outside 10 seconds to 5 minutes."
    raise AudioValidationError(message, filename=report.filename)
