"""The local server's offline voice engine.

Everything the local Speechgen-compatible server needs to turn uploads into
voices and text into audio, with wheels only (PyAV, libespeak-ng through
espeakng-loader, Praat through parselmouth, Silero VAD lite) and no download
at run time. Importing this package is cheap: the native libraries load on
first use.
"""

from __future__ import annotations

from .clone import ProfileError, build_profile, reference_audio, warm_up
from .codec import (
    ACCEPTED_CONTAINERS,
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    AudioDecodeError,
    DecodedAudio,
    UnsupportedFormatError,
    decode,
    encode,
)
from .enhance import enhance
from .synthesis import synthesize
from .voices import BuiltinVoice, VoiceProfile, builtin_voices, get_builtin_voice

__all__ = [
    "ACCEPTED_CONTAINERS",
    "AudioDecodeError",
    "BuiltinVoice",
    "ProfileError",
    "build_profile",
    "reference_audio",
    "enhance",
    "warm_up",
    "VoiceProfile",
    "builtin_voices",
    "get_builtin_voice",
    "synthesize",
    "DecodedAudio",
    "MEDIA_TYPES",
    "OUTPUT_FORMATS",
    "UnsupportedFormatError",
    "decode",
    "encode",
]
