"""ipywidgets components over the shared client, for people who use the mouse.

    import speechgen_jupyter as sg
    sg.studio()                                   # everything in one widget

or the parts on their own: `UploadWidget` (pick a sample, see its checks,
drag a selection on its waveform with its report beside it, clone it), `RecorderWidget` (record from the microphone into an
upload), `StatusWidget` (follow one model to ready or failed), `AudioPlayer`
(play speech: no loop, no autoplay unless asked, a download link) and
`ModelsTable`. Importing this package imports ipywidgets and anywidget; the
top-level `speechgen_jupyter` stays light and loads it on first use.
"""

from __future__ import annotations

from .player import AudioPlayer
from .recorder import RecorderWidget
from .status import StatusWidget
from .studio import Studio, studio
from .table import ModelsTable
from .upload import UploadWidget

__all__ = ["AudioPlayer", "ModelsTable", "RecorderWidget", "StatusWidget", "Studio", "UploadWidget", "studio"]
