"""The JSON shapes of the API, built from stored records.

Shapes follow the page: the 201 of POST /v1/voice-clone has exactly its keys;
GET /v1/models/{id} has the page's keys plus description, samples,
estimated_completion and, for a failed model, `error`. `status` is what the
model's transition lets a reader see (see transitions.py), and `voice_id`
appears only when that status is ready.
"""

from __future__ import annotations

from typing import Any

from .ids import iso, iso_ceil
from .store import ModelRecord, SampleRecord
from .transitions import Transition


def sample_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/cdn/samples/{token}.mp3"


def _samples(samples: list[SampleRecord], base_url: str) -> list[dict[str, str]]:
    return [{"title": s.title, "text": s.text, "audio_url": sample_url(base_url, s.token)} for s in samples]


def visible_status(record: ModelRecord, at: float) -> str:
    return Transition.from_json(record.transition).visible_status(record, at)


def created_json(record: ModelRecord, samples: list[SampleRecord], base_url: str, at: float) -> dict[str, Any]:
    """The page's 201 body."""
    transition = Transition.from_json(record.transition)
    return {
        "model_id": record.model_id,
        "name": record.name,
        "description": record.description,
        "status": transition.visible_status(record, at),
        "created_at": iso(record.created_at),
        "estimated_completion": iso_ceil(transition.estimated_completion(record)),
        "samples": _samples(samples, base_url),
    }


def model_json(record: ModelRecord, samples: list[SampleRecord], base_url: str, at: float) -> dict[str, Any]:
    """GET /v1/models/{id} and each item of GET /v1/models."""
    transition = Transition.from_json(record.transition)
    status = transition.visible_status(record, at)
    body: dict[str, Any] = {
        "model_id": record.model_id,
        "name": record.name,
        "description": record.description,
        "status": status,
    }
    if status == "ready":
        body["voice_id"] = record.voice_id
    body.update(
        {
            "created_at": iso(record.created_at),
            "estimated_completion": iso_ceil(transition.estimated_completion(record)),
            "usage_count": record.usage_count,
            "samples": _samples(samples, base_url),
        }
    )
    if status == "failed":
        body["error"] = {"code": record.error_code, "message": record.error_message}
    return body
