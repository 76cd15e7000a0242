"""Can the server keep its data here? Checked once, at start, and said in one line if not.

A data directory that cannot be written, or a database file that is not one
(random bytes, another program's file) or is damaged, made the server print a
page of traceback at start, or start without a word and then answer every
clone and delete with a 500. Each is the user's to fix, not a bug, so each is
a `DataDirError` whose message names the path, what is wrong and what to do;
`speechgen-local` prints it as one line and exits with status 2.

What is checked, in order:
- the directory and its uploads/, samples/ and tmp/ take a new file (a probe
  written and removed): permission bits, ACLs and read-only mounts all answer
  alike, and root is refused only where it really cannot write;
- the database opens as SQLite, passes `PRAGMA quick_check` (cheap on a store
  this size: it reads every page once but checks no index against its table),
  and takes a write.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from ..errors import SpeechgenError
from .blobs import Blobs
from .store import Store

_ELSEWHERE = "or start the server with another data directory (--data-dir, or start(data_dir=...))"
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_PERM = 3


class DataDirError(SpeechgenError):
    """The data directory cannot be served from; the message says why and what to do."""


def prepare(root: Path, db_name: str) -> tuple[Store, Blobs]:
    """Open the store and the file tree under `root`, or raise `DataDirError`."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"The data directory {root} cannot be created ({exc.strerror}): {_ELSEWHERE}.") from None
    if not root.is_dir():
        raise DataDirError(f"The data directory {root} is not a directory: {_ELSEWHERE}.")
    check_writable(root)
    store = open_store(root / db_name)
    try:
        try:
            blobs = Blobs(root)
        except OSError as exc:
            raise DataDirError(
                f"The data directory {root} cannot hold its folders ({exc.strerror}): make it writable, {_ELSEWHERE}."
            ) from None
        for folder in (blobs.uploads, blobs.samples, blobs.tmp):
            check_writable(folder)
    except BaseException:
        store.close()
        raise
    return store, blobs


def check_writable(folder: Path) -> None:
    """Write and remove a probe file in `folder`; `DataDirError` if it cannot be done."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    except OSError as exc:
        raise DataDirError(
            f"The data directory {folder} cannot be written ({exc.strerror}): make it writable, {_ELSEWHERE}."
        ) from None
    os.close(fd)
    os.unlink(probe)


def open_store(path: Path) -> Store:
    """The store at `path`, whole and writable, or `DataDirError` saying what is wrong with the file."""
    try:
        store = Store(path)
    except sqlite3.DatabaseError as exc:
        raise _database_error(path, exc) from None
    try:
        problems = store.quick_check()
        if problems != ["ok"]:
            found = [p.strip() for row in problems for p in str(row).splitlines() if p.strip() and "***" not in p]
            first = found[0][:100] if found else "no detail"
            raise DataDirError(
                f"The database {path} is damaged (SQLite's quick_check found {len(found)} problem"
                f"{'s' if len(found) != 1 else ''}, the first: {first}). Move it aside (the server then "
                f"starts with an empty store), {_ELSEWHERE}."
            )
        store.set_meta("opened_at", f"{time.time():.3f}")  # a real write, so a read-only file is found now
    except sqlite3.DatabaseError as exc:
        store.close()
        raise _database_error(path, exc) from None
    except BaseException:
        store.close()
        raise
    return store


def _database_error(path: Path, exc: sqlite3.DatabaseError) -> DataDirError:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _SQLITE_NOTADB:
        return DataDirError(
            f"The database {path} is not an SQLite database ({exc}): it is damaged, or another program's file. "
            f"Move it aside (the server then starts with an empty store), {_ELSEWHERE}."
        )
    if code == _SQLITE_CORRUPT:
        return DataDirError(
            f"The database {path} is damaged ({exc}). Move it aside (the server then starts with an empty store), "
            f"{_ELSEWHERE}."
        )
    if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM):
        return DataDirError(f"The database {path} cannot be written ({exc}): make it writable, {_ELSEWHERE}.")
    return DataDirError(f"The database {path} cannot be opened ({exc}): move it aside, {_ELSEWHERE}.")
