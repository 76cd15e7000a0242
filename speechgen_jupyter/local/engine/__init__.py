"""The local server's offline voice engine.

Everything the local Speechgen-compatible server needs to turn uploads into
voices and text into audio, with wheels only (PyAV, libespeak-ng through
espeakng-loader, Praat through parselmouth, Silero VAD lite, and for the
neural voices onnxruntime with hibari-tts and Piper's joe voice) and no
download at run time. Importing this package is cheap: the native libraries load on
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
from .fitting import fit_neural
from .synthesis import sample_rate, stream, synthesize
from .voices import (
    BuiltinVoice,
    NeuralProfile,
    VoiceProfile,
    builtin_voices,
    espeak_voices,
    get_builtin_voice,
    neural_voices,
    profile_from_dict,
)

__all__ = [
    "ACCEPTED_CONTAINERS",
    "AudioDecodeError",
    "BuiltinVoice",
    "ProfileError",
    "build_profile",
    "reference_audio",
    "enhance",
    "fit_neural",
    "warm_up",
    "VoiceProfile",
    "NeuralProfile",
    "profile_from_dict",
    "builtin_voices",
    "espeak_voices",
    "neural_voices",
    "sample_rate",
    "stream",
    "get_builtin_voice",
    "synthesize",
    "DecodedAudio",
    "MEDIA_TYPES",
    "OUTPUT_FORMATS",
    "UnsupportedFormatError",
    "decode",
    "encode",
]
