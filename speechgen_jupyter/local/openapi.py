"""The OpenAPI 3.0 document served at /openapi.json.

Written by hand from the same limits the handlers enforce (limits.py), because
it is a contract others test against: another issue fuzzes this server from
it with schemathesis, so every status a route can answer, including the
injected faults (429, 5xx), is listed with its body and headers. OpenAPI 3.0.3
rather than 3.1, for the widest tool support (`nullable` instead of null types).

Why not generated (compared for issue 15): the handlers have no models to
generate from. pydantic would add a large dependency to the server for the
schemas alone (in 3.1's JSON Schema dialect, `anyOf` with null, to be turned
back into 3.0), spectree would also take over request validation and its
wording from the API's own error codes, and apispec is a builder in which the
operations, statuses and headers are still written by hand. What keeps this
document true is tests/local/test_server_openapi.py, which checks real
responses against it body by body, and that would stay either way.
"""

from __future__ import annotations

from typing import Any

from .engine import MEDIA_TYPES, OUTPUT_FORMATS
from .faults import FAULT_KINDS
from .limits import (
    LIST_MAX_LIMIT,
    MAX_AUDIO_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
)
from .transitions import PROGRESSIONS

_REF = "#/components/schemas/"
# What uploads.py enforces, in ECMA-262 regex: C0/C1 control characters are refused.
_NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
_DESCRIPTION_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
_DESCRIPTIONS = {
    400: "The request is malformed or a field is missing or invalid.",
    401: "The API key is missing or wrong.",
    404: "No such model, voice, sample or endpoint.",
    405: "The endpoint does not accept this method.",
    409: "The Idempotency-Key was already used for a different request.",
    413: f"The audio file is over {MAX_AUDIO_BYTES // (1024 * 1024)} MB.",
    415: "The file is not MP3, WAV, M4A, FLAC or OGG audio.",
    422: "The audio breaks a requirement (too short, too long, no speech, too noisy, several speakers).",
    429: "Too many requests; wait for Retry-After seconds.",
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable; wait for Retry-After seconds.",
    504: "Gateway timeout.",
    408: "The request body stopped arriving before it was complete.",
    507: "The server cannot store this: its disk is full or its data directory read-only. Not worth retrying at once.",
}
_FAULT_STATUSES = [int(k) for k in FAULT_KINDS if k.isdigit()]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _request_id() -> dict[str, Any]:
    return {"x-request-id": {"$ref": "#/components/headers/RequestId"}}


def _error(status: int) -> dict[str, Any]:
    headers = _request_id()
    if status in (429, 503):
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    if status == 401:
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
    return {
        "description": _DESCRIPTIONS[status],
        "headers": headers,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _ok(description: str, content: dict[str, Any] | None, extra_headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "headers": {**_request_id(), **(extra_headers or {})}}
    if content is not None:
        out["content"] = content
    return out


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema_name)}}


def _operation(
    op_id: str,
    summary: str,
    ok: dict[str, dict[str, Any]],
    errors: list[int],
    *,
    public: bool = False,
    faulted: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    statuses = set(errors) | {405}
    if not public:
        statuses.add(401)
    if faulted:
        statuses |= set(_FAULT_STATUSES)
    responses = dict(ok)
    responses.update({str(s): _error(s) for s in sorted(statuses)})
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses, **extra}
    if public:
        op["security"] = []
    return op


