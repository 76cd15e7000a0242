"""The Speechgen endpoints: voice-clone, models, text-to-speech, voices, and the sample CDN.

Handlers that only touch SQLite are plain functions (Starlette runs them on
its thread pool, so a busy database never stalls the event loop). The upload
and text-to-speech handlers are async because they stream the body, and hand
their CPU work (checks, synthesis, encoding) to the thread pool.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from .engine import MEDIA_TYPES, OUTPUT_FORMATS
from .engine.texts import DEMO_TEXT
from .ids import MODEL_ID_RE, SAMPLE_TOKEN_RE, new_model_id, new_sample_token, now
from .jsonbody import read_json_object
from .limits import (
    LIST_DEFAULT_LIMIT,
    LIST_MAX_LIMIT,
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_JSON_BYTES,
    MAX_TEXT_CHARS,
    SETTLE_WAIT_SECONDS,
)
from .problems import ApiError
from .services import Services
from .store import IdempotencyMismatch, ModelRecord, NewModel, NewSample
from .transitions import Transition
from .uploads import CloneForm, read_clone_form
from .views import created_json, model_json, page_model_json, visible_status

DEFAULT_SAMPLE_TITLE = "Default Sample"  # the page's title for a model's one demo sample


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _base_url(request: Request) -> str:
    return str(request.base_url)


def _page_only(request: Request) -> bool:
    return _services(request).options.page_only


def _not_found() -> ApiError:
    # Worded for both modes (a page-only server has no listing to point at), so a notebook reads the same on either.
    return ApiError(
        404, "model_not_found", "No voice model with that id (it may have been deleted): check the model_id POST /v1/voice-clone gave."
    )


def _find_model(services: Services, model_id: str) -> ModelRecord:
    # Anything not shaped like our ids (path-like, over-long...) is simply unknown.
    record = services.store.get_model(model_id) if MODEL_ID_RE.match(model_id) else None
    if record is None:
        raise _not_found()
    return record


# -- POST /v1/voice-clone ----------------------------------------------------


def _idempotency_key(request: Request) -> str | None:
    """(ours) The page does not document Idempotency-Key: a page-only server ignores it, as an unknown header."""
    if _page_only(request):
        return None
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not all(33 <= ord(c) <= 126 for c in key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces.",
        )
    return key


def _check_sample(form: CloneForm) -> Any:
    """The engine's upload checks, streamed from the file on disk; a refusal becomes its 413/415/422.

    Returns the measurements (`.duration`), not the samples: the upload is
    never read into memory whole, and the worker decodes what the clone
    needs from disk, so a 10 MB upload costs a few MB here.
    """
    from .checks import SampleRejection, check_upload

    try:
        # With enhance_quality, noise is judged as the cleaned sample will be: that is what gets cloned.
        return check_upload(form.audio_path, form.filename or "", enhance_quality=form.enhance)
    except SampleRejection as rejection:
        raise ApiError(rejection.status, rejection.code, rejection.message) from None


def _reused_key(model_id: str) -> ApiError:
    return ApiError(
        409,
        "idempotency_key_reused",
        f"This Idempotency-Key was already used for a different request (it made {model_id}); "
        "use a new key for a new upload.",
    )


def _persist(services: Services, form: CloneForm, audio: Any, key: str | None) -> tuple[ModelRecord, bool]:
    """Adopt the upload, then write the model, its sample and its key in one transaction."""
    model_id = new_model_id()
    created_at = now()
    estimate = services.worker.estimate_completion(audio.duration, form.enhance)
    file_name = services.blobs.adopt_upload(form.audio_path, model_id)
    model = NewModel(
        model_id=model_id,
        name=form.name,
        description=form.description,
        created_at=created_at,
        estimated_completion=estimate,
        enhance=form.enhance,
        sample_file=file_name,
        sample_name=form.filename,
        sample_seconds=audio.duration,
        transition=services.transition.to_json(),
    )
    sample = NewSample(DEFAULT_SAMPLE_TITLE, DEMO_TEXT, new_sample_token())
    try:
        record, created = services.store.create_model(model, [sample], (key, form.fingerprint()) if key else None)
    except BaseException:
        services.blobs.remove(file_name, [])
        raise
    if not created:  # a concurrent request with the same key won the race
        services.blobs.remove(file_name, [])
        return record, False
    services.worker.enqueue(model_id, audio.duration, form.enhance)  # the worker decodes from disk
    return record, True


def _created_response(request: Request, record: ModelRecord, replayed: bool) -> Response:
    services = _services(request)
    samples = services.store.samples_for([record.model_id])[record.model_id]
    headers = {"Location": f"/v1/models/{record.model_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(created_json(record, samples, _base_url(request), now()), status_code=201, headers=headers)


async def voice_clone(request: Request) -> Response:
    services = _services(request)
    key = _idempotency_key(request)
    form = await read_clone_form(request, services.blobs)
    try:
        if key is not None:
            hit = await run_in_threadpool(services.store.find_idempotent, key)
            if hit is not None:
                model_id, fingerprint = hit
                if fingerprint != form.fingerprint():
                    raise _reused_key(model_id)
                replayed = await run_in_threadpool(services.store.get_model, model_id)
                if replayed is not None:  # (None: deleted since, and its key with it: create anew)
                    return await run_in_threadpool(_created_response, request, replayed, True)
        audio = await run_in_threadpool(_check_sample, form)
        try:
            record, created = await run_in_threadpool(_persist, services, form, audio, key)
        except IdempotencyMismatch as exc:
            raise _reused_key(exc.model_id) from None
        return await run_in_threadpool(_created_response, request, record, not created)
    finally:
        form.discard()  # a no-op once adopted


# -- /v1/models ----------------------------------------------------------------


def model_resource(request: Request) -> Response:
    """GET and DELETE /v1/models/{model_id} (one route, so a 405 lists both methods)."""
    if request.method == "DELETE":
        return _delete_model(request)
    return _get_model(request)


def _get_model(request: Request) -> Response:
    services = _services(request)
    model_id = request.path_params["model_id"]
    record = _find_model(services, model_id)
    transition = Transition.from_json(record.transition)
    if transition.progression == "polls":
        record = services.store.record_poll(model_id) or record
    if record.status == "processing" and transition.waits_on_read(record):
        services.worker.wait_settled(model_id, SETTLE_WAIT_SECONDS)
        record = _find_model(services, model_id)
    if services.options.page_only:
        return JSONResponse(page_model_json(record, now()))
    samples = services.store.samples_for([model_id])[model_id]
    return JSONResponse(model_json(record, samples, _base_url(request), now()))


def _delete_model(request: Request) -> Response:
    services = _services(request)
    model_id = request.path_params["model_id"]
    removed = services.store.delete_model(model_id) if MODEL_ID_RE.match(model_id) else None
    if removed is None:
        raise _not_found()
    record, samples = removed
    services.blobs.remove(record.sample_file, [s.token for s in samples])
    services.speaker.forget(record.voice_id)
    return Response(status_code=204)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"before:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "before" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "The cursor is not one this server gave out; start again without it.") from None


def list_models(request: Request) -> Response:
    services = _services(request)
    raw_limit = request.query_params.get("limit")
    limit = LIST_DEFAULT_LIMIT
    if raw_limit is not None:
        # isdigit() alone also admits '²' and other Unicode digits that int() refuses (a 500).
        if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= LIST_MAX_LIMIT:
            raise ApiError(400, "invalid_limit", f"limit must be a whole number from 1 to {LIST_MAX_LIMIT}.")
        limit = int(raw_limit)
    cursor = request.query_params.get("cursor")
    before = _decode_cursor(cursor) if cursor else None
    rows = services.store.list_models(limit + 1, before)
    more = len(rows) > limit
    rows = rows[:limit]
    samples = services.store.samples_for([r.model_id for r in rows])
    at, base = now(), _base_url(request)
    return JSONResponse(
        {
            "models": [model_json(r, samples[r.model_id], base, at) for r in rows],
            "next_cursor": _encode_cursor(rows[-1].seq) if more else None,
        }
    )


# -- /v1/voices and /v1/text-to-speech -----------------------------------------------


def list_voices(request: Request) -> Response:
    services = _services(request)
    voices = [
        {
            "voice_id": v.voice_id,
            "name": v.name,
            "kind": "builtin",
            "language": v.language,
            "engine": v.engine,
            "neural": v.neural,
            "gender": v.gender,
            "accent": v.accent,
        }
        for v in services.speaker.builtin().values()
    ]
    at = now()
    for record in services.store.models_with_status("ready"):
        if visible_status(record, at) == "ready":
            voices.append(
                {
                    "voice_id": record.voice_id,
                    "name": record.name,
                    "kind": "custom",
                    "language": services.speaker.language(record),
                    **services.speaker.describe(record),
                }
            )
    return JSONResponse({"voices": voices})


async def text_to_speech(request: Request) -> Response:
    services = _services(request)
    body = await read_json_object(request, MAX_JSON_BYTES)
    text = body.get("text")
    if not isinstance(text, str):
        raise ApiError(400, "missing_text", 'The body needs "text": the words to speak, as a string.')
    if not text.strip():
        raise ApiError(400, "empty_text", '"text" is empty; give at least one word to speak.')
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(
            400, "text_too_long", f'"text" is {len(text)} characters long; the limit is {MAX_TEXT_CHARS} per request.'
        )
    voice = body.get("voice")
    if not isinstance(voice, str) or not voice:
        raise ApiError(400, "missing_voice", 'The body needs "voice": the voice_id of a ready voice model (or of a built-in voice).')
    fmt = body.get("format", "mp3")
    if fmt not in OUTPUT_FORMATS:
        raise ApiError(
            400, "unsupported_output_format", f'"format" must be one of {", ".join(OUTPUT_FORMATS)} (mp3 by default).'
        )
    audio = await run_in_threadpool(services.speaker.speak_stream, text, voice, fmt, now())
    if isinstance(audio, bytes):
        return Response(audio, media_type=MEDIA_TYPES[fmt])
    return StreamingResponse(audio, media_type=MEDIA_TYPES[fmt])


# -- the sample "CDN" ------------------------------------------------------------


def cdn_sample(request: Request) -> Response:
    """Rendered demo samples. No key needed: the 192-bit token in the URL is the access control."""
    services = _services(request)
    token = request.path_params["token"]
    sample = services.store.sample_by_token(token) if SAMPLE_TOKEN_RE.match(token) else None
    if sample is None:
        raise ApiError(
            404,
            "sample_not_found",
            "No such sample (its voice model may have been deleted); get the model again for its current sample URLs.",
        )
    found = services.blobs.servable_sample(token) if sample.rendered else None
    if found is None:
        raise ApiError(404, "sample_not_ready", "This sample is rendered when its voice model is ready; try again then.")
    path, info = found
    return FileResponse(
        path, media_type="audio/mpeg", stat_result=info, headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
