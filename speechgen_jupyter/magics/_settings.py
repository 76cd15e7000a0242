"""The settings subcommands read, and what a session remembers, apart from the magics class.

Subcommands used to read `ctx.magics.default_voice` straight off the
`SpeechgenMagics` object, so every subcommand depended on the class that
dispatches to it: an import circle (`_magic` -> `dispatch` -> `_context` ->
`_magic`), hidden only by lazy and `TYPE_CHECKING` imports. `SpeechgenMagics`
now hands each call a frozen snapshot of its settings and its `Session`; a
subcommand can read both and be tested without the class or a shell.

A new `%config SpeechgenMagics` setting goes in `Settings` too, with the same
name (tests/test_magics_parsing.py checks the two lists match).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .._constants import DEFAULT_OUTPUT_FORMAT, DEFAULT_WAIT_TIMEOUT, MAX_TEXT_CHARS

__all__ = ["Session", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The `%config SpeechgenMagics` values one call runs with (see `SpeechgenMagics` for their help)."""

    default_voice: str | None = None
    default_format: str = DEFAULT_OUTPUT_FORMAT
    autoplay: bool = False
    output_dir: str | None = None
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    max_chars: int = MAX_TEXT_CHARS
    interpolate: bool = True
    progress: bool = True
    players: str = "auto"
    cache: bool = True
    stream: bool = True

    @classmethod
    def of(cls, source: Any) -> Settings:
        """Read each setting from an object with attributes of the same names (the magics)."""
        return cls(**{f.name: getattr(source, f.name) for f in fields(cls)})


@dataclass
class Session:
    """What one loaded extension remembers between calls (reset by `%reload_ext`)."""

    #: The "(speaking with 'x'; choose with --voice ...)" note is shown once per session.
    voice_note_shown: bool = False
    #: The extras a "(this server has no ... listing)" note has already told of, once per session.
    extras_told: tuple[str, ...] = ()