def _schemas(admin: bool) -> dict[str, Any]:
    string = {"type": "string"}
    timestamp = {"type": "string", "format": "date-time", "example": "2024-01-15T10:30:00.000Z"}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": string, "message": string},
                }
            },
        },
        "Sample": {
            "type": "object",
            "required": ["title", "text", "audio_url"],
            "properties": {"title": string, "text": string, "audio_url": {"type": "string", "format": "uri"}},
        },
        "ModelStatus": {"type": "string", "enum": ["processing", "ready", "failed"]},
        "ModelCreated": {
            "type": "object",
            "required": ["model_id", "name", "description", "status", "created_at", "estimated_completion", "samples"],
            "properties": {
                "model_id": {"type": "string", "pattern": "^vm_[a-z0-9]+$"},
                "name": string,
                "description": {"type": "string", "nullable": True},
                "status": _ref("ModelStatus"),
                "created_at": timestamp,
                "estimated_completion": timestamp,
                "samples": {"type": "array", "items": _ref("Sample")},
            },
        },
        "Model": {
            "type": "object",
            "required": [
                "model_id", "name", "description", "status", "created_at", "estimated_completion", "usage_count", "samples",
            ],
            "properties": {
                "model_id": {"type": "string", "pattern": "^vm_[a-z0-9]+$"},
                "name": string,
                "description": {"type": "string", "nullable": True},
                "status": _ref("ModelStatus"),
                "voice_id": {"type": "string", "description": "Present once the status is ready."},
                "created_at": timestamp,
                "estimated_completion": timestamp,
                "usage_count": {"type": "integer", "minimum": 0},
                "samples": {"type": "array", "items": _ref("Sample")},
                "error": {
                    "type": "object",
                    "description": "Why the model failed; present when the status is failed.",
                    "required": ["code", "message"],
                    "properties": {"code": string, "message": string},
                },
            },
        },
        "ModelList": {
            "type": "object",
            "required": ["models", "next_cursor"],
            "properties": {
                "models": {"type": "array", "items": _ref("Model")},
                "next_cursor": {"type": "string", "nullable": True},
            },
        },
        "Voice": {
            "type": "object",
            "required": ["voice_id", "name", "kind", "language"],
            "properties": {
                "voice_id": string,
                "name": string,
                "kind": {"type": "string", "enum": ["builtin", "custom"]},
                "language": string,
                "engine": {
                    "type": "string",
                    "enum": ["hibari", "piper", "espeak"],
                    "description": "(ours, local server) What speaks the voice; a clone says its base voice's engine.",
                },
                "neural": {"type": "boolean", "description": "(ours, local server) A neural voice, or espeak-ng."},
                "gender": {"type": "string", "enum": ["female", "male"], "description": "(ours, local server) Where known."},
                "accent": {"type": "string", "description": "(ours, local server) e.g. en-US, en-GB, where known."},
            },
        },
        "VoiceList": {
            "type": "object",
            "required": ["voices"],
            "properties": {"voices": {"type": "array", "items": _ref("Voice")}},
        },
        "TextToSpeechRequest": {
            "type": "object",
            "required": ["text", "voice"],
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS, "pattern": r"\S", "description": "Not blank."},
                "voice": {"type": "string", "minLength": 1, "description": "A voice_id from GET /v1/voices."},
                "format": {"type": "string", "enum": list(OUTPUT_FORMATS), "default": "mp3"},
            },
        },
        "VoiceCloneForm": {
            "type": "object",
            "required": ["audio", "name"],
            "properties": {
                "audio": {
                    "type": "string",
                    "format": "binary",
                    "description": f"MP3 (recommended), WAV, M4A, FLAC or OGG; 10 s to 5 min; at most {MAX_AUDIO_BYTES} bytes.",
                },
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_NAME_CHARS,
                    "pattern": _NAME_PATTERN,
                    "description": "Not blank; no control characters (newlines included).",
                },
                "description": {
                    "type": "string",
                    "maxLength": MAX_DESCRIPTION_CHARS,
                    "pattern": _DESCRIPTION_PATTERN,
                    "description": "No control characters other than newlines and tabs.",
                },
                "enhance_quality": {"type": "string", "enum": ["true", "false"], "default": "false"},
            },
        },
    }
    if admin:
        schemas.update(
            {
                "Transition": {
                    "type": "object",
                    "required": ["progression"],
                    "properties": {
                        "progression": {"type": "string", "enum": list(PROGRESSIONS)},
                        "seconds": {"type": "number", "minimum": 0, "maximum": 86400, "description": "For time."},
                        "times": {"type": "integer", "minimum": 1, "description": "For polls."},
                        "reason": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "For fail."},
                        "code": {"type": "string", "description": "For fail; default clone_failed."},
                    },
                },
                "Faults": {
                    "type": "object",
                    "properties": {
                        "rate": {"type": "number", "minimum": 0, "maximum": 1},
                        "kinds": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(FAULT_KINDS)}},
                        "retry_after": {"type": "integer", "minimum": 0, "maximum": 3600},
                        "slow_seconds": {"type": "number", "minimum": 0, "maximum": 600},
                        "seed": {"type": "integer", "nullable": True},
                        "paths": {"type": "array", "nullable": True, "items": {"type": "string", "pattern": "^/"}},
                        "max_in_flight": {
                            "type": "integer", "minimum": 1, "maximum": 10000, "nullable": True,
                            "description": "Answer 429 (with Retry-After) to a request that arrives while this many are being served.",
                        },
                    },
                },
                "RequestLog": {
                    "type": "object",
                    "required": ["requests", "counts", "in_flight", "peak_in_flight", "last_seq"],
                    "properties": {
                        "requests": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["seq", "at", "method", "path", "status"],
                                "properties": {
                                    "seq": {"type": "integer"},
                                    "at": {"type": "number", "description": "Arrival, seconds since the epoch."},
                                    "method": {"type": "string"},
                                    "path": {"type": "string"},
                                    "status": {"type": "integer", "nullable": True},
                                },
                            },
                        },
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "in_flight": {"type": "integer"},
                        "peak_in_flight": {"type": "integer"},
                        "last_seq": {"type": "integer"},
                    },
                },
                "AdminState": {
                    "type": "object",
                    "required": ["transition", "faults", "fault_stats", "models", "worker"],
                    "properties": {
                        "transition": _ref("Transition"),
                        "faults": _ref("Faults"),
                        "fault_stats": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "models": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "worker": {"type": "object"},
                    },
                },
            }
        )
    return schemas


