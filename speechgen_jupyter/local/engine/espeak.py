"""A small ctypes binding to the libespeak-ng that `espeakng-loader` ships.

Why ctypes and not a wrapper package: the wheel already carries the library
and its data (no apt, no download), and we need only five calls.

libespeak-ng keeps ONE global voice and parameter state, and its callback
writes into whatever buffer is current: every call therefore runs under one
process-wide lock, and every synthesis sets the voice and all parameters
afresh (rate and pitch persist across `SetVoiceByName`, we measured).

Voices are described by an `EspeakVoiceSpec` and always loaded from a voice
file we write: the language file (e.g. ``lang/gmw/en-US``) plus a variant
(``voices/!v/m3``) plus our overrides (pitch in Hz, formant scale). That lets
a cloned voice set its pitch in Hz and scale its formants, which
`espeak_SetParameter` cannot. `espeak_SetVoiceByFile` lowercases the path it
is given, so the files live in a directory whose lowercased path is itself.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["EspeakError", "EspeakVoiceSpec", "synth", "phonemes", "sample_rate", "data_path"]

# espeak_AUDIO_OUTPUT / options / parameters / flags from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_RATE, _VOLUME, _PITCH, _RANGE, _PUNCTUATION, _CAPITALS, _WORDGAP = 1, 2, 3, 4, 5, 6, 7
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_POS_CHARACTER = 1

#: espeak's accepted speaking rates (words per minute).
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450

_LOCK = threading.RLock()
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakError(RuntimeError):
    """libespeak-ng refused a call (unknown voice, bad file, not initialised)."""


@dataclass(frozen=True)
class EspeakVoiceSpec:
    """Everything that decides how espeak sounds, as plain data.

    `language` is a file under ``espeak-ng-data/lang`` (``gmw/en-US``);
    `variant` one under ``voices/!v`` (``m3``) or None; `pitch_hz` the
    voice file's ``pitch <base> <top>`` line in Hz (None keeps the variant's);
    `formant_scale` multiplies every formant frequency (vocal-tract length:
    <1 sounds larger, >1 smaller); `rate_wpm` is espeak's speaking rate.
    """

    language: str
    variant: str | None = None
    pitch_hz: tuple[float, float] | None = None
    formant_scale: float = 1.0
    rate_wpm: float = 175.0

    def voice_file_text(self) -> str:
        """The voice file espeak will load for this spec."""
        root = Path(data_path())
        lines = ["name speechgen"]
        for line in (root / "lang" / self.language).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("name"):
                lines.append(line)
        formants: dict[int, list[str]] = {}
        if self.variant:
            for line in (root / "voices" / "!v" / self.variant).read_text(encoding="utf-8").splitlines():
                words = line.split()
                if not words or words[0] in ("name", "language") or line.startswith("//"):
                    continue
                if words[0] == "formant" and len(words) >= 3 and words[1].isdigit():
                    formants[int(words[1])] = words[2:]
                    continue
                if words[0] == "pitch" and self.pitch_hz is not None:
                    continue
                lines.append(line)
        if self.pitch_hz is not None:
            base, top = self.pitch_hz
            lines.append(f"pitch {int(round(base))} {int(round(max(top, base + 1)))}")
        if self.formant_scale != 1.0 or formants:
            # Formants 1-5 carry the vowel quality and the speaker's size; the
            # very low (0) and very high (6-8) ones keep the variant's values.
            for n in range(0, 9):
                values = list(formants.get(n, ["100", "100", "100"]))
                if 1 <= n <= 5 and self.formant_scale != 1.0:
                    values[0] = str(int(round(float(values[0]) * self.formant_scale)))
                if n in formants or (1 <= n <= 5 and self.formant_scale != 1.0):
                    lines.append(f"formant {n} " + " ".join(values))
        return "\n".join(lines) + "\n"


class _Library:
    """The loaded library, initialised once per process."""

    def __init__(self) -> None:
        import espeakng_loader  # lazy: only the first synthesis pays for it

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK_TYPE]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByFile.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByFile.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.data_path = espeakng_loader.get_data_path()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path.encode(), _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}) with data at {self.data_path}")
        self.lib = lib
        self.sample_rate = int(rate)
        self.chunks: list[np.ndarray] = []
        # Keep a reference: ctypes would free the trampoline otherwise.
        self._callback = _CALLBACK_TYPE(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self.voice_dir = _voice_directory()
        self.loaded_voice: str | None = None

    def _on_audio(self, wav: ctypes._Pointer, count: int, events: int) -> int:
        if wav and count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0 = go on


# espeak keeps a voice-file path in a short fixed buffer: on this machine a
# 57-character path loaded and a 61-character one failed (status 2). A long
# TMPDIR (macOS's default is one) would otherwise break every synthesis.
_MAX_VOICE_PATH = 56
_VOICE_NAME_LENGTH = 13  # "v" + 12 hex digits of the voice file's hash


def _voice_directory() -> Path:
    """A private directory espeak can load voice files from.

    espeak lowercases the voice-file path, so the directory must be reachable
    by its lowercased path (true for /tmp on Linux, and for any path on the
    case-insensitive file systems of macOS and Windows), and the whole path
    must fit espeak's buffer, so the first short enough candidate wins.
    """
    candidates = [tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]
    for base in candidates:
        try:
            made = tempfile.mkdtemp(prefix="sgv", dir=base)
        except OSError:
            continue
        fits = len(made) + 1 + _VOICE_NAME_LENGTH <= _MAX_VOICE_PATH
        if fits and os.path.isdir(made.lower()) and os.path.samefile(made, made.lower()):
            # One small file per distinct voice setting; gone when the process ends.
            import shutil

            atexit.register(shutil.rmtree, made, True)
            return Path(made)
        os.rmdir(made)
    raise EspeakError(
        "no writable directory with a short lowercase path for espeak voice files (tried "
        + ", ".join(candidates)
        + f"; espeak needs the file's whole path within {_MAX_VOICE_PATH} characters)"
    )


_library: _Library | None = None


def _get() -> _Library:
    global _library
    with _LOCK:
        if _library is None:
            _library = _Library()
        return _library


def sample_rate() -> int:
    """espeak's output rate (22050 Hz for the bundled data)."""
    return _get().sample_rate


