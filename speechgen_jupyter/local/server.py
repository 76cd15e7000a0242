"""Run the local server in a background thread and hand back a handle.

The socket is bound here, before uvicorn starts, so `port=0` yields a free
port known at once and nothing can take it in between; `start()` returns when
uvicorn has really started serving on it (an Event set at the end of
uvicorn's startup), never after a guessed sleep.

This module imports only the standard library at import time: the client
imports `speechgen_jupyter.local` to find `start`, and must stay fast.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger("speechgen_jupyter.local")

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 15.0


class LocalServer:
    """A running local Speechgen server: `.base_url`, `.api_key`, `.data_dir`, `.page_only`, `.stop()`.

    Use it as a context manager to stop it at the end of a block. The key is
    never part of the repr, so printing the handle in a notebook leaks nothing.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        data_dir: Path,
        admin: bool,
        page_only: bool,
        server: Any,
        thread: threading.Thread,
        services: Any,
        sock: socket.socket,
        temporary: bool,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.data_dir = data_dir
        self.admin = admin
        self.page_only = page_only
        self._server = server
        self._thread = thread
        self._services = services
        self._sock = sock
        self._temporary = temporary
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def temporary(self) -> bool:
        """True when its data directory (every model) is removed by `stop()`."""
        return self._temporary

    @property
    def cache_scope(self) -> str:
        """What decides this server's speech besides the request, for the client's speech cache.

        Not its port or its (random, development) key: a local server speaks
        the same for any of them, so a client that started one (see
        `connect_local`) keys its speech by this instead, and the next kernel's
        server finds it. It names the package version and the built-in voices
        (their ids and settings), so a different engine or voice set never
        shares speech with this one; a clone's voice_id is never reused.
        """
        import hashlib
        import json

        from .._version import __version__

        voices = sorted((voice_id, repr(voice)) for voice_id, voice in self._services.speaker.builtin().items())
        digest = hashlib.sha256(json.dumps(voices).encode()).hexdigest()[:16]
        return f"speechgen_jupyter.local/{__version__}/{digest}"

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving, let the clone in progress finish, close the store; idempotent.

        A temporary data directory (no `data_dir` given) is removed; a given one is kept,
        and a later `start(data_dir=...)` carries on where this one stopped.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._server.should_exit = True
        self._thread.join(_STOP_TIMEOUT)
        if self._thread.is_alive():  # pragma: no cover - uvicorn always exits
            self._server.force_exit = True
            self._thread.join(_STOP_TIMEOUT)
        self._services.close()
        self._sock.close()
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        mode = " page-only" if self.page_only else ""
        return f"<LocalServer {self.base_url}{mode} data_dir={str(self.data_dir)!r} {state}>"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it Nagle + delayed ACKs add ~40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The default clone fitting budget; with the clone's fixed costs a model is ready in about a minute.
DEFAULT_CLONE_SECONDS = 50.0
MAX_CLONE_SECONDS = 600.0


