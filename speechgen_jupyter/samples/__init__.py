"""Judge and prepare a voice sample before it is sent: a report, and a trimmed, cleaned copy.

    import speechgen_jupyter as sg
    report = sg.check_sample("podcast.mp3")      # a table in a notebook; errors for the hard limits
    ready = sg.prepare_sample("podcast.mp3", start=8.0, trim_silence=True, loudness=-20)
    client.clone_voice(ready, name="Me", filename=ready.filename)

Modules, one job each: `decoding` (one pass over the bytes), `analysis`
(measure once, report on any selection), `verdicts` (measurements against
the page's rules and tips, as advice), `report` (the data and its table),
`check` (`check_sample`: hard limits, then the report), `prepare`
(`prepare_sample`). The signal code shared with the local server is in
`speechgen_jupyter.sound`.
"""

from __future__ import annotations

from .analysis import SampleAnalysis, analyse
from .check import check_sample
from .prepare import PreparedSample, prepare_sample
from .report import Finding, Measurements, SampleReport

__all__ = [
    "Finding",
    "Measurements",
    "PreparedSample",
    "SampleAnalysis",
    "SampleReport",
    "analyse",
    "check_sample",
    "prepare_sample",
]
