"""Progress while waiting for a voice model: a bar in a notebook, a line in a terminal.

Users of other magics complain that slow calls show nothing; a clone takes
from seconds to minutes, so the wait shows the server's own estimate.
"""

from __future__ import annotations

from typing import Any

from ..types import WaitProgress

__all__ = ["WaitBar"]


class WaitBar:
    """An `on_progress` callback for `wait_for_model` that draws a tqdm.auto bar in percent."""

    def __init__(self, model_id: str, enabled: bool = True) -> None:
        self.model_id = model_id
        self.enabled = enabled
        self._bar: Any = None
        self.updates = 0

    def __call__(self, progress: WaitProgress) -> None:
        self.updates += 1
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=100, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}|")
        fraction = 1.0 if progress.model.is_ready else progress.fraction
        if fraction is not None:
            self._bar.n = round(100 * max(0.0, min(1.0, fraction)))
        left = f", ~{progress.seconds_left:.0f} s left" if progress.seconds_left else ""
        self._bar.set_description_str(
            f"Cloning {self.model_id} ({progress.model.status}, {progress.elapsed:.0f} s{left})", refresh=False
        )
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> WaitBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
