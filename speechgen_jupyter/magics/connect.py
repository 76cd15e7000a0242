"""`%speechgen connect [--local | --base-url URL]`: switch the shared client.

The key is never an argument: a key typed into a cell is saved in the
notebook file, its checkpoints and IPython's history. It is read from
`SPEECHGEN_API_KEY`, or asked for with `getpass` (hidden as typed). It is
checked with one cheap request before the switch, so a wrong key leaves the
previous connection in place. It is never printed.

The check asks the page's GET /v1/models/{model_id} for a model that does not
exist: any server has that endpoint, and "no such model" means the key got
through, where a listing might not exist at all.
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError

from .._constants import API_KEY_ENV, BASE_URL_ENV
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "connect to Speechgen (key from SPEECHGEN_API_KEY or a hidden prompt) or to the local server"

_NO_KEY_IN_CELLS = (
    "%speechgen connect never takes the API key in the cell: it would be saved in the notebook and in "
    f"IPython's history. Set {API_KEY_ENV} before starting Jupyter, or run `%speechgen connect` "
    "and paste the key at the hidden prompt. (If you typed a real key, consider rotating it.)"
)


#: A model id no server has, asked for only to see whether the key is accepted.
_KEY_CHECK_MODEL = "vm_speechgen_jupyter_key_check"


class _ConnectParser(MagicArgumentParser):
    def error(self, message: str) -> Any:
        if "unrecognized" in message:
            # argparse would echo the unexpected words, which may be a key.
            raise UsageError(f"{self.prog}: unexpected arguments. {self.format_usage().strip()}\n{_NO_KEY_IN_CELLS}")
        super().error(message)  # these name options only, never values


def parser() -> MagicArgumentParser:
    p = _ConnectParser(
        "%speechgen connect",
        description=f"Connect to Speechgen with the key from {API_KEY_ENV} (or a hidden prompt), "
        f"or start/use the bundled local server with --local.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="use the offline local server (started if needed)")
    p.add_argument(
        "--page-only", action="store_true",
        help="with --local: a local server with only what Speechgen's page documents (as the real service)",
    )
    where.add_argument("--base-url", metavar="URL", help=f"the server's URL (default: {BASE_URL_ENV} or Speechgen's)")
    # Caught so the refusal explains itself instead of "unrecognized arguments".
    p.add_argument("--api-key", "--key", "--token", dest="key_given", nargs="?", const="", help=argparse.SUPPRESS)
    p.add_argument("stray", nargs="*", help=argparse.SUPPRESS)
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    if args.key_given is not None or args.stray:
        raise UsageError(_NO_KEY_IN_CELLS)
    if args.page_only and not args.local:
        raise UsageError("--page-only goes with --local: it chooses what the bundled local server offers.")
    if args.local:
        from .._shared import connect_local, local_server

        running = local_server()
        if args.page_only and (running is None or not running.page_only):
            client = connect_local(page_only=True)
        elif running is not None and running.page_only and not args.page_only:
            client = connect_local(page_only=False)
        else:
            client = connect_local()
        mode = " (page-only)" if args.page_only else ""
        ctx.say(f"Connected to the local Speechgen server{mode} at {client.base_url}.")
        return None

    from .._shared import set_client
    from ..client import Client
    from ..errors import APIError, AuthenticationError, PermissionDeniedError

    key = os.environ.get(API_KEY_ENV, "").strip()
    source = API_KEY_ENV
    if not key:
        key = _ask_key()
        source = "the prompt"
    client = Client(api_key=key, base_url=args.base_url or None)
    del key
    try:
        try:
            client.get_model(_KEY_CHECK_MODEL)
        except (AuthenticationError, PermissionDeniedError):
            raise
        except APIError:
            pass  # "no such model" (or any refusal of the id itself): the key got through
        detail = "key accepted"
    except BaseException:
        client.close()
        raise
    set_client(client)
    ctx.say(f"Connected to {client.base_url} with the key from {source} ({detail}).")
    return None


def _ask_key() -> str:
    try:
        key = getpass.getpass("Speechgen API key (hidden): ")
    except (StdinNotImplementedError, EOFError):
        raise UsageError(
            f"No {API_KEY_ENV} is set and this frontend cannot ask for it. Set {API_KEY_ENV} in the "
            "environment Jupyter starts from."
        ) from None
    key = (key or "").strip()
    if not key:
        raise UsageError("No key was entered; nothing changed.")
    return key
