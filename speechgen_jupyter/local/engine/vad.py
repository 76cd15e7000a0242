"""Where is there speech? Silero VAD, shared with the client: see `speechgen_jupyter.sound.vad`."""

from ...sound.vad import (  # noqa: F401 - the server's modules import these from here
    FRAME_SECONDS,
    VAD_RATE,
    SpeechSegment,
    VadStream,
    segments_from_probabilities,
    speech_probabilities,
    speech_segments,
    speech_seconds,
    windows,
)
from ...sound.vad import __all__  # noqa: F401
