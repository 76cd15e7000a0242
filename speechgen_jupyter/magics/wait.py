"""`%speechgen wait MODEL_ID [--timeout S]`: block until a model is ready, with progress."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import model_frame, wait_ready
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "wait until a model is ready (progress bar), then show it"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen wait",
        description="Wait for a voice model to be ready. A failed model or a timeout ends the wait with a message.",
    )
    p.add_argument("model_id")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="default: SpeechgenMagics.wait_timeout")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    model = wait_ready(ctx, args.model_id, args.timeout)
    ctx.say(f"{model.model_id} is ready: speak with --voice {model.voice_id}")
    return model_frame(ctx, model)
