"""`speechgen-studio` (or `python -m speechgen_jupyter.standalone`): open the studio as a page on 127.0.0.1.

What it does, and why:

* The connection. With `SPEECHGEN_API_KEY` in the environment the page
  uses the real service (or `SPEECHGEN_BASE_URL`); without it (or with
  `--local`) this command starts the bundled local server once, in this
  process, and hands its URL and key to the page's kernels. One server for
  the whole session, not one per kernel: every page load (Voilà starts a
  kernel per page) sees the same voices, and with `--data-dir` (default: the
  user data folder) they are still there next time.
* The key reaches the kernel through the environment only. It is never a
  command-line argument (other users see those in `ps`), never printed,
  never in the page: the studio shows the server's URL, never the key, and
  keeps no key in widget state.
* Voilà on 127.0.0.1 only, a free port (or `--port`), a token generated
  per run and printed with the URL (another user of this machine must not
  reach a page that spends your Speechgen credit), `--no-browser` to only
  print it, code cells stripped and tracebacks hidden.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from typing import Any

from .. import _constants as C
from . import NOTEBOOK

__all__ = ["main"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="speechgen-studio",
        description="Open the Speechgen voice studio as a web page on this computer (no code, no notebook).",
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the page's address; do not open a browser")
    p.add_argument("--local", action="store_true", help=f"use the offline local server even when {C.API_KEY_ENV} is set")
    p.add_argument(
        "--data-dir", default=None,
        help="where the local server keeps its voices (default: the speechgen_jupyter user data folder)",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the page's server to start")
    return p


def _connection(args: argparse.Namespace, env: dict[str, str]) -> tuple[str, Any]:
    """(what the page talks to, in words; the local server handle or None). Sets the kernels' environment."""
    if env.get(C.API_KEY_ENV) and not args.local:
        url = env.get(C.BASE_URL_ENV) or C.DEFAULT_BASE_URL
        return f"{url} (the key from {C.API_KEY_ENV})", None
    try:
        from ..local import start
    except ImportError as err:  # pragma: no cover - [local] is a dependency of the extra that brings voila
        raise SystemExit(f"speechgen-studio: no {C.API_KEY_ENV} is set and the local server is not installed ({err}).")
    from .._paths import user_data_dir

    data_dir = args.data_dir or str(user_data_dir() / "studio-local-server")
    server = start(data_dir=data_dir)
    env[C.BASE_URL_ENV], env[C.API_KEY_ENV] = server.base_url, server.api_key
    return f"the offline local server at {server.base_url} (voices kept in {server.data_dir})", server


def _voila_command(port: int, token: str) -> list[str]:
    return [
        sys.executable, "-m", "voila", str(NOTEBOOK),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        f"--token={token}",
        "--strip_sources=True",
        "--show_tracebacks=False",
    ]


def _wait_until_up(proc: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    """Until Voila listens (it binds once set up). Not a page request: that would start a kernel for nobody."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"speechgen-studio: the page's server (Voila) exited with status {proc.returncode}.")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"speechgen-studio: the page's server did not answer within {timeout:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    what, server = _connection(args, env)
    port = args.port or _free_port()
    token = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}/?token={token}"
    proc = subprocess.Popen(_voila_command(port, token), env=env, start_new_session=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as Ctrl+C does, wherever it finds us
    try:
        _wait_until_up(proc, port, args.timeout)
        print(f"Speechgen studio: {url}", flush=True)
        print(f"It speaks to {what}. Stop it with Ctrl+C.", flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        proc.wait()
        print(f"speechgen-studio: the page's server stopped (status {proc.returncode}).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(proc)
        if server is not None:
            server.stop()


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Voila, its kernels with it (its own process group), politely first."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    sys.exit(main())
