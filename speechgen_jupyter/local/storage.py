"""When the data directory cannot take a write: a disk that is full, or one that went read-only.

Neither is a bug, and neither goes away if the client sends the same request
again at once, so both answer 507 Insufficient Storage (which the client does
not retry), each with its own code and a message that says what to do, and
are logged in one line rather than with a traceback. What failed is whatever
wrote: the upload's temporary file, SQLite's commit, a rendered sample; each
of those leaves nothing behind on failure (see blobs.py, uploads.py, store.py),
so the only thing to add here is the answer.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from .problems import error_response

logger = logging.getLogger("speechgen_jupyter.local")

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_DENIED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_SQLITE_FULL = 13
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_IOERR = 10
_NEARLY_FULL_BYTES = 1024 * 1024  # less than this free, and a failed write was for want of space

FULL = (
    "insufficient_storage",
    "The server's disk is full, so it could not store what this needed, and kept nothing of it. Free some space "
    "where the server keeps its data (or start it with --data-dir on a larger disk), then try again.",
)
READ_ONLY = (
    "storage_read_only",
    "The server cannot write to its data directory (it is read-only, or its permissions changed), so it kept "
    "nothing of this. Make the directory writable (or start the server with --data-dir elsewhere), then try again.",
)


def storage_problem(exc: BaseException, data_dir: Path | None = None) -> tuple[str, str] | None:
    """(code, message) when `exc` says the data directory cannot take a write, else None.

    An OSError says so by its errno. SQLite says SQLITE_FULL or
    SQLITE_READONLY, but reports most other failed writes (EROFS, EFBIG...) as
    a bare I/O error; for those, the filesystem under `data_dir` is asked
    whether it is read-only or out of space. An I/O error on a healthy disk
    stays a 500: that is a fault to see in the log.
    """
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return FULL
        if exc.errno in _DENIED_ERRNOS:
            return READ_ONLY
        return _ask_filesystem(data_dir) if exc.errno == errno.EIO else None
    if isinstance(exc, sqlite3.Error):
        primary = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if primary == _SQLITE_FULL:
            return FULL
        if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
            return READ_ONLY
        if primary == _SQLITE_IOERR:
            return _ask_filesystem(data_dir)
    return None


def _ask_filesystem(data_dir: Path | None) -> tuple[str, str] | None:
    if data_dir is None:
        return None
    try:
        fs = os.statvfs(data_dir)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return READ_ONLY
    if fs.f_bavail * fs.f_frsize < _NEARLY_FULL_BYTES:
        return FULL
    return None


async def handle_storage_failure(request: Any, exc: Exception) -> Any:
    """Starlette's handler for OSError and sqlite3.Error: a full or read-only store is a 507, anything else a bug."""
    services = getattr(request.app.state, "services", None)
    problem = storage_problem(exc, getattr(services, "data_dir", None))
    if problem is None:
        raise exc  # not a storage problem: ServerErrorMiddleware answers 500 and logs the traceback
    logger.warning("%s %s refused (%s): %s", request.method, request.url.path, problem[0], exc)
    return error_response(507, *problem)
