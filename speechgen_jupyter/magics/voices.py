"""`%speechgen voices [--kind K] [--preview]`: the voices text-to-speech takes.

Where the server has no voice listing, these are the ready voices of your
models; built-in voices appear only where a server lists them.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import tell_extras
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "list the voices you can speak with (your ready clones; built-in ones where the server lists them)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen voices",
        description="Voices usable with %%speechgen --voice: voice_id, name, kind, language, sample.\n"
        "Cloned voices play their model's sample; built-in voices play only with --preview.",
    )
    p.add_argument("--kind", choices=("builtin", "custom"), help="only built-in or only cloned voices")
    p.add_argument(
        "--preview", action="store_true",
        help="speak a short sentence with each built-in voice when shown (one request per voice)",
    )
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ..tables import voices_table

    table = voices_table(ctx.client, preview=args.preview)
    tell_extras(ctx)
    if args.kind:
        table = table[table["kind"] == args.kind].reset_index(drop=True)
    return table
