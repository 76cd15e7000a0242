"""The one process-wide client that magics, widgets and tables share.

Why one: a notebook user configures the connection once (or not at all) and
every magic and widget then speaks to the same server with the same key.
With no `SPEECHGEN_API_KEY` and no `SPEECHGEN_BASE_URL`, the first use starts
the bundled local server, so tutorials work offline with nothing to set up.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from . import _constants as C
from .client import Client
from .errors import ConfigurationError

__all__ = ["get_client", "set_client", "connect", "connect_local", "local_server"]

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
                _client = connect_local(announce=True)
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
    """Start the bundled local server (once per process) and share a client for it."""
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
            if _local is not None:
                _local.stop()
            _local = start(**start_options)
            atexit.register(_local.stop)
        client = Client(api_key=_local.api_key, base_url=_local.base_url)
        set_client(client)
        if announce:
            print(
                f"speechgen_jupyter: no {C.API_KEY_ENV} set, so using the local Speechgen server at "
                f"{_local.base_url} (offline voices that approximate a sample's pitch, formants and pace)."
            )
        return client


def local_server() -> Any:
    """The handle of the local server this process started, or None."""
    return _local
