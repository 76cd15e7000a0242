"""uvicorn.Server that says when it is serving, for `start()` to wait on."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import uvicorn

logger = logging.getLogger("speechgen_jupyter.local")


class ReadyServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.error: BaseException | None = None

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()  # the listening socket is now served by the event loop

    def serve_in_thread(self, sock: socket.socket) -> None:
        try:
            self.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed startup included
            self.error = exc
            logger.exception("the local Speechgen server stopped with an error")
        finally:
            self.ready.set()  # also on failure, so start() never waits out its timeout


def h11_with_header_timeout(header_timeout: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in `header_timeout` s.

    Why ours: uvicorn limits how long a kept-alive connection may sit idle
    (`timeout_keep_alive`) and how large a head may be
    (`h11_max_incomplete_event_size`), but not how long a head may take, so a
    client sending its headers a byte at a time (or a new connection sending
    nothing) holds a connection for ever. The clock starts when the connection
    opens, or when the first byte of a kept-alive connection's next request
    arrives (until then the keep-alive timer runs), and stops once the head is
    in; a body's pace is bodystream.py's business.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _head_timer: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_head()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                if self._head_timer is None:
                    self._await_head()
            else:
                self._stop_head_timer()

        def on_response_complete(self) -> None:
            self._stop_head_timer()  # the keep-alive timer takes over until the next request starts
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._head_timer = self.loop.call_later(header_timeout, self._head_too_slow)

        def _stop_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                logger.debug("closing a connection whose request head took over %g s", header_timeout)
                self.transport.close()

    return TimedH11Protocol
