"""`%speechgen cache [clear] [--max-size SIZE]`: what the speech cache holds and has saved, and emptying it."""

from __future__ import annotations

import argparse
import re
from typing import Any

from IPython.core.error import UsageError

from ._context import Context
from .parsing import MagicArgumentParser

SUMMARY = "the speech cache: entries, size, hits and characters saved; `cache clear` empties it"

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%speechgen cache",
        description="Speech already returned is kept on this computer (in the user's cache folder), so a re-run "
        "of a cell, a notebook or a batch asks the service for nothing it said before. Keyed by the service, "
        "a fingerprint of the account (never the key), the voice, the text and the format.\n"
        "Turn it off with %config SpeechgenMagics.cache = False, or --no-cache on one %%speechgen cell.",
    )
    p.add_argument("action", nargs="?", choices=("info", "clear"), default="info", help="info (the default) or clear")
    p.add_argument("--max-size", metavar="SIZE", help="bound the cache's size, e.g. 500MB or 2GiB (kept for every kernel)")
    return p


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise UsageError(f"--max-size takes a size such as 500MB, 2GB or 1GiB, not {text!r}.")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1_000_000:
        raise UsageError(f"--max-size {text} is under 1 MB: too small to hold even a minute of speech.")
    return size


def run(ctx: Context, args: argparse.Namespace) -> Any:
    from ..cache import default_cache

    cache = default_cache()
    if args.max_size is not None:
        cache.set_max_bytes(parse_size(args.max_size))
    if args.action == "clear":
        removed = cache.clear()
        ctx.say(f"Cleared the speech cache: {removed:,} entr{'y' if removed == 1 else 'ies'} removed ({cache.directory}).")
        return None
    state = "on" if ctx.settings.cache else "off for %%speechgen (%config SpeechgenMagics.cache = True to turn it on)"
    ctx.say(f"Speech cache ({state}): {cache.stats()}")
    return None