def _clone_seconds(value: float | None) -> float:
    """The fitting budget asked for, else SPEECHGEN_LOCAL_CLONE_SECONDS, else the default; ValueError if unusable."""
    import math
    import os

    if value is None:
        raw = os.environ.get("SPEECHGEN_LOCAL_CLONE_SECONDS", "").strip()
        if not raw:
            return DEFAULT_CLONE_SECONDS
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"SPEECHGEN_LOCAL_CLONE_SECONDS must be a number of seconds, not {raw!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= MAX_CLONE_SECONDS:
        raise ValueError(f"clone_seconds must be a number from 0 to {MAX_CLONE_SECONDS:.0f}, not {value!r}")
    return float(value)


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: str | Path | None = None,
    api_key: str | None = None,
    admin: bool = False,
    page_only: bool = False,
    transition: Any = None,
    faults: Any = None,
    clone_seconds: float | None = None,
    log_level: str = "warning",
    header_timeout: float | None = None,
    body_timeout: float | None = None,
) -> LocalServer:
    """Start a local Speechgen-compatible server in a background thread and return its handle.

    - `port=0` picks a free port; `data_dir=None` uses a temporary directory removed by `stop()`.
    - `api_key=None` makes a development key ("sg_local_..."), available as `.api_key`.
    - `admin=True` mounts /_admin/state, /_admin/transition, /_admin/faults and /_admin/reset.
    - `page_only=True` serves only what Speechgen's public page documents: POST /v1/voice-clone,
      GET and DELETE /v1/models/{id}, POST /v1/text-to-speech and the sample URLs; GET /v1/models,
      GET /v1/voices and /openapi.json answer as any unknown path (404), GET /v1/models/{id}
      carries the page's fields only, and Idempotency-Key is ignored. The stand-in for the real service.
    - `transition`: how new models progress, e.g. "immediate", {"progression": "polls", "times": 3},
      {"progression": "time", "seconds": 2} or {"progression": "fail", "reason": "..."}; default "real".
    - `faults`: e.g. {"rate": 0.3, "kinds": ["429", "503", "drop", "drop_after", "slow"], "seed": 42,
      "retry_after": 1, "slow_seconds": 1.5, "paths": ["/v1/"]}; default none.
    - `header_timeout`, `body_timeout`: seconds a client may take to send a request's head, and
      between two pieces of its body (defaults in limits.py); past them the connection is closed,
      or the request refused with 408.
    - `clone_seconds`: how long a clone's fit on a neural voice may search for a voice nearer the
      sample (default 50 s, or SPEECHGEN_LOCAL_CLONE_SECONDS; so a clone is ready in about a minute,
      as the page's `estimated_completion` shows). Tests and demos may ask for a few seconds, or 0
      (nearest voice and measured pitch, formants and rate only).
    """
    import uvicorn

    from ._uvicorn import ReadyServer, h11_with_header_timeout
    from .app import create_app
    from .connection import quiet_dropped_connections
    from .faults import FaultConfig
    from .ids import new_api_key
    from .services import Options, Services
    from .transitions import Transition

    options = Options(
        api_key=api_key or new_api_key(),
        admin=admin,
        page_only=page_only,
        transition=Transition.parse(transition),
        faults=FaultConfig.parse(faults),
        clone_seconds=_clone_seconds(clone_seconds),
    )
    if header_timeout is not None:
        options.header_timeout = _positive(header_timeout, "header_timeout")
    if body_timeout is not None:
        options.body_timeout = _positive(body_timeout, "body_timeout")
    if not _is_loopback(host):
        logger.warning("the local Speechgen server is listening on %s, beyond this machine", host)
    temporary = data_dir is None
    root = Path(tempfile.mkdtemp(prefix="speechgen-local-")) if temporary else Path(data_dir).expanduser()  # type: ignore[arg-type]
    try:
        services = Services(root.resolve(), options)  # DataDirError: the directory cannot be served from
    except BaseException:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        sock = _bind(host, port)
    except OSError:
        services.close()
        raise
    try:
        services.open()
        config = uvicorn.Config(
            create_app(services),
            log_level=log_level,
            lifespan="off",
            http=h11_with_header_timeout(options.header_timeout),
            loop="asyncio",
            timeout_graceful_shutdown=5,
            server_header=False,
        )
        quiet_dropped_connections()
        server = ReadyServer(config)
        thread = threading.Thread(target=server.serve_in_thread, args=(sock,), name="speechgen-local-server", daemon=True)
        thread.start()
        if not server.ready.wait(_START_TIMEOUT) or not server.started:
            server.should_exit = True
            raise RuntimeError(f"the local Speechgen server did not start: {server.error or 'timed out'}")
    except BaseException:
        services.close()
        sock.close()
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return LocalServer(
        base_url=f"http://{url_host}:{bound_port}",
        api_key=options.api_key,
        data_dir=root.resolve(),
        admin=admin,
        page_only=page_only,
        server=server,
        thread=thread,
        services=services,
        sock=sock,
        temporary=temporary,
    )
