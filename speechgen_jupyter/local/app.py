"""The ASGI application: routes, error handlers and middleware, around one `Services`.

Layers, outermost first:
    RequestIdMiddleware   every response gets x-request-id (and the transport is kept for drops)
    CloseUnreadBodyMiddleware  an answer sent before the body was read closes the connection
    RequestLogMiddleware       (admin only) every request recorded as it arrives, for tests that count them
    FaultMiddleware       injected 429/5xx/slow/drop, never on /_admin or /openapi.json
    Starlette             ServerErrorMiddleware (500 body) -> BearerAuthMiddleware -> routes

The routes come in two lists, as API.md marks them: the page's (what Speechgen's
public page documents, and the sample URLs its 201 answer points at) and ours.
`start(page_only=True)` serves the first list only, so everything else answers
exactly as an unknown path does: the stand-in for the real service in tests.
The admin routes are the emulator's back door, not part of either API; they
exist only when asked for (`admin=True`), in either mode.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin, api
from .auth import BearerAuthMiddleware
from .connection import CloseUnreadBodyMiddleware, RequestIdMiddleware
from .faults import FaultMiddleware
from .openapi import build_openapi
from .problems import (
    ApiError,
    handle_api_error,
    handle_client_gone,
    handle_http_exception,
    handle_unexpected,
)
from .requestlog import RequestLogMiddleware
from .services import Services
from .storage import handle_storage_failure


#: (page) The four endpoints of Speechgen's public page, and the "CDN" its sample URLs point at.
PAGE_ROUTES = [
    Route("/v1/voice-clone", api.voice_clone, methods=["POST"]),
    Route("/v1/models/{model_id}", api.model_resource, methods=["GET", "DELETE"]),
    Route("/v1/text-to-speech", api.text_to_speech, methods=["POST"]),
    Route("/cdn/samples/{token}.mp3", api.cdn_sample, methods=["GET"]),
]
#: (ours) This project's additions; a page-only server has none of them.
OUR_ROUTES = [
    Route("/v1/models", api.list_models, methods=["GET"]),
    Route("/v1/voices", api.list_voices, methods=["GET"]),
]
OPENAPI_PATH = "/openapi.json"  # (ours) too: the real service is not known to publish one


def create_app(services: Services) -> Any:
    options = services.options
    routes = list(PAGE_ROUTES)
    public: tuple[str, ...] = ()
    if not options.page_only:
        document = json.dumps(build_openapi(admin=options.admin)).encode()  # serialised once

        def openapi(request: Request) -> Response:
            return Response(document, media_type="application/json")

        routes += [*OUR_ROUTES, Route(OPENAPI_PATH, openapi, methods=["GET"])]
        public = (OPENAPI_PATH,)
    if options.admin:
        routes += admin.routes
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuthMiddleware, api_key=options.api_key, public_paths=public)],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            ClientDisconnect: handle_client_gone,
            OSError: handle_storage_failure,
            sqlite3.Error: handle_storage_failure,
            Exception: handle_unexpected,
        },
    )
    app.state.services = services
    inner: Any = FaultMiddleware(app, services.faults)
    if services.options.admin:
        inner = RequestLogMiddleware(inner, services.requests)
    return RequestIdMiddleware(CloseUnreadBodyMiddleware(inner))
