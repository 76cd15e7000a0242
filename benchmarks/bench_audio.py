"""Sample-check benchmarks (issue 15), measured side by side in one run.

- `check_sample` on 10 MB of each format, today's package against the one
  before issue 15 (`BASELINE`, unpacked from git into a temp folder and timed
  in its own subprocess, exactly like today's), plus the worst cases of each
  parser (an MP3 with no Xing header is walked frame by frame, a fragmented
  M4A sums its fragments, a FLAC whose writer left the length at 0 is read
  from its last frame, 10 MB of random bytes). Aims: every one under 50 ms and
  none slower than 2x before.
- `import speechgen_jupyter`, before and after (aim < 100 ms, unchanged).
- The lines of `speechgen_jupyter/audio/`, before and after.
- When mutagen is installed (`pip install mutagen`; it is not a dependency, see
  the docstring of `speechgen_jupyter.audio`): the same files through a check
  built the obvious way on mutagen (`mutagen_check`: our content sniffing and
  limits, mutagen's length), timed the same way, and its verdict on real
  variants of each format compared with today's.

Run: python -m benchmarks.bench_audio
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

from benchmarks._report import Row, median, print_rows

ROOT = Path(__file__).resolve().parent.parent
#: main just before issue 15 changed speechgen_jupyter/audio/.
BASELINE = "657d1f95114946526c85ed99837ca574d44773c6"
TEN_MB = 10 * 1024 * 1024
RUNS = 15


# -------------------------------------------------------------------------- real files


def encode(
    seconds: float,
    container: str,
    codec: str,
    *,
    rate: int = 44_100,
    layout: str = "stereo",
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
    kind: str = "noise",
    vbr_quality: int | None = None,
) -> bytes:
    """A real file written by FFmpeg through PyAV: noise (so nothing compresses away) or silence."""
    import av
    import numpy as np

    channels = 2 if layout == "stereo" else 1
    rng = np.random.default_rng(0)
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format=container, options=options or {}) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        if bit_rate:
            stream.bit_rate = bit_rate
        if vbr_quality is not None:  # what ffmpeg's `-q:a N` does
            stream.codec_context.qscale = True
            stream.codec_context.global_quality = vbr_quality * 118  # FF_QP2LAMBDA
        size = stream.codec_context.frame_size or 1024
        block = (rng.standard_normal(size * channels * 50) * (3000 if kind == "noise" else 0)).astype(np.int16)
        total = int(seconds * rate)
        for start in range(0, total, size):
            n = min(size, total - start)
            at = (start // size) % 50 * size * channels
            frame = av.AudioFrame.from_ndarray(block[at : at + n * channels].reshape(1, -1), format="s16", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


def about_ten_mb(make: Callable[[float], bytes]) -> bytes:
    """`make(seconds)` scaled from a 10-second probe to just under 10 MB."""
    per_second = len(make(10.0)) / 10.0
    return make(TEN_MB * 0.97 / per_second)


def ten_mb_files() -> dict[str, bytes]:
    """Each format at about 10 MB, and the case that costs its parser the most."""
    import random

    flac = about_ten_mb(lambda s: encode(s, "flac", "flac"))
    no_total = bytearray(flac)
    packed = int.from_bytes(no_total[18:26], "big")
    no_total[18:26] = (packed & ~((1 << 36) - 1)).to_bytes(8, "big")  # as a writer that cannot seek back leaves it
    return {
        "wav": about_ten_mb(lambda s: encode(s, "wav", "pcm_s16le")),
        "mp3": about_ten_mb(lambda s: encode(s, "mp3", "libmp3lame", bit_rate=320_000)),
        "m4a": about_ten_mb(lambda s: encode(s, "ipod", "aac", bit_rate=320_000)),
        "flac": flac,
        "ogg": about_ten_mb(lambda s: encode(s, "ogg", "libopus", rate=48_000, bit_rate=320_000)),
        "mp3 without Xing header (walked)": about_ten_mb(
            lambda s: encode(s, "mp3", "libmp3lame", bit_rate=320_000, options={"write_xing": "0", "id3v2_version": "0"})
        ),
        "fragmented m4a (fragments summed)": about_ten_mb(
            lambda s: encode(s, "mp4", "aac", bit_rate=320_000, options={"movflags": "+frag_keyframe+empty_moov"})
        ),
        "flac with total 0 (last frame read)": bytes(no_total),
        "random bytes": random.Random(15).randbytes(TEN_MB),
    }


# -------------------------------------------------------------------------- before and after, each in its own process

_TIMER = r"""
import json, sys, time
from pathlib import Path
import speechgen_jupyter
from speechgen_jupyter.audio import check_sample
from speechgen_jupyter.errors import SpeechgenError

