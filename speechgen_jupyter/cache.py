"""Speech already paid for, kept on disk, so a re-run asks the service for nothing.

Each text-to-speech result is stored under a digest of everything that
decides its audio: the service (its base URL) and the account (a fingerprint
that never contains or reveals the key; see `Secret.fingerprint`), and the
request itself (text, voice, format and any other field). A re-run of a
cell, a "Run All", a re-executed tutorial or a restarted batch then finds its
speech here and sends no request, which on the real service is billed by the
character. Clones, errors and partial results are never stored.

Why diskcache (rather than our own folder of files): it is a small, pure
Python, widely used store that already does what a cache shared by several
kernels needs and is easy to get wrong by hand: a SQLite index with
transactions, so two processes can read and write at once; each value
written to its own new file *before* the row that points at it is committed,
so a process killed mid-write leaves no entry (only an orphan file that is
never read); a size bound with least-recently-used eviction; and tags, so the
speech of one voice can be dropped at once when its model is deleted.

What this module adds on top, and why:

* **Nothing is ever unpickled.** diskcache pickles values it does not know;
  a cache folder is only as trusted as the user's home, but reading it must
  never run code. Keys are hex digests, values plain bytes, and a row of any
  other kind is treated as a miss (`_BytesOnlyDisk`).
* **A torn file is a miss, never data.** Each value is framed with the
  entry's own key digest and a SHA-256 of its contents, checked on every
  read: a file cut short (a crash before the disk caught up, a full disk)
  or swapped is deleted and reported as a miss.
* **Counters that survive the kernel**: hits and characters saved,
  shared by every kernel using the folder (in a small store of their own,
  which is never evicted).

The folder is `user_cache_dir()/speech` (platformdirs; `SPEECHGEN_CACHE_DIR`
overrides it, read at each use). It is bounded (1 GiB unless set otherwise;
the bound is kept in the folder, so every kernel using it shares it).
diskcache is imported when the cache is first used, never by
`import speechgen_jupyter`.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _constants as C
from ._paths import user_cache_dir

if TYPE_CHECKING:  # pragma: no cover
    from .types import Speech

__all__ = ["CacheKey", "CacheStats", "SpeechCache", "default_cache", "speech_key"]

#: Changing how keys are made or values framed changes this, so old entries are simply never found.
_SCHEME = "speechgen_jupyter/speech-cache/v1"
_MAGIC = b"SGJ\x01"
_HEADER = struct.Struct(">4sI")  # magic, length of the JSON metadata
_DIGEST_SIZE = 32


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class CacheKey:
    """Where one request's speech is kept: a digest of everything that decides the audio.

    `tag` groups the entries of one voice of one account on one service, so
    deleting the voice model can drop them all.
    """

    digest: str
    tag: str
    voice: str
    format: str
    chars: int


def _digest(*parts: Any) -> str:
    blob = json.dumps([_SCHEME, *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def voice_tag(scope: str, voice: str) -> str:
    return _digest("voice", scope, voice)[:40]


def speech_key(scope: str, method: str, url: str, body: Mapping[str, Any]) -> CacheKey:
    """The key of a text-to-speech request: `scope` (service and account) plus the whole request.

    The body is hashed whole, so a field this package does not know about yet
    still keeps two different requests apart.
    """
    voice = str(body.get("voice", ""))
    text = body.get("text")
    return CacheKey(
        digest=_digest("speech", scope, method.upper(), url, dict(body)),
        tag=voice_tag(scope, voice),
        voice=voice,
        format=str(body.get("format", "")),
        chars=len(text) if isinstance(text, str) else 0,
    )


# --------------------------------------------------------------------------- storage


def _bytes_only_disk() -> type:
    import diskcache

    class _BytesOnlyDisk(diskcache.Disk):  # type: ignore[misc]
        """diskcache's Disk, refusing anything but str keys and bytes (or counter int) values, both ways."""

        def put(self, key: Any) -> Any:
            if type(key) is not str:
                raise TypeError("speech cache keys are hex digests")
            return super().put(key)

        def get(self, key: Any, raw: bool) -> Any:
            if not raw:
                raise _NotOurs("a pickled key")
            return super().get(key, raw)

        def store(self, value: Any, read: bool, key: Any = None) -> Any:
            if type(value) not in (bytes, int):
                raise TypeError("speech cache values are bytes (or counters)")
            return super().store(value, read, key=key)

        def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
            if mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY) or read:
                raise _NotOurs(f"a value stored in mode {mode}")
            data = super().fetch(mode, filename, value, read)
            if type(data) not in (bytes, int):
                raise _NotOurs("a value that is not bytes")
            return data

    return _BytesOnlyDisk


