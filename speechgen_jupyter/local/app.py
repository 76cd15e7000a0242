"""The ASGI application: routes, error handlers and middleware, around one `Services`.

Layers, outermost first:
    RequestIdMiddleware   every response gets x-request-id (and the transport is kept for drops)
    FaultMiddleware       injected 429/5xx/slow/drop, never on /_admin or /openapi.json
    Starlette             ServerErrorMiddleware (500 body) -> BearerAuthMiddleware -> routes
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin, api
from .auth import BearerAuthMiddleware
from .connection import RequestIdMiddleware
from .faults import FaultMiddleware
from .openapi import build_openapi
from .problems import (
    ApiError,
    handle_api_error,
    handle_client_gone,
    handle_http_exception,
    handle_unexpected,
)
from .services import Services


def create_app(services: Services) -> Any:
    document = json.dumps(build_openapi(admin=services.options.admin)).encode()  # serialised once

    def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes = [
        Route("/v1/voice-clone", api.voice_clone, methods=["POST"]),
        Route("/v1/models", api.list_models, methods=["GET"]),
        Route("/v1/models/{model_id}", api.model_resource, methods=["GET", "DELETE"]),
        Route("/v1/text-to-speech", api.text_to_speech, methods=["POST"]),
        Route("/v1/voices", api.list_voices, methods=["GET"]),
        Route("/cdn/samples/{token}.mp3", api.cdn_sample, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if services.options.admin:
        routes += admin.routes
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuthMiddleware, api_key=services.options.api_key)],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            ClientDisconnect: handle_client_gone,
            Exception: handle_unexpected,
        },
    )
    app.state.services = services
    return RequestIdMiddleware(FaultMiddleware(app, services.faults))
