"""SQLite storage for voice models, their samples and idempotency keys.

Why SQLite in WAL mode: readers never block the writer and the file survives a
SIGKILL intact (every commit is in the WAL before it returns). Each thread gets
its own connection (sqlite3 connections are not for sharing), opened in
autocommit mode; every write that touches more than one row runs in an
explicit `BEGIN IMMEDIATE` transaction, which takes the write lock up front and
so waits politely under `busy_timeout` instead of failing with "database is
locked" when two writers meet (a deferred transaction that upgrades from read
to write gets SQLITE_BUSY without waiting).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id             TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    description          TEXT,
    status               TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    created_at           REAL NOT NULL,
    estimated_completion REAL NOT NULL,
    completed_at         REAL,
    voice_id             TEXT UNIQUE,
    usage_count          INTEGER NOT NULL DEFAULT 0,
    polls                INTEGER NOT NULL DEFAULT 0,
    error_code           TEXT,
    error_message        TEXT,
    enhance              INTEGER NOT NULL DEFAULT 0,
    sample_file          TEXT NOT NULL,
    sample_name          TEXT,
    sample_seconds       REAL NOT NULL,
    profile              TEXT,
    transition           TEXT NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS samples (
    model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title    TEXT NOT NULL,
    text     TEXT NOT NULL,
    token    TEXT NOT NULL UNIQUE,
    rendered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, position)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key         TEXT PRIMARY KEY,
    model_id    TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class ModelRecord:
    """One row of `models`, as stored (the visible status is computed elsewhere)."""

    seq: int
    model_id: str
    name: str
    description: str | None
    status: str
    created_at: float
    estimated_completion: float
    completed_at: float | None
    voice_id: str | None
    usage_count: int
    polls: int
    error_code: str | None
    error_message: str | None
    enhance: bool
    sample_file: str
    sample_name: str | None
    sample_seconds: float
    profile: str | None
    transition: str
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ModelRecord:
        values = dict(row)
        values["enhance"] = bool(values["enhance"])
        return cls(**values)


@dataclass(frozen=True)
class SampleRecord:
    """A demo rendering of a model's voice; served at /cdn/samples/<token>.mp3 once rendered."""

    model_id: str
    position: int
    title: str
    text: str
    token: str
    rendered: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SampleRecord:
        values = dict(row)
        values["rendered"] = bool(values["rendered"])
        return cls(**values)


@dataclass(frozen=True)
class NewModel:
    """What the upload route knows when it creates a model."""

    model_id: str
    name: str
    description: str | None
    created_at: float
    estimated_completion: float
    enhance: bool
    sample_file: str
    sample_name: str | None
    sample_seconds: float
    transition: str


@dataclass(frozen=True)
class NewSample:
    title: str
    text: str
    token: str


class IdempotencyMismatch(Exception):
    """The key was used before for a different request."""

    def __init__(self, model_id: str) -> None:
        super().__init__(model_id)
        self.model_id = model_id


