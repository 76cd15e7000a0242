"""`speechgen-local` / `python -m speechgen_jupyter.local`: run the local server from a shell."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

DEFAULT_PORT = 8765


def _json_or_name(value: str) -> Any:
    """--transition immediate, or --transition '{"progression": "polls", "times": 3}'."""
    value = value.strip()
    if value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    return value


def _json_object(value: str) -> Any:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return parsed


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="speechgen-local",
        description="A local Speechgen-compatible server with an offline voice engine.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--data-dir", default=None, help="where models and audio live; default: a temporary directory removed on exit")
    p.add_argument("--api-key", default=None, help="the key clients must send; default: a development key printed at start")
    p.add_argument("--admin", action="store_true", help="mount the /_admin routes (state control, fault injection)")
    p.add_argument(
        "--page-only", action="store_true",
        help="serve only what Speechgen's public page documents (no GET /v1/models, GET /v1/voices or /openapi.json): "
        "the stand-in for the real service",
    )
    p.add_argument("--transition", type=_json_or_name, default=None, help='model progression: real, immediate, or JSON like \'{"progression": "polls", "times": 3}\'')
    p.add_argument("--faults", type=_json_object, default=None, help='fault injection as JSON, e.g. \'{"rate": 0.2, "kinds": ["429", "503"]}\'')
    p.add_argument("--clone-seconds", type=float, default=None, help="how long a clone's fit may search (default 50, or SPEECHGEN_LOCAL_CLONE_SECONDS)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug", "trace"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import start
    from .datadir import DataDirError

    try:
        server = start(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            api_key=args.api_key,
            admin=args.admin,
            page_only=args.page_only,
            transition=args.transition,
            faults=args.faults,
            clone_seconds=args.clone_seconds,
            log_level=args.log_level,
        )
    except (DataDirError, OSError, ValueError) as exc:
        # The user's to fix (a busy port, a data directory it cannot use): one line, no traceback.
        print(f"speechgen-local: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    key_line = server.api_key if args.api_key is None else "(the one given with --api-key)"
    kept = "kept" if args.data_dir else "temporary, removed on exit"
    print(f"Speechgen local server at {server.base_url}", flush=True)
    print(f"API key (development): {key_line}", flush=True)
    print(f"Data directory: {server.data_dir} ({kept})", flush=True)
    if server.page_only:
        print("Mode: page-only (POST /v1/voice-clone, GET and DELETE /v1/models/{id}, POST /v1/text-to-speech)", flush=True)
    print(f"Use it:  export SPEECHGEN_BASE_URL={server.base_url} SPEECHGEN_API_KEY=<the key above>", flush=True)
    try:
        while not stop.wait(3600):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
