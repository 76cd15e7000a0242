"""`%speechgen clone PATH --name N [--description D] [--enhance] [--wait]`."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import model_frame, wait_ready
from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "clone a voice from an audio file (10 s to 5 min of one speaker)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen clone",
        description="Upload a sample and create a voice model. The sample is checked first (MP3, WAV, M4A, FLAC "
        "or OGG; 10 seconds to 5 minutes; at most 10 MB), so a bad one is refused at once with the reason.",
        epilog='Quote paths and names with spaces: %speechgen clone "my sample.mp3" --name "My voice"',
    )
    p.add_argument("path", help="the audio file")
    p.add_argument("--name", "-n", required=True, help="the voice model's display name")
    p.add_argument("--description", "-d", help="a description")
    p.add_argument("--enhance", action="store_true", help="clean the sample up before cloning (enhance_quality)")
    p.add_argument("--wait", "-w", action="store_true", help="wait until the model is ready, with progress")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="with --wait; default SpeechgenMagics.wait_timeout")
    return p


def run(ctx: Context, args: argparse.Namespace) -> Any:
    model = ctx.client.clone_voice(args.path, args.name, args.description, args.enhance)
    eta = ""
    if model.estimated_completion is not None and model.created_at is not None:
        eta = f", about {max(0.0, (model.estimated_completion - model.created_at).total_seconds()):.0f} s"
    ctx.say(f"Cloning {model.name!r} as {model.model_id}: {model.status}{eta}.")
    if args.wait and not model.is_ready:
        model = wait_ready(ctx, model.model_id, args.timeout)
        ctx.say(f"{model.model_id} is ready: speak with --voice {model.voice_id}")
    elif not args.wait and not model.is_ready:
        ctx.say(f"Follow it with: %speechgen wait {model.model_id}")
    return model_frame(ctx, model)
