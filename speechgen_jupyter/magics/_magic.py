"""`SpeechgenMagics`: the magic functions and their settings, in one Configurable.

Subcommands get a `Context` with a snapshot of the settings (`_settings`), not
this class, so they never import it back.

Being a traitlets `Configurable` means `%config SpeechgenMagics` lists every
setting with its help, `%config SpeechgenMagics.default_voice = "en-us-female-2"`
changes one, and an `ipython_config.py` can set them for every session.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, Unicode, validate

from .._constants import (
    DEFAULT_OUTPUT_FORMAT,
    DEFAULT_WAIT_TIMEOUT,
    MAX_TEXT_CHARS,
    OUTPUT_FORMATS,
)
from ._context import Context, user_errors
from ._settings import Session, Settings

__all__ = ["SpeechgenMagics"]


@magics_class
class SpeechgenMagics(Magics):
    """Speak text and manage cloned voices from IPython. See `%speechgen help`."""

    default_voice = Unicode(
        None,
        allow_none=True,
        help="Voice for %%speechgen when --voice is not given (a voice_id, a voice's name or a model_id). "
        "None: the first built-in voice.",
    ).tag(config=True)
    default_format = Enum(
        list(OUTPUT_FORMATS), default_value=DEFAULT_OUTPUT_FORMAT, help="Audio format for %%speechgen."
    ).tag(config=True)
    autoplay = Bool(
        False, help="Play each %%speechgen clip as soon as it is shown (once; never looped)."
    ).tag(config=True)
    output_dir = Unicode(
        None, allow_none=True, help="If set, every %%speechgen clip is also saved in this folder."
    ).tag(config=True)
    wait_timeout = Float(
        DEFAULT_WAIT_TIMEOUT, help="Seconds `%speechgen wait` and `clone --wait` wait for a model to be ready."
    ).tag(config=True)
    max_chars = Int(
        MAX_TEXT_CHARS,
        help=f"Longest text sent in one request; longer cell text is split at sentences (at most {MAX_TEXT_CHARS}).",
    ).tag(config=True)
    interpolate = Bool(
        True, help="Replace {name} in cell text and options with the notebook variable `name` ({{ and }} for braces)."
    ).tag(config=True)
    progress = Bool(True, help="Show progress bars for long texts and waits.").tag(config=True)
    players = Enum(
        ["auto", "html", "text"],
        default_value="auto",
        help="Show audio players ('html'), text only ('text'), or decide from the frontend ('auto').",
    ).tag(config=True)
    cache = Bool(
        True,
        help="Answer %%speechgen from the speech cache when it was said before (no request, nothing billed); "
        "False asks the service every time (--no-cache for one cell). %speechgen cache shows and clears it.",
    ).tag(config=True)
    stream = Bool(
        True,
        help="Play a long %%speechgen text while it is spoken: the first sentence at once, the rest back to back "
        "(in a notebook; the cell then shows the player and has no value: NAME << keeps the Speech). "
        "False waits for the whole text, as one clip (--no-stream for one cell).",
    ).tag(config=True)

    @validate("max_chars")
    def _check_max_chars(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= MAX_TEXT_CHARS:
            from traitlets import TraitError

            raise TraitError(f"max_chars must be between 1 and {MAX_TEXT_CHARS}, got {value}")
        return value

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session = Session()

    @no_var_expand
    @line_cell_magic
    def speechgen(self, line: str, cell: str | None = None) -> Any:
        """Speak the cell's text, or manage voices with a subcommand.

        Cell magic (speak the text below, show a player)::

            %%speechgen [--voice V] [--format mp3|wav|ogg|flac] [--out PATH] [--autoplay] [-o NAME]
            Hello {name}! Braces: {{literal}}.

            %%speechgen clip << --voice en-us      # store the Speech in `clip`

        Line magic::

            %speechgen models | voices [--preview] | status ID | wait ID | samples ID
            %speechgen clone PATH --name N [--description D] [--enhance] [--wait]
            %speechgen delete ID [--yes] | track ID | forget ID
            %speechgen connect [--local [--page-only] | --base-url URL]   # the key: SPEECHGEN_API_KEY or a prompt
            %speechgen help [SUBCOMMAND]

        Settings: %config SpeechgenMagics
        """
        ctx = Context(Settings.of(self), self.shell, self.session)
        with user_errors():
            if cell is None:
                from .dispatch import run_line

                return run_line(ctx, line)
            from .speak import run_cell

            return run_cell(ctx, line, cell)
