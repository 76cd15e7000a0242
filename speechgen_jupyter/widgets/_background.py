"""Long actions and status polling, in threads.

Why threads and not asyncio tasks: on ipykernel 7 a task started from a cell
stalls once the cell ends (ipykernel #1510, ipywidgets #4012), so a status
that should turn "ready" while nobody runs a cell would freeze. A daemon
thread keeps running between cells, and ipywidgets may update a widget from
any thread (the comm messages go out through ipykernel's thread-safe IOPub).

Why every action runs off the kernel's main thread: a click handler that
blocked would make the kernel queue a second click and run it once the first
finished, i.e. send a duplicate request. With the work in a thread, the
handler returns at once and `Busy` refuses the second click while the first
is still working.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import ipywidgets as widgets

from .._operations import ModelWaiter
from ..types import VoiceModel, WaitProgress
from ._notice import Notice

__all__ = ["Busy", "Latest", "ModelPoller", "close_tree"]

T = TypeVar("T")


def close_tree(widget: widgets.Widget) -> None:
    """Close a widget and everything inside it.

    `Box.close()` closes only the box: its children stay registered, and a
    live box that still lists a closed child cannot even be serialised when
    a notebook saves widget state. Composite widgets here close their tree.
    """
    for child in getattr(widget, "children", ()):
        if not isinstance(child, widgets.Widget):
            continue
        if type(child).close is widgets.Widget.close:
            close_tree(child)  # a plain box: close what it holds too
        else:
            child.close()  # a component of ours: its close() stops its threads and closes its tree
    widgets.Widget.close(widget)


class Busy:
    """One long action at a time for a group of controls.

    While an action runs its controls are disabled, the notice shows a spinner
    with what is happening, and `run()` refuses any other action. When it ends,
    `done(result)` or the error display runs, then `settle()` (which sets the
    controls as the component's state now wants them).
    """

    def __init__(self, notice: Notice, controls: Iterable[widgets.Widget] = (), settle: Callable[[], None] | None = None) -> None:
        self.notice = notice
        self.controls = list(controls)
        self._settle = settle
        self._lock = threading.Lock()
        self._active = False
        self._thread: threading.Thread | None = None
        self.refused = 0  # clicks turned away while busy (tests read this)

    @property
    def active(self) -> bool:
        return self._active

    def run(
        self,
        working: str,
        action: Callable[[], T],
        done: Callable[[T], None] | None = None,
        *,
        failed: Callable[[BaseException], None] | None = None,
        action_name: str = "",
    ) -> bool:
        """Start `action` in a thread unless one is already running; False when refused."""
        with self._lock:
            if self._active:
                self.refused += 1
                return False
            self._active = True
        for control in self.controls:
            control.disabled = True
        before = self.notice.snapshot()
        self.notice.working(working)
        thread = threading.Thread(
            target=self._work,
            args=(action, done, failed, action_name or working, before),
            name="speechgen-widget-action",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        return True

    def _work(
        self,
        action: Callable[[], T],
        done: Callable[[T], None] | None,
        failed: Callable[[BaseException], None] | None,
        action_name: str,
        before: tuple[str, str, str],
    ) -> None:
        try:
            try:
                result = action()
            except Exception as err:  # noqa: BLE001 - every failure is shown in the widget
                self.notice.error(err, action=action_name.rstrip(".… ").lower())
                if failed is not None:
                    failed(err)
            else:
                if self.notice.level == "working":
                    # Success says nothing by itself; good news shown before (e.g. "Deleted X",
                    # then the reload) stays, an old error does not.
                    if before[0] in ("ok", "info"):
                        self.notice.restore(before)
                    else:
                        self.notice.clear()
                if done is not None:
                    done(result)
        except Exception as err:  # noqa: BLE001 - a bug in a callback must still be seen
            self.notice.error(err, action=action_name.rstrip(".… ").lower())
        finally:
            with self._lock:
                self._active = False
            try:
                if self._settle is not None:
                    self._settle()
                else:
                    for control in self.controls:
                        control.disabled = False
            except Exception as err:  # noqa: BLE001
                self.notice.error(err, action="updating the controls")

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no action runs (one that starts another as it settles included); for tests and scripts."""
        deadline = time.monotonic() + timeout
        while True:
            thread = self._thread
            if thread is None:
                return True
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
            if self._thread is thread:
                return True


class Latest:
    """Work whose newest request is the only one that matters, in one daemon thread.

    Why not `Busy`: while a selection is dragged and released again and again,
    `Busy` would refuse the newer requests; here each `submit` replaces the
    one waiting, the thread computes only the newest, and `done` gets its
    result. A failure goes to `failed` (a bug in our code must still be
    seen); nothing here blocks the kernel's main thread.
    """

    def __init__(self, done: Callable[[Any], None], failed: Callable[[BaseException], None]) -> None:
        self._done = done
        self._failed = failed
        self._lock = threading.Lock()
        self._waiting: Callable[[], Any] | None = None
        self._thread: threading.Thread | None = None
        self.completed = 0  # results delivered (tests read this)

    def submit(self, work: Callable[[], Any]) -> None:
        with self._lock:
            self._waiting = work
            if self._thread is not None and self._thread.is_alive():
                return  # the running thread takes it next
            self._thread = threading.Thread(target=self._run, name="speechgen-widget-latest", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                work, self._waiting = self._waiting, None
                if work is None:
                    self._thread = None
                    return
            try:
                result = work()
            except Exception as err:  # noqa: BLE001 - shown by the owner
                self._failed(err)
                continue
            with self._lock:
                superseded = self._waiting is not None
            if not superseded:
                try:
                    self._done(result)
                    self.completed += 1
                except Exception as err:  # noqa: BLE001
                    self._failed(err)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until nothing is running or waiting; for tests and scripts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            thread.join(min(0.05, max(0.0, deadline - time.monotonic())))
        return False


class ModelPoller:
    """Polls one voice model in a daemon thread until it is ready, failed, timed out, or stopped.

    It uses the very `ModelWaiter` behind `Client.wait_for_model` (same
    adaptive intervals around `estimated_completion`, same `WaitProgress`
    reports, same `ModelFailedError`/`TimeoutError`), but sleeps on an Event
    instead of `time.sleep`, so closing the widget stops it at once rather
    than after one more sleep and one more request.
    """

    def __init__(
        self,
        client: Any,
        model_id: str,
        *,
        timeout: float,
        on_progress: Callable[[WaitProgress], None],
        on_ready: Callable[[VoiceModel], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.client = client
        self.model_id = model_id
        self.timeout = timeout
        self._on_progress = on_progress
        self._on_ready = on_ready
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"speechgen-status-{model_id}", daemon=True)
        self.polls = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _progress(self, progress: WaitProgress) -> None:
        if not self._stop.is_set():
            self._on_progress(progress)

    def _run(self) -> None:
        waiter = ModelWaiter(self.model_id, self.timeout, self._progress, time.monotonic, getattr(self.client, "_secret", None))
        try:
            while not self._stop.is_set():
                model = self.client.get_model(self.model_id)
                self.polls += 1
                if self._stop.is_set():
                    return
                delay = waiter.observe(model)
                if delay is None:
                    self._on_ready(model)
                    return
                if self._stop.wait(delay):
                    return
        except Exception as err:  # noqa: BLE001 - shown by the status widget
            if not self._stop.is_set():
                self._on_error(err)
