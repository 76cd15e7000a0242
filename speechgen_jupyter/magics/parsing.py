"""Turning a magic's line into arguments, apart from what the magic then does.

Users of other magics complain most about hand-rolled parsing that breaks on
quotes, so: the line is split with `shlex` (quotes, escaped spaces, any
amount of whitespace) and read by `argparse`, whose errors become short
`UsageError`s instead of exiting the kernel. `{var}` interpolation works on
the already-split words, so a value with spaces never needs re-quoting.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import string
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from IPython.core.error import UsageError

__all__ = [
    "MagicArgumentParser",
    "HelpShown",
    "split_line",
    "split_capture",
    "interpolate",
    "interpolate_words",
]

# `NAME << rest`: store the result in NAME (as jupysql does). Only a Python
# identifier counts, so `--description "a << b"` is never mistaken for it.
_CAPTURE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*<<(?!<)\s*(.*)$", re.DOTALL)


class HelpShown(Exception):
    """`-h/--help` was given: the help is printed and the magic does nothing else."""


class MagicArgumentParser(argparse.ArgumentParser):
    """argparse that raises `UsageError` (short, no traceback) instead of exiting."""

    def __init__(self, prog: str, description: str | None = None, epilog: str | None = None) -> None:
        super().__init__(
            prog=prog,
            description=description,
            epilog=epilog,
            add_help=True,
            allow_abbrev=False,  # `--d` must not silently mean `--description`
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}\n(see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(f"{self.prog}: {(message or '').strip()}")
        raise HelpShown()

    def parse(self, words: Sequence[str]) -> argparse.Namespace:
        return self.parse_args(list(words))


def split_line(line: str) -> list[str]:
    """Split a magic's line like a POSIX shell does (quotes group, backslash escapes).

    On Windows a backslash is a path separator, not an escape, so it is kept.
    """
    try:
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            return [_unquote(w) for w in shlex.split(line, posix=False)]
        return shlex.split(line, posix=True)
    except ValueError as err:
        raise UsageError(f"Could not read the options: {err} (a quote is not closed?)") from None


def _unquote(word: str) -> str:  # pragma: no cover - Windows only
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def split_capture(line: str) -> tuple[str | None, str]:
    """`'clip << --voice x'` -> `('clip', '--voice x')`; no capture -> `(None, line)`."""
    match = _CAPTURE.match(line)
    if match is None:
        return None, line
    return match.group(1), match.group(2)


class _Formatter(string.Formatter):
    """`str.format` over the user's namespace, with errors a notebook user can act on."""

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int) or key == "":
            raise UsageError(
                "The text has '{}' with no variable name in it. Write {{ and }} for literal braces, "
                "or {name} to insert the variable `name`."
            )
        try:
            return kwargs[key]
        except KeyError:
            raise UsageError(
                f"The text uses {{{key}}}, but there is no variable named {key!r} in the notebook. "
                f"Define it first, or write {{{{{key}}}}} for literal braces."
            ) from None


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace `{name}` (also `{name.attr}`, `{name[0]}`, `{name:.2f}`) with values from `namespace`.

    `{{` and `}}` give a literal `{` and `}`.
    """
    if "{" not in text and "}" not in text:
        return text
    try:
        return _Formatter().vformat(text, (), namespace)
    except UsageError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        detail = str(err).strip("'\"") or type(err).__name__
        if "Single" in detail or "expected '}'" in detail or "unmatched" in detail.lower():
            raise UsageError(
                f"The text has an unmatched brace ({detail}). Write {{{{ and }}}} for literal braces, "
                "and {name} to insert a variable."
            ) from None
        raise UsageError(f"Could not insert a {{...}} value into the text: {type(err).__name__}: {detail}.") from None


def interpolate_words(words: Sequence[str], namespace: Mapping[str, Any]) -> list[str]:
    return [interpolate(w, namespace) for w in words]
