"""moto-style state control: how a new model's status progresses.

Tests and tutorials want a model that turns ready at a moment they choose, not
when a real clone happens to finish. A `Transition` is chosen per server (by
`start(transition=...)` or `PUT /_admin/transition`) and snapshotted into each
model when it is created, so changing it later, or restarting the server,
never rewrites the story of a model already made.

The stored status is always the worker's truth; the transition only decides
what a read shows, and never shows `ready` before the voice profile exists:
    real       ready when the worker finishes (the default)
    immediate  the first GET of the model reads ready (or failed): it waits for the worker if needed
    time       ready no sooner than `seconds` after creation
    polls      ready on the `times`-th GET of the model (that GET waits for the worker if needed)
    fail       the model fails with `reason` (error code `code`, default "clone_failed")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .store import ModelRecord

PROGRESSIONS = ("real", "immediate", "time", "polls", "fail")
DEFAULT_FAIL_REASON = "Voice creation failed (made to fail by the local server's state control)."
_FIELDS = {
    "real": set(),
    "immediate": set(),
    "time": {"seconds"},
    "polls": {"times"},
    "fail": {"reason", "code"},
}


@dataclass(frozen=True)
class Transition:
    progression: str = "real"
    seconds: float = 0.0
    times: int = 1
    reason: str = DEFAULT_FAIL_REASON
    code: str = "clone_failed"

    @classmethod
    def parse(cls, value: Transition | Mapping[str, Any] | str | None) -> Transition:
        """Accept a Transition, a dict like {"progression": "polls", "times": 3}, a bare name, or None.

        Raises ValueError with a message fit for a 400 or a TypeError-like
        mistake in `start(...)`.
        """
        if value is None:
            return cls()
        if isinstance(value, Transition):
            return value
        if isinstance(value, str):
            value = {"progression": value}
        if not isinstance(value, Mapping):
            raise ValueError('transition must be an object like {"progression": "immediate"}')
        progression = value.get("progression", "real")
        if progression not in PROGRESSIONS:
            raise ValueError(f"progression must be one of {', '.join(PROGRESSIONS)}; got {progression!r}")
        extra = set(value) - {"progression"} - _FIELDS[progression]
        if extra:
            raise ValueError(f"progression {progression!r} does not take {', '.join(sorted(extra))}")
        kwargs: dict[str, Any] = {"progression": progression}
        if progression == "time":
            seconds = value.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 86_400:
                raise ValueError('progression "time" needs "seconds": a number from 0 to 86400')
            kwargs["seconds"] = float(seconds)
        elif progression == "polls":
            times = value.get("times")
            if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1_000_000:
                raise ValueError('progression "polls" needs "times": a whole number from 1 (ready on that GET)')
            kwargs["times"] = times
        elif progression == "fail":
            reason = value.get("reason", DEFAULT_FAIL_REASON)
            code = value.get("code", "clone_failed")
            if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
                raise ValueError('"reason" must be a non-empty string of at most 1000 characters')
            if not isinstance(code, str) or not code.isidentifier() or len(code) > 64:
                raise ValueError('"code" must be a short snake_case identifier')
            kwargs["reason"], kwargs["code"] = reason, code
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> Transition:
        return cls(**json.loads(text))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def to_dict(self) -> dict[str, Any]:
        """The public form: only the fields this progression uses."""
        out: dict[str, Any] = {"progression": self.progression}
        for name in sorted(_FIELDS[self.progression]):
            out[name] = getattr(self, name)
        return out

    # -- what a read shows -------------------------------------------------

    def waits_on_read(self, record: ModelRecord) -> bool:
        """Whether a GET of this (still processing) model should wait for the worker."""
        if self.progression in ("immediate", "fail"):
            return True
        if self.progression == "polls":
            return record.polls >= self.times
        return False

    def visible_status(self, record: ModelRecord, now: float) -> str:
        if record.status != "ready":
            return record.status  # processing stays processing; a failure is never hidden
        if self.progression == "time" and now < record.created_at + self.seconds:
            return "processing"
        if self.progression == "polls" and record.polls < self.times:
            return "processing"
        return "ready"

    def estimated_completion(self, record: ModelRecord) -> float:
        """When the model reads (or read) settled: the worker's estimate, or the truth once known."""
        base = record.estimated_completion if record.completed_at is None else record.completed_at
        if self.progression == "time" and record.status != "failed":
            return max(base, record.created_at + self.seconds)
        return base
