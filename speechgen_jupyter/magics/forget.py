"""`%speechgen forget MODEL_ID`: stop remembering a model on this computer, without deleting it."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "stop remembering a model here (it is not deleted)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen forget",
        description="Remove a voice model from this computer's record of your models. The model itself is "
        "not touched (%speechgen delete deletes it); %speechgen track brings it back.",
    )
    p.add_argument("model_id")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    if not ctx.client.forget_model(args.model_id):
        raise UsageError(f"{args.model_id} is not among the models remembered here; nothing changed.")
    ctx.say(f"Forgot {args.model_id.strip()} here; it still exists (track it again with %speechgen track {args.model_id.strip()}).")
    return None
