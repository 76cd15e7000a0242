"""onnxruntime sessions for the neural voices and the speaker encoder, made one way.

Why one module: every neural model here runs on the same 2-core budget as
the HTTP server, and onnxruntime's defaults are wrong for that. By default a
session starts one intra-op thread per core and spins them between runs, so
two requests (or a request and a clone being fitted) each grab both cores
and starve each other; and its memory arena keeps the largest activation it
ever needed, per session, for good. Here each session gets `THREADS` intra-op
threads that do not spin, no inter-op pool, and no arena (measured on Kokoro:
the arena was most of its resident memory).

`available()` says whether onnxruntime can be imported at all: without it
the engine serves its espeak voices only (the `local` extra installs it; an
install without it falls back, it does not break).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["THREADS", "available", "loaded_once", "session"]

_T = TypeVar("_T")

#: Intra-op threads per session. One keeps a request on one core, so a second
#: request (or the clone worker) has the other; SPEECHGEN_ONNX_THREADS overrides it.
THREADS = max(1, int(os.environ.get("SPEECHGEN_ONNX_THREADS", "1") or "1"))

_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def available(*modules: str) -> bool:
    """Whether onnxruntime and every module named can be imported (cached)."""
    import importlib

    try:
        for name in ("onnxruntime", *modules):
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def session(model: str | bytes | os.PathLike[str]) -> Any:
    """An `onnxruntime.InferenceSession` for `model` (a path or the model's bytes), CPU only, bounded."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else os.fspath(model)
    with _lock:  # graph optimisation at load is CPU-heavy: one at a time
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def loaded_once(load: Callable[[], _T]) -> Callable[[], _T]:
    """`load()` on the first call, its result on every later one; two first calls at once load it once.

    Why not `functools.cache`: it lets two threads that miss together both run `load`, and for a
    model that is two sessions' memory and two slow loads at the first request.
    """
    lock = threading.Lock()
    loaded: list[_T] = []

    def get() -> _T:
        with lock:
            if not loaded:
                loaded.append(load())
            return loaded[0]

    return get