class _NotOurs(Exception):
    """A row this package did not write (or cannot trust): a miss."""


def _frame(key: CacheKey, speech: Speech) -> bytes:
    meta = json.dumps(
        {"key": key.digest, "format": speech.format, "voice": key.voice, "chars": key.chars, "stored": time.time()},
        separators=(",", ":"),
    ).encode("utf-8")
    digest = hashlib.sha256(meta + speech.data).digest()
    return _HEADER.pack(_MAGIC, len(meta)) + meta + digest + speech.data


def _unframe(key: CacheKey, blob: bytes) -> tuple[dict[str, Any], bytes] | None:
    """The metadata and audio of a stored value, or None if it is not whole and ours."""
    if len(blob) < _HEADER.size:
        return None
    magic, meta_len = _HEADER.unpack_from(blob)
    start = _HEADER.size
    if magic != _MAGIC or len(blob) < start + meta_len + _DIGEST_SIZE:
        return None
    meta_bytes = blob[start : start + meta_len]
    digest = blob[start + meta_len : start + meta_len + _DIGEST_SIZE]
    audio = blob[start + meta_len + _DIGEST_SIZE :]
    if not audio or hashlib.sha256(meta_bytes + audio).digest() != digest:
        return None
    try:
        meta = json.loads(meta_bytes)
    except ValueError:
        return None
    if not isinstance(meta, dict) or meta.get("key") != key.digest or not isinstance(meta.get("format"), str):
        return None
    return meta, audio


def _evict_to_bound(store: Any) -> None:
    """Evict least recently used entries one at a time until the folder is within its bound.

    diskcache's own `cull()` evicts ten at a time, which empties a small
    cache to make room for one entry; its per-entry step (`_cull` with a
    limit, the very code `set` runs) is used here instead. Pinned to
    diskcache 5, where it has this signature.
    """
    for _ in range(100_000):
        if store.volume() <= store.size_limit or not len(store):
            return
        with store._transact(retry=True) as (sql, cleanup):
            store._cull(time.time(), sql, cleanup, limit=1)


