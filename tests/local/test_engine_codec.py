"""Decode every accepted container and round-trip every output format, on real files."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

import media
from speechgen_jupyter.local.engine import (
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    AudioDecodeError,
    UnsupportedFormatError,
    decode,
    encode,
)
from speechgen_jupyter.local.engine.codec import resample


def _foreign(fmt: str, codec: str, rate: int = 16_000, seconds: float = 3.0) -> bytes:
    """A real audio file in a container the API does not accept."""
    x = media.signal("voiced", seconds, rate)
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as c:
        s = c.add_stream(codec, rate=rate)
        s.layout = "mono"
        size = s.codec_context.frame_size or 1024
        for i in range(0, len(x), size):
            fr = av.AudioFrame.from_ndarray(x[i : i + size].reshape(1, -1), format="flt", layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = rate, i, Fraction(1, rate)
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", media.FORMATS)
def test_decode_every_accepted_container(fmt: str) -> None:
    audio = decode(media.make_audio(fmt, 4.0))
    assert audio.container == fmt
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration - 4.0) < 0.1
    assert float(np.max(np.abs(audio.samples))) <= 1.0
    # The content decodes to the signal, not to silence.
    assert float(np.sqrt(np.mean(audio.samples**2))) > 0.05


def test_container_is_judged_from_content_not_name() -> None:
    # decode() never sees a name; a FLAC is a FLAC whatever it is called.
    assert decode(media.make_audio("flac", 2.0)).container == "flac"


def test_stereo_downmix_stays_in_full_scale() -> None:
    rate = 16_000
    t = np.arange(rate * 2) / rate
    loud = (0.999 * np.sign(np.sin(2 * np.pi * 200 * t))).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as c:
        s = c.add_stream("pcm_s16le", rate=rate)
        s.layout = "stereo"
        fr = av.AudioFrame.from_ndarray(
            (np.stack([loud, loud]).T.reshape(1, -1) * 32767).astype(np.int16), format="s16", layout="stereo"
        )
        fr.sample_rate, fr.pts = rate, 0
        for p in s.encode(fr):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    audio = decode(buf.getvalue())
    assert float(np.max(np.abs(audio.samples))) <= 1.0
    assert float(np.max(np.abs(audio.samples))) > 0.9


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
@pytest.mark.parametrize("rate", [22_050, 16_000])
def test_encode_decode_round_trip(fmt: str, rate: int) -> None:
    x = media.signal("voiced", 3.0, rate)
    data = encode(x, rate, fmt)
    audio = decode(data)
    assert audio.container == fmt
    assert abs(audio.duration - 3.0) < 0.06
    # Same loudness in and out (lossy codecs keep the energy of a harmonic signal).
    rms_in = float(np.sqrt(np.mean(x**2)))
    rms_out = float(np.sqrt(np.mean(audio.samples**2)))
    assert rms_out == pytest.approx(rms_in, rel=0.15)


def test_lossless_round_trip_is_sample_exact_to_16_bits() -> None:
    x = media.signal("voiced", 1.0, 22_050)
    for fmt in ("wav", "flac"):
        audio = decode(encode(x, 22_050, fmt))
        assert audio.sample_rate == 22_050
        assert np.max(np.abs(audio.samples - x)) < 1.0 / 16_000


def test_media_types_cover_every_output_format() -> None:
    assert set(MEDIA_TYPES) == set(OUTPUT_FORMATS)
    assert MEDIA_TYPES == {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac"}


def test_encode_unknown_format_is_value_error() -> None:
    with pytest.raises(ValueError, match="aiff"):
        encode(np.zeros(100, np.float32), 16_000, "aiff")


def test_text_file_is_not_audio() -> None:
    with pytest.raises(AudioDecodeError) as info:
        decode(b"ID-less text pretending to be an MP3 because of its name.\n" * 40)
    assert info.value.detected is None
    assert not isinstance(info.value, UnsupportedFormatError)


def test_empty_is_refused() -> None:
    with pytest.raises(AudioDecodeError):
        decode(b"")


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "flac", "ogg"])
def test_cut_inside_header_is_refused_and_recognised(fmt: str) -> None:
    data = media.make_audio(fmt, 10.0)[:100]
    with pytest.raises(AudioDecodeError) as info:
        decode(data)
    assert info.value.detected == fmt


def test_cut_part_way_keeps_what_is_there() -> None:
    data = media.make_audio("wav", 10.0)
    audio = decode(data[: len(data) // 2])
    assert 4.5 < audio.duration < 5.5


@pytest.mark.parametrize(("fmt", "codec", "rate", "name"), [("webm", "libopus", 48_000, "WebM"), ("aiff", "pcm_s16be", 16_000, "AIFF")])
def test_other_containers_are_unsupported_and_named(fmt: str, codec: str, rate: int, name: str) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        decode(_foreign(fmt, codec, rate))
    assert info.value.detected is not None and name in info.value.detected


def test_max_seconds_stops_a_decompression_bomb_early() -> None:
    audio = decode(media.make_audio("flac", 20.0, kind="silence"), max_seconds=5.0)
    assert audio.truncated
    assert audio.duration < 6.0
    assert not decode(media.make_audio("flac", 4.0), max_seconds=5.0).truncated


def test_resample_keeps_duration_and_pitch() -> None:
    x = media.signal("tone", 1.0, 22_050)
    y = resample(x, 22_050, 16_000)
    assert len(y) == 16_000
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 16_000 / len(y) - 220.0) < 2.0
