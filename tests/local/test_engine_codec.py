"""Decode every accepted container and round-trip every output format, on real files."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

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


# ---- decoding from disk, at the analysis rate, without holding more than the result -----------


@pytest.fixture(scope="module")
def five_minutes_44k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-minute 44.1 kHz FLAC on disk: 10 s of the voiced test signal, 30 times over (cheap to make)."""
    path = tmp_path_factory.mktemp("codec") / "long.flac"
    path.write_bytes(media.encode(np.tile(media.signal("voiced", 10.0, 44_100), 30), "flac", 44_100))
    return path


def test_decode_reads_bytes_a_path_and_a_file_alike(tmp_path: Path) -> None:
    data = media.make_audio("mp3", 6.0)
    path = tmp_path / "sample.bin"  # no extension: the content decides, not the name
    path.write_bytes(data)
    from_bytes = decode(data)
    from_path = decode(path)
    from_str = decode(str(path))
    with open(path, "rb") as f:
        from_file = decode(f)
    for other in (from_path, from_str, from_file):
        assert other.container == "mp3" and other.sample_rate == from_bytes.sample_rate
        assert np.array_equal(other.samples, from_bytes.samples)


def test_decode_refuses_alike_from_a_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        decode(empty)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(media.make_audio("flac", 10.0)[:100])
    with pytest.raises(AudioDecodeError) as info:
        decode(cut)
    assert info.value.detected == "flac"
    aiff = tmp_path / "voice.mp3"
    aiff.write_bytes(_foreign("aiff", "pcm_s16be"))
    with pytest.raises(UnsupportedFormatError):
        decode(aiff)


def test_five_minutes_decode_straight_to_16k_holding_only_the_result(five_minutes_44k: Path) -> None:
    # tracemalloc sees every numpy allocation: deterministic, unlike RSS. Decoding
    # into chunks and concatenating would peak at twice the result; decoding at
    # 44.1 kHz and resampling afterwards at ~3.8x.
    import tracemalloc

    decode(five_minutes_44k, rate=16_000, max_seconds=1.0)  # imports and FFmpeg set-up out of the way
    tracemalloc.start()
    try:
        audio = decode(five_minutes_44k, rate=16_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert audio.container == "flac" and audio.sample_rate == 16_000 and not audio.truncated
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.samples.size - 300 * 16_000) <= 16  # resampler rounding only
    assert audio.samples.flags.owndata  # one array, not a view into something larger
    assert peak < 1.1 * audio.samples.nbytes, (peak, audio.samples.nbytes)
    # The same signal as decoding at 44.1 kHz and resampling afterwards (first 20 s).
    native = decode(five_minutes_44k, max_seconds=20.0)
    assert native.sample_rate == 44_100
    after = resample(native.samples[: 20 * 44_100], 44_100, 16_000)
    assert np.max(np.abs(after[: 19 * 16_000] - audio.samples[: 19 * 16_000])) < 1e-3


def test_max_seconds_counts_at_the_output_rate(five_minutes_44k: Path) -> None:
    audio = decode(five_minutes_44k, rate=16_000, max_seconds=120.0)
    assert audio.truncated and audio.sample_rate == 16_000
    assert audio.samples.size == 120 * 16_000 + 1  # one past the limit: "longer than", not "exactly"


def test_open_audio_streams_what_decode_returns() -> None:
    from speechgen_jupyter.local.engine.codec import open_audio

    data = media.make_audio("ogg", 12.0)
    whole = decode(data, rate=16_000)
    with open_audio(data, rate=16_000) as stream:
        assert (stream.container, stream.sample_rate, stream.source_rate) == ("ogg", 16_000, 48_000)
        blocks = list(stream.blocks())
    assert stream.decoded_samples == whole.samples.size and not stream.truncated
    assert max(b.size for b in blocks) < 16_000  # blocks, not the whole signal
    assert np.allclose(np.concatenate(blocks), whole.samples, atol=1e-6)


def test_decode_needs_a_seekable_file() -> None:
    import os

    read, write = os.pipe()
    with os.fdopen(write, "wb") as w:
        w.write(media.make_audio("wav", 1.0)[:4096])
    with os.fdopen(read, "rb") as r, pytest.raises(TypeError, match="seekable"):
        decode(r)


def test_resample_in_blocks_matches_one_pass() -> None:
    # Longer than one of resample()'s blocks: the joins must not show.
    x = media.signal("voiced", 9.0, 22_050)
    y = resample(x, 22_050, 16_000)
    r = av.AudioResampler(format="flt", layout="mono", rate=16_000)
    fr = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
    fr.sample_rate, fr.pts, fr.time_base = 22_050, 0, Fraction(1, 22_050)
    one = np.concatenate([f.to_ndarray().reshape(-1) for f in [*r.resample(fr), *r.resample(None)]])
    assert y.size == int(round(x.size * 16_000 / 22_050))
    n = min(y.size, one.size)
    assert np.max(np.abs(y[:n] - one[:n])) < 1e-6
