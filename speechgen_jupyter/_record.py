"""The record of the voice models made (or tracked) through this package, kept between kernels.

Why it exists: Speechgen's public page documents no listing of models, only
GET /v1/models/{model_id}. A server that offers just the page can tell you
about a model only if you already know its id, so "your voice models" are the
ones this computer remembers: every model cloned through a client, and any
model tracked by its id (one made with the page's curl example, say).

What a row holds: model id, name, description, status, voice id once known,
the sample URLs from the 201 answer, created_at and estimated_completion. It
is keyed by the service (the base URL, without any credentials in it) and the
account (`Client.account`, a salted fingerprint: the key itself is never
stored). It cannot be rebuilt from the service, so it lives in the user's data
folder (`user_data_dir()`, read at each use), not in a cache.

How it stays whole: one SQLite file in WAL mode with a busy timeout. Two
kernels writing at once take turns; every change is one transaction, and a
merge (keep what the record knew when the server's answer lacks it) happens
inside that transaction, so concurrent writers never lose each other's rows.
A file that is not a database (torn, overwritten) is a miss, never data: it is
moved aside, with a warning saying where, and a fresh record is started. A
record that cannot be written (a read-only home, a full disk) never fails the
API call that wanted to write it: the call succeeds, and a warning says what
was not remembered.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from ._paths import user_data_dir
from .types import VoiceModel

__all__ = ["ModelRecord", "RECORD_FILE", "service_key"]

log = logging.getLogger("speechgen_jupyter")

RECORD_FILE = "models.sqlite3"
#: Seconds a writer waits for another kernel's transaction before giving up on this write.
BUSY_TIMEOUT = 15.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    service TEXT NOT NULL,
    account TEXT NOT NULL,
    model_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    voice_id TEXT,
    samples TEXT NOT NULL DEFAULT '[]',
    created_at TEXT,
    estimated_completion TEXT,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (service, account, model_id)
)
"""
_COLUMNS = ("model_id", "name", "description", "status", "voice_id", "samples", "created_at", "estimated_completion")
# Insert a model, or merge it into the row already there: the newest answer wins for what it
# says, and what it does not say (no description, no samples: the page's GET shows neither)
# is kept from before. One statement, so a concurrent writer cannot slip in between.
_UPSERT = """
INSERT INTO models (service, account, model_id, name, description, status, voice_id, samples,
                    created_at, estimated_completion, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (service, account, model_id) DO UPDATE SET
    name = CASE WHEN excluded.name = '' THEN models.name ELSE excluded.name END,
    description = COALESCE(excluded.description, models.description),
    status = excluded.status,
    voice_id = COALESCE(excluded.voice_id, CASE WHEN excluded.status = 'ready' THEN models.voice_id END),
    samples = CASE WHEN excluded.samples = '[]' THEN models.samples ELSE excluded.samples END,
    created_at = COALESCE(excluded.created_at, models.created_at),
    estimated_completion = COALESCE(excluded.estimated_completion, models.estimated_completion)
"""

_warned: set[tuple[str, str]] = set()


def service_key(base_url: httpx.URL | str) -> str:
    """The service a row belongs to: the base URL without user:password (never stored)."""
    url = httpx.URL(str(base_url))
    path = url.path if url.path.endswith("/") else url.path + "/"  # as the client resolves a base URL
    return str(url.copy_with(username=None, password=None, path=path, query=None, fragment=None))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _warn_once(path: Path, what: str, err: BaseException) -> None:
    if (str(path), what) in _warned:
        return
    _warned.add((str(path), what))
    log.warning("speechgen_jupyter: could not %s the record of your voice models at %s: %s", what, path, err)


