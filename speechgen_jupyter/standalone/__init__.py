"""`speechgen-studio`: the voice studio as a web page of its own, for people who do not write code.

Voilà renders `studio.ipynb` (shipped in this package) as a page with its
widgets and without its code cells (`strip_sources`, Voilà's default, is
set explicitly). See `__main__` for how the server, the key and the page
are put together.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NOTEBOOK"]

#: The notebook the page shows: one cell, `sg.studio()`.
NOTEBOOK = Path(__file__).with_name("studio.ipynb")
