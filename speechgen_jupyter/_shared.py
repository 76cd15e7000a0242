"""The one process-wide client that magics, widgets and tables share.

Why one: a notebook user configures the connection once (or not at all) and
every magic and widget then speaks to the same server with the same key.
With no `SPEECHGEN_API_KEY` and no `SPEECHGEN_BASE_URL`, the first use starts
the bundled local server, so tutorials work offline with nothing to set up.
It is the full one (this project's extras too: the richer experience);
`SPEECHGEN_LOCAL_PAGE_ONLY=1` (or `connect_local(page_only=True)`) starts it
with only what Speechgen's page documents, to see a notebook as it runs
against the real service.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from . import _constants as C
from .client import Client
from .errors import ConfigurationError

__all__ = ["get_client", "set_client", "connect", "connect_local", "local_server", "stop_local"]

_lock = threading.RLock()
_client: Client | None = None
_local: Any = None  # the LocalServer handle when we started one


def get_client() -> Client:
    """The shared client, built on first use from the environment (or the local server)."""
    global _client
    with _lock:
        if _client is None:
            if os.environ.get(C.API_KEY_ENV) or os.environ.get(C.BASE_URL_ENV):
                _client = Client()
            else:
                page_only = os.environ.get(C.LOCAL_PAGE_ONLY_ENV, "").strip().lower() in ("1", "true", "yes")
                _client = connect_local(announce=True, **({"page_only": True} if page_only else {}))
        return _client


def set_client(client: Client | None) -> Client | None:
    """Make `client` the shared one (None forgets it); returns the previous one."""
    global _client
    if client is not None and not isinstance(client, Client):
        raise TypeError(f"set_client takes a speechgen_jupyter.Client, not {type(client).__name__}")
    with _lock:
        previous, _client = _client, client
        return previous


def connect(*, api_key: str | None = None, base_url: str | None = None, **options: Any) -> Client:
    """Build a client (from arguments, else the environment) and make it the shared one."""
    client = Client(api_key=api_key, base_url=base_url, **options)
    set_client(client)
    return client


def connect_local(*, announce: bool = False, **start_options: Any) -> Client:
    """Start the bundled local server (once per process) and share a client for it.

    `start_options` go to `speechgen_jupyter.local.start` (and start a new server): `page_only=True`
    serves only what Speechgen's page documents, `transition=...` decides how new models progress.
    """
    global _local
    with _lock:
        if _local is None or start_options:
            try:
                from .local import start
            except ImportError as err:
                raise ConfigurationError(
                    f"No {C.API_KEY_ENV} is set and the offline local server is not installed. "
                    f"Either set {C.API_KEY_ENV} to your Speechgen key, or install the local server: "
                    f"pip install 'speechgen_jupyter[local]'"
                ) from err
            stop_local()
            _local = start(**start_options)
            _stop_at_exit()
        # Keyed by the local engine rather than this server's port and key, so
        # the next kernel's local server finds the speech of this one.
        client = Client(api_key=_local.api_key, base_url=_local.base_url, cache_scope=_local.cache_scope)
        set_client(client)
        if announce:
            mode = " (page-only)" if _local.page_only else ""
            print(
                f"speechgen_jupyter: no {C.API_KEY_ENV} set, so using the local Speechgen server{mode} at "
                f"{_local.base_url} (offline voices; a clone is a built-in voice moved toward the sample's pitch, formants and pace)."
            )
        return client


def stop_local() -> None:
    """Stop the local server this process started, if any (also at exit).

    Its models lived in a temporary folder and are gone with it, so the
    record's rows for its address are dropped too: they could never be
    refreshed, and a later server on the same port must not inherit them.
    """
    global _local
    with _lock:
        server, _local = _local, None
    if server is None:
        return
    server.stop()
    if server.temporary:
        from ._record import ModelRecord, service_key

        ModelRecord(service_key(server.base_url), account="").forget_service()


_registered = False


def _stop_at_exit() -> None:
    global _registered
    if not _registered:
        _registered = True
        atexit.register(stop_local)


def local_server() -> Any:
    """The handle of the local server this process started, or None."""
    return _local
