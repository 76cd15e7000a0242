"""`%speechgen status MODEL_ID`: one model's state, as a one-row table."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import model_frame
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "show one model: status, voice_id, usage, why it failed"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser("%speechgen status", description="Show one voice model (a one-row models table).")
    p.add_argument("model_id")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    model = ctx.client.get_model(args.model_id)
    if model.is_failed and model.error is not None:
        ctx.say(f"{model.model_id} failed: {model.error.message}")
    return model_frame(ctx, model)
