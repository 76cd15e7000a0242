"""`%speechgen models [--status S]`: every voice model as a DataFrame.

Where the server has no model listing (the page documents none), these are
the models made or tracked from this computer, each asked for as it is now.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import tell_extras
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "list your voice models as a DataFrame (sample players in a notebook)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen models",
        description="Your voice models: model_id, name, status, voice_id, created_at, usage_count, description, "
        "sample (its text; a player in a notebook), error.",
    )
    p.add_argument("--status", choices=("processing", "ready", "failed"), help="only models with this status")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ..tables import models_table

    table = models_table(ctx.client)
    tell_extras(ctx)
    if args.status:
        table = table[table["status"] == args.status].reset_index(drop=True)
    return table
