"""IPython magics: `%%speechgen` speaks a cell, `%speechgen ...` manages voices.

    %load_ext speechgen_jupyter
    %speechgen help

Loading is cheap: the client, pandas and tqdm are imported by the first
command that needs them.
"""

from __future__ import annotations

from typing import Any

from ._magic import SpeechgenMagics

__all__ = ["SpeechgenMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (again, cleanly, on `%reload_ext`)."""
    unload_ipython_extension(ipython)
    ipython.register_magics(SpeechgenMagics(shell=ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Forget any earlier instance, so `%config` lists one `SpeechgenMagics`."""
    ipython.configurables[:] = [c for c in ipython.configurables if not isinstance(c, SpeechgenMagics)]
    for kind in ("line", "cell"):
        table = ipython.magics_manager.magics.get(kind, {})
        fn = table.get("speechgen")
        if fn is not None and isinstance(getattr(fn, "__self__", None), SpeechgenMagics):
            del table["speechgen"]