class ModelRecord:
    """The models one account made or tracked on one service, as this computer remembers them.

    `Client.record` is the one for that client's service and account. Reads
    that fail return nothing; writes that fail are skipped with a warning.
    """

    def __init__(self, service: str, account: str, folder: Callable[[], Path] = user_data_dir) -> None:
        self.service = service
        self.account = account
        self._folder = folder

    @property
    def path(self) -> Path:
        """The record's file (the data folder is read at each use, so SPEECHGEN_DATA_DIR can change)."""
        return self._folder() / RECORD_FILE

    # ------------------------------------------------------------------ reading

    def get(self, model_id: str) -> VoiceModel | None:
        """The remembered model with this id, or None (no network: what this computer knows)."""
        rows = self._read(
            f"SELECT {', '.join(_COLUMNS)} FROM models WHERE service = ? AND account = ? AND model_id = ?",
            (self.service, self.account, model_id),
        )
        return _model(rows[0]) if rows else None

    def models(self) -> list[VoiceModel]:
        """Every remembered model of this account on this service, newest first."""
        rows = self._read(
            f"SELECT {', '.join(_COLUMNS)} FROM models WHERE service = ? AND account = ? "
            "ORDER BY created_at IS NULL, created_at DESC, recorded_at DESC",
            (self.service, self.account),
        )
        return [_model(row) for row in rows]

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    # ------------------------------------------------------------------ writing

    def remember(self, model: VoiceModel) -> None:
        """Add a model, or bring its row up to date (what the answer lacks is kept)."""
        samples = json.dumps(
            [{"title": s.title, "text": s.text, "audio_url": s.audio_url} for s in model.samples if s.audio_url]
        )
        row = (
            self.service, self.account, model.model_id, model.name, model.description, model.status,
            model.voice_id, samples, _iso(model.created_at), _iso(model.estimated_completion), time.time(),
        )
        self._write("remember a model in", lambda db: db.execute(_UPSERT, row))

    def update(self, model: VoiceModel, known: VoiceModel | None = None) -> None:
        """Bring a remembered model's row up to date; a model not in the record is not added.

        `known` is the row as the caller just read it (`get`), which saves reading it again. A row
        that would not change is not written: a GET per poll or per table row is the common case,
        and a write transaction each time cost more than the request itself (measured: get_model
        went from 1.0x to 2.5x a bare httpx GET with a write per call).
        """
        if known is None:
            known = self.get(model.model_id)
        if known is not None and _remembered(known) != _remembered(model):
            self.remember(model)

    def forget(self, model_id: str) -> bool:
        """Drop a model from the record (the model itself is untouched); True if it was there."""
        removed: list[int] = []

        def delete(db: sqlite3.Connection) -> None:
            cursor = db.execute(
                "DELETE FROM models WHERE service = ? AND account = ? AND model_id = ?",
                (self.service, self.account, model_id),
            )
            removed.append(cursor.rowcount)

        self._write("forget a model in", delete)
        return bool(removed and removed[0])

    def forget_service(self) -> int:
        """Drop every row of this service, whatever the account (a temporary local server that has stopped)."""
        removed: list[int] = []
        self._write(
            "clean up",
            lambda db: removed.append(db.execute("DELETE FROM models WHERE service = ?", (self.service,)).rowcount),
        )
        return removed[0] if removed else 0

    # ------------------------------------------------------------------ SQLite

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection | None]:
        path = self.path
        if not create:
            yield _reader(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            if create:  # a reader needs neither: WAL is a property of the file, and no table is no rows
                _prepare(db)
            yield db
        finally:
            db.close()

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        for attempt in (1, 2):
            try:
                with self._connect(create=False) as db:
                    return [] if db is None else list(db.execute(sql, args))
            except sqlite3.OperationalError as err:  # locked for too long, unreadable folder...
                _drop_reader()
                if "no such table" not in str(err):  # a file made by a kernel that has not written yet
                    _warn_once(self.path, "read", err)
                return []
            except sqlite3.DatabaseError as err:  # not a database: a miss, and moved aside
                _drop_reader()  # closed first: a file held open cannot be moved on Windows
                if attempt == 2 or not self._set_aside(err):
                    return []
        return []

    def _write(self, what: str, change: Callable[[sqlite3.Connection], Any]) -> None:
        for attempt in (1, 2):
            try:
                with self._connect(create=True) as db:
                    assert db is not None
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        change(db)
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    db.execute("COMMIT")
                    return
            except OSError as err:  # the folder cannot be made
                _warn_once(self.path, what, err)
                return
            except sqlite3.OperationalError as err:  # read-only, disk full, locked past the timeout
                _warn_once(self.path, what, err)
                return
            except sqlite3.DatabaseError as err:
                if attempt == 2 or not self._set_aside(err):
                    _warn_once(self.path, what, err)
                    return

    def _set_aside(self, err: BaseException) -> bool:
        """Move a file that is not a readable database out of the way (kept for a person to look at)."""
        path = self.path
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        try:
            path.replace(aside)
        except FileNotFoundError:
            return True  # another kernel moved it already
        except OSError:
            return False
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        log.warning(
            "speechgen_jupyter: the record of your voice models at %s could not be read (%s); it was moved to %s "
            "and a new record started. `%%speechgen track MODEL_ID` remembers a model again.",
            path, err, aside,
        )
        return True

    def __repr__(self) -> str:
        return f"<ModelRecord {self.service} {self.account}>"


_readers = threading.local()


def _reader(path: Path) -> sqlite3.Connection | None:
    """This thread's open reading connection to the record at `path`, or None if there is no record yet.

    Why kept open: opening SQLite costs more than the query (0.3 ms of a 1.3 ms get_model on
    loopback, measured), and get_model reads the record on every call. It is reopened when the
    path or the file itself changes (another kernel moved an unreadable record aside), so a reader
    never keeps reading a file that is no longer the record.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_dev, stat.st_ino)
    held = getattr(_readers, "held", None)
    if held is not None and held[0] == key:
        return held[1]
    _drop_reader()
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=True)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    _readers.held = (key, db)
    return db


def _drop_reader() -> None:
    """Close this thread's reading connection (after an error: the next read opens afresh)."""
    held = getattr(_readers, "held", None)
    _readers.held = None
    if held is not None:
        held[1].close()


def _prepare(db: sqlite3.Connection) -> None:
    """WAL and the table: idempotent, and cheap once done, but racy the first time.

    Switching a new file to WAL needs the file to itself, and SQLite answers
    "database is locked" at once (no busy wait) while another kernel holds it;
    so the switch is retried until the busy timeout, as SQLite would for a write.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute(_SCHEMA)
            return
        except sqlite3.OperationalError as err:
            if ("locked" not in str(err) and "busy" not in str(err)) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _remembered(model: VoiceModel) -> tuple[Any, ...]:
    """What the record keeps of a model (its row without the time it was written)."""
    samples = [(s.title, s.text, s.audio_url) for s in model.samples if s.audio_url]
    return (
        model.name, model.description, model.status, model.voice_id, samples,
        _iso(model.created_at), _iso(model.estimated_completion),
    )


def _model(row: tuple[Any, ...]) -> VoiceModel:
    data = dict(zip(_COLUMNS, row, strict=True))
    try:
        samples = json.loads(data["samples"] or "[]")
    except ValueError:
        samples = []
    data["samples"] = samples if isinstance(samples, list) else []
    return VoiceModel.from_api({k: v for k, v in data.items() if v is not None})