def data_path() -> str:
    """The espeak-ng-data directory inside the espeakng-loader wheel."""
    import espeakng_loader

    return espeakng_loader.get_data_path()


def _voice_file(lib: _Library, spec: EspeakVoiceSpec) -> str:
    text = spec.voice_file_text()
    name = "v" + hashlib.sha1(text.encode()).hexdigest()[: _VOICE_NAME_LENGTH - 1]
    path = lib.voice_dir / name
    if not path.exists():
        # A temp cleaner may have removed the directory under a long-lived server.
        lib.voice_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return str(path)


def synth(text: str, spec: EspeakVoiceSpec) -> tuple[np.ndarray, int]:
    """Speak `text` with the voice `spec`: float32 mono in [-1, 1] and its rate.

    Thread-safe (one global lock). Not bit-exact from call to call: espeak's
    output length wanders by a few samples (measured: under 1 ms a sentence,
    even with its random seed fixed), so tests compare measurements, not bytes.
    """
    lib = _get()
    data = text.encode("utf-8")
    with _LOCK:
        _load_voice(lib, spec)
        rate = int(round(min(max(spec.rate_wpm, MIN_RATE_WPM), MAX_RATE_WPM)))
        for param, value in ((_RATE, rate), (_VOLUME, 100), (_PITCH, 50), (_RANGE, 50), (_PUNCTUATION, 0), (_CAPITALS, 0), (_WORDGAP, 0)):
            lib.lib.espeak_SetParameter(param, value, 0)
        lib.chunks = []
        status = lib.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        chunks, lib.chunks = lib.chunks, []
    if status != 0:
        raise EspeakError(f"espeak_Synth failed (status {status})")
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return (pcm.astype(np.float32) / 32768.0), lib.sample_rate


def _load_voice(lib: _Library, spec: EspeakVoiceSpec) -> None:
    """Make `spec` espeak's current voice (call under `_LOCK`)."""
    path = _voice_file(lib, spec)
    if lib.loaded_voice != path:
        status = lib.lib.espeak_SetVoiceByFile(path.encode())
        if status != 0:
            lib.loaded_voice = None
            raise EspeakError(f"espeak could not load voice {spec} (status {status})")
        lib.loaded_voice = path


def phonemes(text: str, language: str = "gmw/en-US") -> str:
    """espeak-ng's IPA reading of `text` (one clause at a time, joined by spaces), as Piper voices expect.

    espeak drops the punctuation between clauses; the caller keeps it
    (`piper.phonemize` splits at punctuation first and adds it back).
    """
    lib = _get()
    data = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
    pointer = ctypes.c_void_p(ctypes.addressof(data))
    parts: list[str] = []
    with _LOCK:
        _load_voice(lib, EspeakVoiceSpec(language=language))
        # espeak advances the pointer past each clause and sets it to NULL at the end.
        while pointer.value:
            got = lib.lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _PHONEMES_IPA)
            if got:
                parts.append(got.decode("utf-8", "replace").strip())
    return " ".join(p for p in parts if p)
