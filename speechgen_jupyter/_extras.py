"""What a server offers beyond Speechgen's page, and what the client does where it offers less.

The page documents four endpoints. This project's local server adds two
listings (GET /v1/models, GET /v1/voices; "ours" in the spec), which the real
service is not known to have. The client must be complete without them, so:

* it does not ask up front (building a client stays instant): it learns from
  the first answer of an (ours) endpoint, and remembers it per client in
  `ServerExtras`, so a missing listing costs one 404, once;
* without a model listing, your models are the ones the record remembers
  (see `_record`), each refreshed with the page's GET /v1/models/{model_id};
* without a voice listing, the voices are the ready voices of those models;
* where a server does list, its listing wins, and the record fills in what
  the listing lacks (`fill_in`).

Absence is told apart from failure: an (ours) endpoint that answers 404, 405
or 501 (but not a 404 about a *resource*, such as `model_not_found`), or a 2xx
that is not the API's JSON (a web page served for any path), is absent; 401,
429, 5xx and lost connections are failures, raised as usual.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from .errors import APIError
from .types import Voice, VoiceModel

__all__ = ["ServerExtras", "is_absent", "fill_in", "voices_of"]

#: Error codes that name a missing *thing* at an endpoint that exists.
_RESOURCE_CODES = frozenset({"model_not_found", "voice_not_found", "sample_not_found", "sample_not_ready"})
_ABSENT_STATUSES = frozenset({404, 405, 501})


def is_absent(err: APIError) -> bool:
    """Does this error from an (ours) endpoint mean the server simply does not have it?"""
    if err.status in _ABSENT_STATUSES:
        return err.code not in _RESOURCE_CODES
    return err.status is not None and 200 <= err.status < 300  # answered, but not with the API's JSON


class ServerExtras:
    """What the server offers beyond the page, as learnt from its answers.

    Each is True (it answered), False (it does not have it) or None (not asked
    yet). Shared by a client and the `to_async()` twin made from it.
    """

    _NAMES = {"model_listing": "model", "voice_listing": "voice"}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.model_listing: bool | None = None
        self.voice_listing: bool | None = None

    def learn(self, extra: str, offered: bool) -> None:
        if extra not in self._NAMES:
            raise ValueError(f"unknown extra {extra!r}")
        with self._lock:
            setattr(self, extra, offered)

    def lacking(self) -> tuple[str, ...]:
        """The extras this server is known not to offer ("model_listing", "voice_listing")."""
        return tuple(name for name in self._NAMES if getattr(self, name) is False)

    def note(self) -> str | None:
        """One quiet sentence on what this server lacks and what is shown instead; None when it lacks nothing known."""
        lacking = self.lacking()
        if not lacking:
            return None
        what = " or ".join(self._NAMES[name] for name in lacking)
        if "model_listing" in lacking:
            return (
                f"This server has no {what} listing (Speechgen's page documents none): "
                "showing the voice models made or tracked from this computer."
            )
        return "This server has no voice listing: offering the ready voices of your voice models."

    def __repr__(self) -> str:
        known = {name: getattr(self, name) for name in self._NAMES}
        return f"ServerExtras({', '.join(f'{k}={v}' for k, v in known.items())})"


def fill_in(model: VoiceModel, known: VoiceModel | None) -> VoiceModel:
    """The server's answer, with what it did not say taken from what the record knows.

    The page's GET /v1/models/{id} shows no description, samples or
    estimated_completion (only its 201 does): those come from the record. What
    the server does say always wins, and `raw` stays exactly what it sent.
    """
    if known is None or known.model_id != model.model_id:
        return model
    return dataclasses.replace(
        model,
        name=model.name or known.name,
        description=model.description if model.description is not None else known.description,
        created_at=model.created_at or known.created_at,
        estimated_completion=model.estimated_completion or known.estimated_completion,
        samples=model.samples or known.samples,
    )


def voices_of(models: Iterable[VoiceModel]) -> list[Voice]:
    """The voices that text-to-speech takes, from the ready models among `models`."""
    voices: list[Voice] = []
    seen: set[str] = set()
    for model in models:
        if model.is_ready and model.voice_id and model.voice_id not in seen:
            seen.add(model.voice_id)
            voices.append(
                Voice(
                    voice_id=model.voice_id,
                    name=model.name or model.voice_id,
                    kind="custom",
                    raw={"voice_id": model.voice_id, "name": model.name, "kind": "custom", "model_id": model.model_id},
                )
            )
    return voices
