"""espeak keeps voice-file paths in a short buffer: a long TMPDIR must not break speech.

macOS's default TMPDIR (/var/folders/xx/.../T/) is long enough to have broken
every synthesis before the engine chose its voice directory by length.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_speech_works_under_a_long_tmpdir(tmp_path: Path) -> None:
    long_tmp = tmp_path / ("a-long-temporary-directory-name-" * 3)
    long_tmp.mkdir()
    code = (
        "from speechgen_jupyter.local.engine import synthesize, builtin_voices\n"
        "samples, rate = synthesize('Hello there, this is a test.', builtin_voices()[0])\n"
        "print(len(samples) / rate)\n"
    )
    env = dict(os.environ, TMPDIR=str(long_tmp))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 1.0 < float(out.stdout) < 5.0
