"""What every subcommand gets: the settings, the shell, the client, and output helpers.

One place decides whether this frontend can show players (a notebook) or only
text (a terminal IPython), so subcommands never ask themselves. It holds the
settings and session state, not the `SpeechgenMagics` object, so nothing a
subcommand imports leads back to the class that dispatches to it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ._settings import Session, Settings

if TYPE_CHECKING:  # pragma: no cover
    from ..client import Client

__all__ = ["Context", "user_errors"]


@dataclass
class Context:
    settings: Settings
    shell: Any = None
    session: Session = field(default_factory=Session)

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    @property
    def client(self) -> Client:
        from .._shared import get_client

        return get_client()

    @property
    def rich(self) -> bool:
        """Can this frontend show HTML (players, styled tables)?

        A terminal IPython sets the display formatter to text/plain only; a
        kernel (JupyterLab, Notebook 7, VS Code, Colab) keeps text/html.
        `%config SpeechgenMagics.players = "text"` forces text.
        """
        choice = self.settings.players
        if choice != "auto":
            return choice == "html"
        formatter = getattr(self.shell, "display_formatter", None)
        return formatter is not None and "text/html" in formatter.active_types

    @property
    def live_widgets(self) -> bool:
        """Can this frontend show widgets that change while a cell runs (a kernel with a notebook attached)?

        A terminal IPython, or a shell with no kernel (tests, scripts), shows
        outputs only: it gets results, never a live player.
        """
        return self.rich and getattr(self.shell, "kernel", None) is not None

    def say(self, message: str) -> None:
        """A short line for the user (never a secret)."""
        print(message)

    def display(self, obj: Any) -> None:
        from IPython.display import display

        display(obj)

    def store(self, name: str | None, value: Any) -> None:
        """Put a result in the user's namespace (`-o NAME` or `NAME <<`)."""
        if name:
            self.user_ns[name] = value

    def interpolate(self, text: str) -> str:
        if not self.settings.interpolate:
            return text
        from .parsing import interpolate

        return interpolate(text, self.user_ns)

    def interpolate_words(self, words: list[str]) -> list[str]:
        return [self.interpolate(w) for w in words]


@contextmanager
def user_errors() -> Any:
    """Show mistakes a user can fix as one short line; let real bugs keep their traceback.

    `SpeechgenError.user_facing` marks errors meant for users (no key, unknown
    model, a sample that breaks a requirement, the server refusing...). A
    `UsageError` is shown by IPython without a traceback.
    """
    from ..errors import SpeechgenError

    try:
        yield
    except SpeechgenError as err:
        if not getattr(err, "user_facing", True):
            raise
        raise UsageError(_one_line(err)) from None


def _one_line(err: BaseException) -> str:
    name = type(err).__name__
    text = str(err).strip() or name
    return text if name in ("UsageError",) else f"{text} [{name}]"
