"""`%speechgen samples MODEL_ID`: a model's demonstration samples, each playable."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "a model's samples: title, text and a player each"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser("%speechgen samples", description="The samples the service rendered with a voice model.")
    p.add_argument("model_id")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ..tables import samples_table

    model = ctx.client.get_model(args.model_id)
    if not model.samples:
        ctx.say(f"{model.model_id} has no samples yet (status {model.status}).")
    return samples_table(model, ctx.client)