def build_openapi(*, admin: bool = False) -> dict[str, Any]:
    model_id_param = {
        "name": "model_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "example": "vm_abc123xyz",
    }
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "(ours) Retrying with the same key returns the same model instead of creating a second one.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_CHARS, "pattern": "^[!-~]+$"},
    }
    audio_content = {mt: {"schema": {"type": "string", "format": "binary"}} for mt in MEDIA_TYPES.values()}
    paths: dict[str, Any] = {
        "/v1/voice-clone": {
            "post": _operation(
                "cloneVoice",
                "Create a voice model from an audio sample",
                {"201": _ok("The model is created and processing.", _json("ModelCreated"), {"Location": {"schema": {"type": "string"}}})},
                [400, 408, 409, 413, 415, 422, 507],
                parameters=[idempotency],
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _ref("VoiceCloneForm"),
                            "encoding": {"audio": {"contentType": "audio/mpeg, audio/wav, audio/mp4, audio/flac, audio/ogg, application/octet-stream"}},
                        }
                    },
                },
            )
        },
        "/v1/models": {
            "get": _operation(
                "listModels",
                "(ours) List voice models, newest first",
                {"200": _ok("A page of models.", _json("ModelList"))},
                [400],
                parameters=[
                    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": LIST_MAX_LIMIT, "default": 20}},
                    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
            )
        },
        "/v1/models/{model_id}": {
            "parameters": [model_id_param],
            "get": _operation("getModel", "Check a voice model's status", {"200": _ok("The model.", _json("Model"))}, [404]),
            "delete": _operation("deleteModel", "Delete a voice model", {"204": _ok("Deleted.", None)}, [404, 507]),
        },
        "/v1/text-to-speech": {
            "post": _operation(
                "textToSpeech",
                "Speak text with a built-in or cloned voice",
                {"200": _ok("The audio, in the requested format.", audio_content)},
                [400, 404, 408],
                requestBody={"required": True, "content": _json("TextToSpeechRequest")},
            )
        },
        "/v1/voices": {
            "get": _operation("listVoices", "(ours) Voices usable in text-to-speech", {"200": _ok("The voices.", _json("VoiceList"))}, [])
        },
        "/cdn/samples/{token}.mp3": {
            "get": _operation(
                "getSample",
                "A model's rendered demo sample (its unguessable URL is the access control)",
                {"200": _ok("MP3 audio.", {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}})},
                [404],
                public=True,
                parameters=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/openapi.json": {
            "get": _operation(
                "getOpenAPI", "This document", {"200": _ok("The OpenAPI document.", {"application/json": {"schema": {"type": "object"}}})},
                [], public=True, faulted=False,
            )
        },
    }
    if admin:
        state = {"200": _ok("The server's state.", _json("AdminState"))}
        paths.update(
            {
                "/_admin/state": {"get": _operation("adminState", "(admin) State control, faults, counts", state, [], faulted=False)},
                "/_admin/requests": {
                    "get": _operation(
                        "adminRequests", "(admin) Every request received, as it arrived (time, method, path, status)",
                        {"200": _ok("The request log.", _json("RequestLog"))}, [400], faulted=False,
                        parameters=[
                            {"name": "path", "in": "query", "required": False, "schema": {"type": "string"}},
                            {"name": "since", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
                        ],
                    )
                },
                "/_admin/transition": {
                    "put": _operation(
                        "adminSetTransition", "(admin) Set how new models progress",
                        {"200": _ok("The new transition.", {"application/json": {"schema": {"type": "object", "required": ["transition"], "properties": {"transition": _ref("Transition")}}}})},
                        [400], faulted=False,
                        requestBody={"required": True, "content": _json("Transition")},
                    )
                },
                "/_admin/faults": {
                    "put": _operation(
                        "adminSetFaults", "(admin) Set fault injection ({} turns it off)",
                        {"200": _ok("The new fault settings.", {"application/json": {"schema": {"type": "object", "required": ["faults"], "properties": {"faults": _ref("Faults")}}}})},
                        [400], faulted=False,
                        requestBody={"required": True, "content": _json("Faults")},
                    )
                },
                "/_admin/reset": {
                    "post": _operation("adminReset", "(admin) Delete every model; restore the start options", state, [], faulted=False)
                },
            }
        )
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Speechgen API (local server)",
            "version": "1.0",
            "description": "The Speechgen voice-cloning API as served by speechgen_jupyter's local server. "
            "Operations marked (ours) are this project's additions; (admin) ones exist only when the server runs with admin on.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "headers": {
                "RequestId": {"description": "Identifies the request in the server's log.", "schema": {"type": "string"}},
                "RetryAfter": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 0}},
            },
            "schemas": _schemas(admin),
        },
    }
