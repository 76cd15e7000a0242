"""`%speechgen help [SUBCOMMAND]`: what every command does, in one screen."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "this help; `help SUBCOMMAND` for one command's options"

OVERVIEW = """\
Speak text:

  %%speechgen [--voice V] [--format mp3|wav|ogg|flac] [--out PATH] [--autoplay] [--no-cache] [--no-stream] [-o NAME]
  Text to speak. Long text plays while it is spoken (the first sentence at once), then is one clip.
  Speech said before comes from the cache, with no request (%speechgen cache).

  {name} inserts the notebook variable `name` (also {obj.attr}, {items[0]}, {x:.1f});
  write {{ and }} for literal braces. The same works in options: --voice {my_voice}.
  `%%speechgen NAME << [options]` or `-o NAME` stores the Speech in NAME.

Manage voices (%speechgen SUBCOMMAND ...; `NAME << SUBCOMMAND ...` stores the result):

{commands}

Settings (%config SpeechgenMagics to list, %config SpeechgenMagics.default_voice = "..." to set):
  default_voice, default_format, autoplay, output_dir, wait_timeout, max_chars, interpolate,
  progress, players, cache, stream

Errors you can fix are shown as one line; add `--help` to any subcommand for its options.
"""


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser("%speechgen help", description="Show help for the magics or one subcommand.")
    p.add_argument("subcommand", nargs="?", help="a subcommand, or 'speak' for the cell magic")
    return p


def text(subcommand: str | None = None) -> str:
    from .dispatch import SUBCOMMANDS
    from .dispatch import subcommand as load

    if subcommand in ("speak", "%%speechgen", "cell"):
        from .speak import parser as speak_parser

        return speak_parser().format_help()
    if subcommand:
        return load(subcommand).parser().format_help()
    lines = []
    for name in SUBCOMMANDS:
        module = load(name)
        lines.append(f"  {name:<8} {module.SUMMARY}")
    return OVERVIEW.replace("{commands}", "\n".join(lines))


def run(ctx: Context, args: argparse.Namespace) -> Any:
    print(text(args.subcommand))
    return None
