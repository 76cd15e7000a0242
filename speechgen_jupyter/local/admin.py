"""Admin routes for state control and fault injection (the real API has none).

Mounted only with `start(admin=True)` / `--admin`, and behind the same key as
the API: a test or a tutorial can switch a running server to "models fail" or
"30 % of requests get 503" without restarting it. Never faulted.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultConfig
from .jsonbody import read_json_object
from .problems import ApiError
from .services import Services
from .transitions import Transition

_MAX_BODY = 16 * 1024


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _sentence(exc: ValueError, schema: str) -> str:
    """The settings' own ValueError (shared with start(...)), as a sentence that says where to look."""
    text = str(exc).rstrip(".")
    return f"{text[:1].upper()}{text[1:]}. See the {schema} schema in /openapi.json."


def _state(services: Services) -> dict[str, Any]:
    counts = services.store.status_counts()
    return {
        "transition": services.transition.to_dict(),
        "faults": services.faults.config.to_dict(),
        "fault_stats": dict(services.faults.stats),
        "models": {s: counts.get(s, 0) for s in ("processing", "ready", "failed")},
        "worker": services.worker.state(),
    }


def get_state(request: Request) -> Response:
    return JSONResponse(_state(_services(request)))


def get_requests(request: Request) -> Response:
    """Every request the server received (see requestlog.py); `?path=` filters, `?since=<seq>` gives the newer ones."""
    path = request.query_params.get("path") or None
    try:
        since = int(request.query_params.get("since") or 0)
    except ValueError:
        raise ApiError(400, "invalid_since", '"since" must be a whole number (a "seq" from an earlier answer).') from None
    return JSONResponse(_services(request).requests.snapshot(path=path, since=since))


async def put_transition(request: Request) -> Response:
    body = await read_json_object(request, _MAX_BODY)
    try:
        transition = Transition.parse(body)
    except ValueError as exc:
        raise ApiError(400, "invalid_transition", _sentence(exc, "Transition")) from None
    _services(request).transition = transition
    return JSONResponse({"transition": transition.to_dict()})


async def put_faults(request: Request) -> Response:
    body = await read_json_object(request, _MAX_BODY)
    try:
        config = FaultConfig.parse(body)
    except ValueError as exc:
        raise ApiError(400, "invalid_faults", _sentence(exc, "Faults")) from None
    _services(request).faults.configure(config)
    return JSONResponse({"faults": config.to_dict()})


async def reset(request: Request) -> Response:
    services = _services(request)
    await run_in_threadpool(services.reset)
    return JSONResponse(await run_in_threadpool(_state, services))


routes = [
    Route("/_admin/state", get_state, methods=["GET"]),
    Route("/_admin/requests", get_requests, methods=["GET"]),
    Route("/_admin/transition", put_transition, methods=["PUT"]),
    Route("/_admin/faults", put_faults, methods=["PUT"]),
    Route("/_admin/reset", reset, methods=["POST"]),
]