class Store:
    """Thread-safe access to one SQLite database file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        try:
            conn = self._conn()
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise RuntimeError(f"SQLite refused WAL mode for {self.path} (got {mode!r})")
            conn.executescript(_SCHEMA)
        except BaseException:
            self.close()  # a file that is not a database, say: no connection left open on it
            raise

    def quick_check(self) -> list[str]:
        """SQLite's quick integrity check of the file: ["ok"], or the problems it found."""
        return [row[0] for row in self._conn().execute("PRAGMA quick_check").fetchall()]

    # -- connections -------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the store is closed")
            # check_same_thread=False only so that close() may close every
            # thread's connection; each connection is still used by one thread.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys=ON")
            # NORMAL is durable against a crashed or killed process in WAL mode;
            # only a power cut may lose the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._connections = self._connections, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing is best effort
                pass

    # -- models ------------------------------------------------------------

    def find_idempotent(self, key: str) -> tuple[str, str] | None:
        """(model_id, fingerprint) stored under an idempotency key, if any."""
        row = self._conn().execute("SELECT model_id, fingerprint FROM idempotency_keys WHERE key = ?", (key,)).fetchone()
        return (row["model_id"], row["fingerprint"]) if row else None

    def create_model(
        self, model: NewModel, samples: Sequence[NewSample], idempotency: tuple[str, str] | None = None
    ) -> tuple[ModelRecord, bool]:
        """Insert a model, its samples and its idempotency key in one transaction.

        Returns (record, created). When the idempotency key already names a
        model made from the same request, that model comes back with
        created=False and nothing is written; a different request under the
        same key raises IdempotencyMismatch.
        """
        with self._write() as conn:
            if idempotency is not None:
                key, fingerprint = idempotency
                row = conn.execute(
                    "SELECT model_id, fingerprint FROM idempotency_keys WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    if row["fingerprint"] != fingerprint:
                        raise IdempotencyMismatch(row["model_id"])
                    existing = conn.execute("SELECT * FROM models WHERE model_id = ?", (row["model_id"],)).fetchone()
                    return ModelRecord.from_row(existing), False
            conn.execute(
                """INSERT INTO models (model_id, name, description, status, created_at, estimated_completion,
                                       enhance, sample_file, sample_name, sample_seconds, transition)
                   VALUES (?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?)""",
                (
                    model.model_id, model.name, model.description, model.created_at, model.estimated_completion,
                    int(model.enhance), model.sample_file, model.sample_name, model.sample_seconds, model.transition,
                ),
            )
            conn.executemany(
                "INSERT INTO samples (model_id, position, title, text, token) VALUES (?, ?, ?, ?, ?)",
                [(model.model_id, i, s.title, s.text, s.token) for i, s in enumerate(samples)],
            )
            if idempotency is not None:
                conn.execute(
                    "INSERT INTO idempotency_keys (key, model_id, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                    (idempotency[0], model.model_id, idempotency[1], model.created_at),
                )
            row = conn.execute("SELECT * FROM models WHERE model_id = ?", (model.model_id,)).fetchone()
        return ModelRecord.from_row(row), True

    def get_model(self, model_id: str) -> ModelRecord | None:
        row = self._conn().execute("SELECT * FROM models WHERE model_id = ?", (model_id,)).fetchone()
        return ModelRecord.from_row(row) if row else None

    def record_poll(self, model_id: str) -> ModelRecord | None:
        """Count one read of the model (for the "polls" progression) and return it."""
        row = self._conn().execute(
            "UPDATE models SET polls = polls + 1 WHERE model_id = ? RETURNING *", (model_id,)
        ).fetchone()
        return ModelRecord.from_row(row) if row else None

    def model_by_voice(self, voice_id: str) -> ModelRecord | None:
        row = self._conn().execute("SELECT * FROM models WHERE voice_id = ?", (voice_id,)).fetchone()
        return ModelRecord.from_row(row) if row else None

    def list_models(self, limit: int, before_seq: int | None = None) -> list[ModelRecord]:
        """Newest first, `limit` rows older than `before_seq` (the cursor)."""
        if before_seq is None:
            rows = self._conn().execute("SELECT * FROM models ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = self._conn().execute(
                "SELECT * FROM models WHERE seq < ? ORDER BY seq DESC LIMIT ?", (before_seq, limit)
            ).fetchall()
        return [ModelRecord.from_row(r) for r in rows]

    def models_with_status(self, status: str) -> list[ModelRecord]:
        rows = self._conn().execute("SELECT * FROM models WHERE status = ? ORDER BY seq", (status,)).fetchall()
        return [ModelRecord.from_row(r) for r in rows]

    def status_counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT status, COUNT(*) AS n FROM models GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    def increment_usage(self, model_id: str) -> None:
        self._conn().execute("UPDATE models SET usage_count = usage_count + 1 WHERE model_id = ?", (model_id,))

    def start_attempt(self, model_id: str) -> int | None:
        """Count a worker attempt before it starts (so a crash loop can be told); None if not processing."""
        row = self._conn().execute(
            "UPDATE models SET attempts = attempts + 1 WHERE model_id = ? AND status = 'processing' RETURNING attempts",
            (model_id,),
        ).fetchone()
        return row["attempts"] if row else None

    def mark_ready(self, model_id: str, voice_id: str, profile_json: str, completed_at: float) -> bool:
        """Processing -> ready, with its samples rendered. False if the model is gone or settled."""
        with self._write() as conn:
            cur = conn.execute(
                """UPDATE models SET status = 'ready', voice_id = ?, profile = ?, completed_at = ?
                   WHERE model_id = ? AND status = 'processing'""",
                (voice_id, profile_json, completed_at, model_id),
            )
            if cur.rowcount != 1:
                return False
            conn.execute("UPDATE samples SET rendered = 1 WHERE model_id = ?", (model_id,))
        return True

    def mark_failed(self, model_id: str, code: str, message: str, completed_at: float) -> bool:
        """Processing -> failed with a reason. False if the model is gone or settled."""
        cur = self._conn().execute(
            """UPDATE models SET status = 'failed', error_code = ?, error_message = ?, completed_at = ?
               WHERE model_id = ? AND status = 'processing'""",
            (code, message, completed_at, model_id),
        )
        return cur.rowcount == 1

    def delete_model(self, model_id: str) -> tuple[ModelRecord, list[SampleRecord]] | None:
        """Remove the model with its samples and idempotency keys; returns what was removed."""
        with self._write() as conn:
            row = conn.execute("SELECT * FROM models WHERE model_id = ?", (model_id,)).fetchone()
            if row is None:
                return None
            samples = conn.execute("SELECT * FROM samples WHERE model_id = ? ORDER BY position", (model_id,)).fetchall()
            conn.execute("DELETE FROM models WHERE model_id = ?", (model_id,))
        return ModelRecord.from_row(row), [SampleRecord.from_row(s) for s in samples]

    def delete_all(self) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM models")

    # -- samples -----------------------------------------------------------

    def samples_for(self, model_ids: Sequence[str]) -> dict[str, list[SampleRecord]]:
        out: dict[str, list[SampleRecord]] = {m: [] for m in model_ids}
        if not model_ids:
            return out
        marks = ",".join("?" * len(model_ids))
        rows = self._conn().execute(
            f"SELECT * FROM samples WHERE model_id IN ({marks}) ORDER BY model_id, position", tuple(model_ids)
        ).fetchall()
        for r in rows:
            out[r["model_id"]].append(SampleRecord.from_row(r))
        return out

    def sample_by_token(self, token: str) -> SampleRecord | None:
        row = self._conn().execute("SELECT * FROM samples WHERE token = ?", (token,)).fetchone()
        return SampleRecord.from_row(row) if row else None

    def referenced_files(self) -> tuple[set[str], set[str]]:
        """(upload file names, sample tokens) that rows point at: everything else on disk is an orphan."""
        conn = self._conn()
        uploads = {r[0] for r in conn.execute("SELECT sample_file FROM models")}
        tokens = {r[0] for r in conn.execute("SELECT token FROM samples")}
        return uploads, tokens

    # -- meta --------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn().execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
