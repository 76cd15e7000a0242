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