@dataclass(frozen=True)
class CacheStats:
    """What `%speechgen cache` shows."""

    directory: Path
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    chars_saved: int

    def __str__(self) -> str:
        return (
            f"{self.entries:,} entries, {_size(self.bytes)} of {_size(self.max_bytes)}; "
            f"{self.hits:,} hits, {self.chars_saved:,} characters not sent again "
            f"({self.directory})"
        )


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class SpeechCache:
    """A bounded, process-safe store of text-to-speech results (see the module docstring).

    `directory` defaults to `user_cache_dir()/speech`; `max_bytes` sets the
    size bound for everyone using the folder (left as it is when None; 1 GiB
    for a new folder).
    """

    def __init__(self, directory: str | Path | None = None, *, max_bytes: int | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else user_cache_dir() / "speech"
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError("max_bytes must be a positive number of bytes")
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._store: Any = None
        self._counters: Any = None

    # -- opening -------------------------------------------------------------------------

    def _open(self) -> tuple[Any, Any]:
        with self._lock:
            if self._store is None:
                import diskcache

                # cull_limit 1: each write evicts at most the one least recently used entry (diskcache's
                # default of 10 at a time would empty a small cache); `put` evicts more when one is not enough.
                settings: dict[str, Any] = {"eviction_policy": "least-recently-used", "tag_index": True, "cull_limit": 1}
                if self._max_bytes is not None:
                    settings["size_limit"] = int(self._max_bytes)
                elif not (self.directory / "cache.db").exists():
                    settings["size_limit"] = C.CACHE_MAX_BYTES
                # Otherwise the folder keeps the bound stored in it (set by whoever made it, or `set_max_bytes`).
                store = diskcache.Cache(str(self.directory), disk=_bytes_only_disk(), **settings)
                counters = diskcache.Cache(
                    str(self.directory.with_name(self.directory.name + "-stats")),
                    disk=_bytes_only_disk(),
                    eviction_policy="none",
                )
                self._store, self._counters = store, counters
            return self._store, self._counters

    def exists(self) -> bool:
        """Is there a cache in this folder yet (without making one)?"""
        return (self.directory / "cache.db").exists()

    def close(self) -> None:
        """Close the database connections (reopened on next use)."""
        with self._lock:
            for store in (self._store, self._counters):
                if store is not None:
                    store.close()
            self._store = self._counters = None

    # -- reading and writing ----------------------------------------------------------------

    def get(self, key: CacheKey, *, text: str | None = None) -> Speech | None:
        """The stored speech for `key`, or None (a miss). A damaged entry is removed and is a miss."""
        from .types import Speech

        store, counters = self._open()
        try:
            blob = store.get(key.digest)
        except _NotOurs:
            blob = b""
        found = _unframe(key, blob) if isinstance(blob, bytes) else None
        if found is None:
            if blob is not None:  # there was something, and it was not whole: never serve it
                store.delete(key.digest)
            return None
        meta, audio = found
        counters.incr("hits")
        counters.incr("chars_saved", key.chars)
        return Speech(audio, meta["format"], text=text, voice=key.voice)

    def put(self, key: CacheKey, speech: Speech) -> None:
        """Store a whole, successful result (written to a new file, then committed: never half visible)."""
        store, _ = self._open()
        store.set(key.digest, _frame(key, speech), tag=key.tag)
        _evict_to_bound(store)  # a new entry may be larger than the one evicted for it

    def forget_voice(self, scope: str, voice: str) -> int:
        """Drop every entry of `voice` on this scope (its model was deleted); how many went."""
        store, _ = self._open()
        return int(store.evict(voice_tag(scope, voice)))

    def clear(self) -> int:
        """Drop every entry and reset the counters; how many entries went."""
        store, counters = self._open()
        removed = int(store.clear())
        counters.clear()
        return removed

    # -- size and numbers -----------------------------------------------------------------------

    @property
    def max_bytes(self) -> int:
        store, _ = self._open()
        return int(store.size_limit)

    def set_max_bytes(self, max_bytes: int) -> None:
        """Change the bound for this folder (every kernel using it); evicts at once down to it."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be a positive number of bytes")
        store, _ = self._open()
        store.reset("size_limit", int(max_bytes))
        _evict_to_bound(store)

    def volume(self) -> int:
        """Bytes on disk (the index and the files), as the bound counts them."""
        store, _ = self._open()
        return int(store.volume())

    def __len__(self) -> int:
        store, _ = self._open()
        return len(store)

    def stats(self) -> CacheStats:
        store, counters = self._open()
        return CacheStats(
            directory=self.directory,
            entries=len(store),
            bytes=int(store.volume()),
            max_bytes=int(store.size_limit),
            hits=int(counters.get("hits", 0)),
            chars_saved=int(counters.get("chars_saved", 0)),
        )

    def __repr__(self) -> str:
        return f"<SpeechCache {str(self.directory)!r}>"


# --------------------------------------------------------------------------- the user's cache

_shared_lock = threading.Lock()
_shared: dict[Path, SpeechCache] = {}


def default_cache() -> SpeechCache:
    """The cache in the user's cache folder, one instance per folder (the folder is read at each call)."""
    directory = user_cache_dir() / "speech"
    with _shared_lock:
        cache = _shared.get(directory)
        if cache is None:
            # A changed SPEECHGEN_CACHE_DIR (tests give each test its own) must not pile up open databases.
            for old in list(_shared):
                _shared.pop(old).close()
            cache = _shared[directory] = SpeechCache(directory)
        return cache
