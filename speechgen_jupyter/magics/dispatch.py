"""The list of `%speechgen` subcommands, and sending a line to the right one.

Each subcommand is its own small module with `SUMMARY`, `parser()` and
`run(ctx, args)`, imported only when used, so `%load_ext` stays fast and a
subcommand can be read (and tested) on its own.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType
from typing import Any

from IPython.core.error import UsageError

from ._context import Context
from .parsing import HelpShown, split_capture, split_line

__all__ = ["SUBCOMMANDS", "subcommand", "run_line"]

#: Every valid `%speechgen` subcommand, in the order `help` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "models", "voices", "clone", "status", "wait", "samples", "delete", "track", "forget", "connect", "cache",
    "help",
)


def subcommand(name: str) -> ModuleType:
    """The module implementing `name`, or a UsageError that suggests the closest one."""
    if name not in SUBCOMMANDS:
        close = difflib.get_close_matches(name, SUBCOMMANDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UsageError(
            f"Unknown subcommand {name!r}.{hint} Valid: {', '.join(SUBCOMMANDS)}. "
            f"To speak text, use the cell magic %%speechgen."
        )
    return importlib.import_module(f".{name}", __package__)


def run_line(ctx: Context, line: str) -> Any:
    """`%speechgen [NAME <<] SUBCOMMAND [options][;]` (a trailing `;` hides the result, as in Python)."""
    silenced = line.rstrip().endswith(";")
    if silenced:
        line = line.rstrip()[:-1]
    capture, rest = split_capture(line)
    words = split_line(rest)
    if not words or words[0] in ("-h", "--help"):
        words = ["help"]
    name, options = words[0], words[1:]
    module = subcommand(name)
    # `connect` never interpolates: nothing from the namespace (a key in a
    # variable) should flow into it from a cell.
    if name != "connect":
        options = ctx.interpolate_words(options)
    try:
        args = module.parser().parse(options)
    except HelpShown:
        return None
    result = module.run(ctx, args)
    ctx.store(capture, result)
    return None if silenced else result
