"""The JSON shapes of the API, built from stored records.

Shapes follow the page: the 201 of POST /v1/voice-clone has exactly its keys;
GET /v1/models/{id} has the page's keys plus (ours) description, samples,
estimated_completion and, for a failed model, `error`. A page-only server
answers GET /v1/models/{id} with the page's keys alone (`PAGE_MODEL_FIELDS`):
the page shows description, samples and estimated_completion only in the 201,
and never says why a model failed. `status` is what the model's transition
lets a reader see (see transitions.py), and `voice_id` appears only when that
status is ready (the page: "present once ready").
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


#: (page) The keys of the page's GET /v1/models/{model_id} example, in its order.
PAGE_MODEL_FIELDS = ("model_id", "name", "status", "voice_id", "created_at", "usage_count")


def page_model_json(record: ModelRecord, at: float) -> dict[str, Any]:
    """GET /v1/models/{id} on a page-only server: the page's fields and nothing else."""
    body = model_json(record, [], "", at)
    return {key: body[key] for key in PAGE_MODEL_FIELDS if key in body}


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
