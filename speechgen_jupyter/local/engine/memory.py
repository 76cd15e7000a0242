"""Hand memory freed by a finished job back to the operating system (glibc only).

Why this exists: glibc's malloc gives each thread that allocates its own
arena and keeps what is freed there for that arena's next use, and after a
large block is freed it raises its own threshold so that blocks up to that
size come from (and return to) the arena rather than the system. The local
server checks each upload on whichever thread of Starlette's pool is free,
and clones on the worker's thread: without a trim, the few MB a finished
check used stay resident in one thread's arena while the clone grows
another's, and the server's peak becomes the sum of the two steps instead
of the larger. `malloc_trim(0)` returns the free memory of every arena.

Elsewhere (macOS, musl) there is no `malloc_trim` and this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the running process's symbols, libc among them
    except OSError:  # pragma: no cover - platforms without a dynamic loader handle
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_free_memory() -> None:
    """Return free heap memory to the system (a few ms); call when a big job is done."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
