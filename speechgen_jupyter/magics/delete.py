"""`%speechgen delete MODEL_ID [--yes]`: delete a model, after asking."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError

from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "delete a voice model (asks first unless --yes)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen delete", description="Delete a voice model. It cannot be undone, so it asks first."
    )
    p.add_argument("model_id")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    client = ctx.client
    model = client.get_model(args.model_id)  # an unknown id fails here, before any question
    if not args.yes:
        question = f"Delete voice model {model.model_id} ({model.name!r})? This cannot be undone. [y/N] "
        try:
            answer = input(question)
        except (StdinNotImplementedError, EOFError):
            raise UsageError(
                "Cannot ask for confirmation here (no input available); add --yes to delete without asking."
            ) from None
        if answer.strip().lower() not in ("y", "yes"):
            ctx.say("Not deleted.")
            return None
    client.delete_model(model.model_id)
    ctx.say(f"Deleted {model.model_id} ({model.name!r}).")
    return None
