"""Audio files under the data directory, written atomically.

Layout: `uploads/<model_id>.audio` (the accepted sample, kept so a restarted
server can finish cloning it), `samples/<token>.mp3` (rendered demos served
at the CDN-like URL) and `tmp/` (uploads in flight). Every file appears under
its final name only complete (write to tmp, fsync, `os.replace`), and a path
is only ever built from a name this module validated, and a sample is only
served from a regular file (never through a symlink), so nothing outside the
data directory can be read or written whatever a request says.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from .ids import MODEL_ID_RE, SAMPLE_TOKEN_RE

_UPLOAD_NAME_RE = re.compile(r"^vm_[a-z0-9]{1,64}\.audio$")


class Blobs:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.uploads = self.root / "uploads"
        self.samples = self.root / "samples"
        self.tmp = self.root / "tmp"
        for d in (self.uploads, self.samples, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    # -- uploads -----------------------------------------------------------

    def new_temp(self) -> tuple[Path, BinaryIO]:
        """An open temporary file for an upload in flight (same filesystem, so adopting it is a rename)."""
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="upload-", suffix=".part")
        return Path(name), os.fdopen(fd, "wb")

    @staticmethod
    def upload_name(model_id: str) -> str:
        if not MODEL_ID_RE.match(model_id):
            raise ValueError(f"not a model id: {model_id!r}")
        return f"{model_id}.audio"

    def adopt_upload(self, temp: Path, model_id: str) -> str:
        """Move a complete, fsynced temp upload to its final name; returns that name."""
        name = self.upload_name(model_id)
        os.replace(temp, self.uploads / name)
        return name

    def upload_path(self, name: str) -> Path:
        if not _UPLOAD_NAME_RE.match(name):
            raise ValueError(f"not an upload file name: {name!r}")
        return self.uploads / name

    # -- rendered samples --------------------------------------------------

    def sample_path(self, token: str) -> Path:
        if not SAMPLE_TOKEN_RE.match(token):
            raise ValueError("not a sample token")
        return self.samples / f"{token}.mp3"

    def servable_sample(self, token: str) -> tuple[Path, os.stat_result] | None:
        """The rendered sample's path and stat, if it is a regular file right in samples/; else None.

        A symlink planted in the data directory (at the sample's name, or as
        samples/ itself) is never followed: whatever it points at is outside
        what this server may serve. The final component is checked with
        O_NOFOLLOW, the directory by resolving it.
        """
        path = self.sample_path(token)
        if self.samples.resolve() != self.samples:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # missing, or a symlink (ELOOP)
            return None
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
        return (path, info) if stat.S_ISREG(info.st_mode) else None

    def write_sample(self, token: str, data: bytes) -> None:
        self._atomic_write(self.sample_path(token), data)

    # -- housekeeping ------------------------------------------------------

    def remove(self, upload_name: str | None, tokens: list[str]) -> None:
        paths = [self.sample_path(t) for t in tokens]
        if upload_name:
            paths.append(self.upload_path(upload_name))
        for p in paths:
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def sweep(self, keep_uploads: set[str], keep_tokens: set[str], *, temp_files: bool = True) -> int:
        """Delete every file no row points at (left by a crash) and, at start, temp files; returns how many.

        `temp_files=False` while serving: a temp file may be an upload in flight.
        """
        removed = 0
        for p in self.tmp.iterdir() if temp_files else ():
            p.unlink(missing_ok=True)
            removed += 1
        for p in self.uploads.iterdir():
            if p.name not in keep_uploads:
                p.unlink(missing_ok=True)
                removed += 1
        for p in self.samples.iterdir():
            if p.suffix != ".mp3" or p.stem not in keep_tokens:
                p.unlink(missing_ok=True)
                removed += 1
        return removed

    def _atomic_write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix=path.stem[:16] + "-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
