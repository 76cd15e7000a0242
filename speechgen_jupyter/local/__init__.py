"""The local Speechgen-compatible server: the offline default behind every tutorial and test.

    from speechgen_jupyter.local import start
    with start(transition="immediate") as server:
        client = Client(api_key=server.api_key, base_url=server.base_url)

`start()` serves on a free loopback port in a background thread and returns
once it answers; `python -m speechgen_jupyter.local` (or `speechgen-local`)
runs it from a shell and prints its URL and development key.

What it serves: the page's endpoints (POST /v1/voice-clone, GET and DELETE
/v1/models/{id}, POST /v1/text-to-speech) and this project's (GET /v1/models,
GET /v1/voices, Idempotency-Key on uploads), demo samples at unguessable
/cdn/samples/<token>.mp3 URLs that need no key, and /openapi.json.
`start(page_only=True)` (`speechgen-local --page-only`) serves the page's
endpoints and sample URLs only, with the page's fields: what a client can
count on from the real service.

For tests and tutorials, moto-style:
- `transition=` decides how new models progress: "real" (default), "immediate",
  {"progression": "time", "seconds": N}, {"progression": "polls", "times": N},
  {"progression": "fail", "reason": "...", "code": "..."}.
- `faults=` injects failures: {"rate": 0.3, "kinds": ["429", "500", "502", "503",
  "504", "slow", "drop", "drop_after"], "retry_after": 1, "slow_seconds": 1.5,
  "seed": 42, "paths": ["/v1/"]}.
- `admin=True` mounts PUT /_admin/transition, PUT /_admin/faults, GET /_admin/state
  and POST /_admin/reset (same key) to change both while serving.

Importing this package is cheap (standard library only): the client imports it
to find `start`, and Starlette, uvicorn and the voice engine load inside it.
"""

from __future__ import annotations

from .server import LocalServer, start

__all__ = ["LocalServer", "start"]
