"""`%speechgen track MODEL_ID`: remember a model made elsewhere, so it is one of "your models" here."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import model_frame
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "remember a model made elsewhere (e.g. with curl) by its id"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen track",
        description="Remember a voice model made elsewhere (with the page's curl example, another computer...) "
        "by its model_id. A server without a model listing then shows it in %speechgen models and offers its "
        "voice once it is ready. The model is checked first: an unknown id is refused.",
    )
    p.add_argument("model_id")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    model = ctx.client.track_model(args.model_id)
    ctx.say(f"Tracking {model.model_id} ({model.name!r}, {model.status}): it is listed with your voice models here.")
    return model_frame(ctx, model)