assert Path(speechgen_jupyter.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), speechgen_jupyter.__file__
runs, out = int(sys.argv[3]), {}
for path in sorted(Path(sys.argv[2]).glob("*.bin")):
    data, times = path.read_bytes(), []
    for _ in range(runs):
        t = time.perf_counter()
        try:
            check_sample(data, "sample")
        except SpeechgenError:
            pass
        times.append(time.perf_counter() - t)
    out[path.stem] = sorted(times)[len(times) // 2]
print(json.dumps(out))
"""

_IMPORT = "import time; t = time.perf_counter(); import speechgen_jupyter; print(time.perf_counter() - t)"


@contextmanager
def baseline_tree() -> Iterator[Path | None]:
    """The package as it was at BASELINE, in a temp folder (None when git or the commit is missing)."""
    folder = Path(tempfile.mkdtemp(prefix="sg-baseline-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE, "speechgen_jupyter"],
            capture_output=True, check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        yield folder
    except (OSError, subprocess.CalledProcessError):
        yield None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _env(package_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHGEN_")}
    env["PYTHONPATH"] = str(package_root)  # ahead of the editable install
    return env


def check_times(package_root: Path, files: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, str(package_root), str(files), str(RUNS)],
        capture_output=True, text=True, check=True, env=_env(package_root), cwd=files,
    ).stdout
    return json.loads(out)


def import_time(package_root: Path, cwd: Path, runs: int = 7) -> float:
    times = [
        float(subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True, check=True,
                             env=_env(package_root), cwd=cwd).stdout)
        for _ in range(runs)
    ]
    return median(times)


def audio_lines(package_root: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (package_root / "speechgen_jupyter" / "audio").glob("*.py"))


# -------------------------------------------------------------------------- the alternative: a check built on mutagen


def mutagen_check(data: bytes, filename: str = "sample") -> tuple[str, float | None]:
    """(format, seconds) the obvious way on mutagen: our sniffing says which format, mutagen reads the length.

    Raises `UnsupportedMediaTypeError` like `check_sample` for what is not one
    of the five formats (our sniffing), for MPEG layers I/II, and for anything
    mutagen cannot parse. A length of 0 is taken as "unknown" (no refusal), the
    most generous reading. Benchmark-only: the package does not use mutagen.
    """
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    from speechgen_jupyter.audio._base import _Refuse
    from speechgen_jupyter.audio._identify import _sniff
    from speechgen_jupyter.errors import UnsupportedMediaTypeError

    try:
        fmt, _parse = _sniff(data)
    except _Refuse as exc:
        raise UnsupportedMediaTypeError(f"{filename} {exc.tail}") from None
    readers = {"mp3": [MP3], "wav": [WAVE], "m4a": [MP4], "flac": [FLAC], "ogg": [OggOpus, OggVorbis, OggFLAC]}[fmt]
    for reader in readers:
        try:
            info = reader(io.BytesIO(data)).info
        except Exception:  # noqa: BLE001 - mutagen raises its own errors and, on hostile input, others
            continue
        if fmt == "mp3" and info.layer != 3:
            raise UnsupportedMediaTypeError(f"{filename} is MPEG Layer {info.layer} audio")
        return fmt, (info.length if info.length > 0 else None)
    raise UnsupportedMediaTypeError(f"{filename} looks like {fmt}, but mutagen cannot read it")


def mutagen_verdict(data: bytes) -> str:
    from speechgen_jupyter.audio import DURATION_TOLERANCE, MAX_BYTES, MAX_SECONDS, MIN_SECONDS, PADDING_TOLERANCE
    from speechgen_jupyter.errors import UnsupportedMediaTypeError

    if len(data) > MAX_BYTES:
        return "too large"
    try:
        _fmt, seconds = mutagen_check(data)
    except UnsupportedMediaTypeError:
        return "refused"
    if seconds is not None and seconds < MIN_SECONDS - DURATION_TOLERANCE:
        return f"too short ({seconds:.1f} s)"
    if seconds is not None and seconds > MAX_SECONDS + PADDING_TOLERANCE:
        return f"too long ({seconds:.1f} s)"
    return "accepted"


def our_verdict(data: bytes) -> str:
    from speechgen_jupyter.audio import check_sample, inspect_audio
    from speechgen_jupyter.errors import AudioValidationError, PayloadTooLargeError, UnsupportedMediaTypeError

    try:
        check_sample(data)
    except PayloadTooLargeError:
        return "too large"
    except UnsupportedMediaTypeError:
        return "refused"
    except AudioValidationError:
        seconds = inspect_audio(data).duration or 0.0
        return f"too {'short' if seconds < 10 else 'long'} ({seconds:.1f} s)"
    return "accepted"


def verdict_variants() -> dict[str, bytes]:
    """Real files of each format at and around the limits, and the odd ones the tests read."""
    import struct

    def small(seconds: float, container: str, codec: str, **kw: object) -> bytes:
        return encode(seconds, container, codec, rate=16_000, layout="mono", kind="silence", **kw)  # type: ignore[arg-type]

    codecs = {"mp3": ("mp3", "libmp3lame"), "wav": ("wav", "pcm_s16le"), "m4a": ("ipod", "aac"),
              "flac": ("flac", "flac"), "ogg": ("ogg", "libopus")}
    out: dict[str, bytes] = {}
    for fmt, (container, codec) in codecs.items():
        opus = fmt == "ogg"  # Opus takes 48 kHz, not 16 or 8
        out[f"{fmt} 9.8 s"] = encode(9.8, container, codec, rate=48_000 if opus else 16_000, layout="mono", kind="silence")
        out[f"{fmt} 12 s"] = encode(12.0, container, codec, rate=48_000 if opus else 16_000, layout="mono", kind="silence")
        out[f"{fmt} 300.5 s"] = encode(300.5, container, codec, rate=48_000 if opus else 8_000, layout="mono", kind="silence")
    mp3 = out["mp3 12 s"]
    out["mp3 VBR, no Xing header"] = encode(12.0, "mp3", "libmp3lame", layout="mono", vbr_quality=6,
                                           options={"write_xing": "0", "id3v2_version": "0"})
    out["mp3 cut to 6 s"] = mp3[: len(mp3) // 2]
    lying = bytearray(mp3)
    at = lying.index(b"Info")
    struct.pack_into(">I", lying, at + 8, 50_000_000)
    out["mp3 whose Xing header lies"] = bytes(lying)
    out["mp2 named mp3"] = small(12.0, "mp2", "mp2")
    out["m4a fragmented (Safari's recorder)"] = small(12.0, "mp4", "aac", options={"movflags": "+frag_keyframe+empty_moov"})
    out["wav RF64"] = small(12.0, "wav", "pcm_s16le", options={"rf64": "always"})
    wav = out["wav 12 s"]
    for size in (0, 0xFFFFFFFF):
        streaming = bytearray(wav)
        struct.pack_into("<I", streaming, streaming.index(b"data") + 4, size)
        struct.pack_into("<I", streaming, 4, size)
        out[f"wav with streaming size {size:#x}"] = bytes(streaming)
    out["wav cut to 6 s"] = wav[: len(wav) // 2]
    flac = bytearray(out["flac 12 s"])
    packed = int.from_bytes(flac[18:26], "big")
    flac[18:26] = (packed & ~((1 << 36) - 1)).to_bytes(8, "big")
    out["flac with total 0"] = bytes(flac)
    ogg = out["ogg 12 s"]
    out["ogg cut to 6 s"] = ogg[: len(ogg) // 2]
    return out


def bench_verdicts() -> Row:
    variants = verdict_variants()
    differ = []
    for name, data in variants.items():
        ours, theirs = our_verdict(data), mutagen_verdict(data)
        if ours.split(" (")[0] != theirs.split(" (")[0]:
            differ.append(f"{name}: {ours} / mutagen {theirs}")
    return Row(
        "mutagen-based check: verdicts unlike today's", len(differ), "cases", "(for scale)",
        f"of {len(variants)} real files around the limits and odd ones (today's verdict / mutagen's): " + "; ".join(differ),
    )


# -------------------------------------------------------------------------- the rows


def bench_checks() -> list[Row]:
    files = ten_mb_files()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sg-bench-audio-") as tmp, baseline_tree() as before_root:
        folder = Path(tmp)
        names = {}
        for i, (name, data) in enumerate(files.items()):
            stem = f"{i:02d}"
            names[stem] = name
            (folder / f"{stem}.bin").write_bytes(data)
        after_runs, before_runs = [], []
        for _ in range(2):  # interleaved, so drift hits both alike
            after_runs.append(check_times(ROOT, folder))
            if before_root is not None:
                before_runs.append(check_times(before_root, folder))
        theirs: dict[str, float] = {}
        try:
            import mutagen  # noqa: F401
        except ImportError:
            mutagen_note = "; mutagen not installed"
        else:
            mutagen_note = ""
            for stem in names:
                data = (folder / f"{stem}.bin").read_bytes()
                times = []
                for _ in range(RUNS):
                    t = time.perf_counter()
                    try:
                        mutagen_check(data)
                    except Exception:  # noqa: BLE001 - a refusal is a result too
                        pass
                    times.append(time.perf_counter() - t)
                theirs[stem] = median(times)
        ratios = []
        for stem, name in names.items():
            after = min(run[stem] for run in after_runs) * 1000
            detail = f"{len(files[name]) / 1e6:.1f} MB, median of {RUNS} in a fresh process"
            if before_runs:
                before = min(run[stem] for run in before_runs) * 1000
                ratios.append((after / before if before > 0 else 1.0, name))
                detail += f"; before issue 15 {before:.3f} ms ({after / before:.2f}x)"
            if stem in theirs:
                detail += f"; mutagen-based {theirs[stem] * 1000:.3f} ms"
            rows.append(Row(f"check_sample, {name}", after, "ms", "< 50 ms", detail + mutagen_note))
        if ratios:
            worst, name = max(ratios)
            rows.append(Row("slowest check against before issue 15", worst, "x", "<= 2", f"{name}; each row has both times"))
        if before_root is not None:
            rows.append(Row(
                "import speechgen_jupyter", import_time(ROOT, folder) * 1000, "ms", "< 100 ms",
                f"median of 7 fresh processes; before issue 15 {import_time(before_root, folder) * 1000:.0f} ms",
            ))
            before_lines, after_lines = audio_lines(before_root), audio_lines(ROOT)
            rows.append(Row(
                "lines in speechgen_jupyter/audio/", after_lines, "lines", "(for scale)",
                f"before issue 15 {before_lines} ({after_lines - before_lines:+d})",
            ))
    return rows


def run() -> list[Row]:
    """Every benchmark of this module, as `python -m benchmarks` gathers them."""
    rows = bench_checks()
    try:
        import mutagen  # noqa: F401
    except ImportError:
        return rows
    return [*rows, bench_verdicts()]


def main() -> None:
    print_rows("Sample checks (issue 15)", run())


if __name__ == "__main__":
    main()
