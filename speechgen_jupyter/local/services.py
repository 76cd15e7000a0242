"""Everything one running server holds, built and torn down in one place.

The ASGI app only routes; the state it works on (store, files, worker, the
state-control and fault settings) lives here, so `start()`, the CLI and tests
share one way of opening a data directory: open the store, sweep files no
row points at (left by a crash), re-queue interrupted clones, start the worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from .costs import CostModel
from .datadir import prepare
from .faults import FaultConfig, FaultInjector
from .requestlog import RequestLog
from .speech import Speaker
from .limits import BODY_IDLE_TIMEOUT_SECONDS, HEADER_TIMEOUT_SECONDS
from .transitions import Transition
from .worker import CloneWorker

DB_NAME = "speechgen-local.sqlite3"


@dataclass
class Options:
    """What `start(...)` was asked for; `POST /_admin/reset` returns to it."""

    api_key: str
    admin: bool = False
    #: Serve only what Speechgen's public page documents (see app.py), as the real service is known to.
    page_only: bool = False
    transition: Transition = field(default_factory=Transition)
    faults: FaultConfig = field(default_factory=FaultConfig)
    #: Seconds a client may take over a request's head, and between two pieces of its body.
    header_timeout: float = HEADER_TIMEOUT_SECONDS
    body_timeout: float = BODY_IDLE_TIMEOUT_SECONDS
    #: Seconds a neural clone's fit may search for (see `start(clone_seconds=...)`).
    clone_seconds: float = 50.0


class Services:
    def __init__(self, data_dir: Path, options: Options) -> None:
        self.data_dir = Path(data_dir)
        self.options = options
        # The checks that make a bad directory one clear line at start, not 500s later (datadir.py).
        self.store, self.blobs = prepare(self.data_dir, DB_NAME)
        self.faults = FaultInjector(options.faults)
        self.requests = RequestLog()
        self._transition = options.transition
        self._transition_lock = threading.Lock()
        self.worker = CloneWorker(self.store, self.blobs, CostModel(self.store), clone_seconds=options.clone_seconds)
        self.speaker = Speaker(self.store)

    @property
    def transition(self) -> Transition:
        """The progression given to models created from now on."""
        with self._transition_lock:
            return self._transition

    @transition.setter
    def transition(self, value: Transition) -> None:
        with self._transition_lock:
            self._transition = value

    def open(self) -> None:
        uploads, tokens = self.store.referenced_files()
        self.blobs.sweep(uploads, tokens)
        self.worker.recover()
        self.worker.start()

    def reset(self) -> None:
        """Forget every model and return to the options the server started with."""
        self.store.delete_all()
        self.blobs.sweep(set(), set(), temp_files=False)
        self.transition = self.options.transition
        self.faults.configure(self.options.faults)
        self.faults.stats.clear()
        self.requests.clear()

    def close(self) -> None:
        self.worker.stop()
        self.store.close()
