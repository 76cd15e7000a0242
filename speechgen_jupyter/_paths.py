"""Where the package keeps what it remembers between kernels: the user's data and cache folders.

Two rooms, because they mean different things to the user and the OS:

* the **data** folder holds what cannot be made again (the record of the voice
  models made through this client): a "clear the caches" tool must not take it;
* the **cache** folder holds what can (speech already paid for): it may be
  deleted at any time, and is bounded.

platformdirs picks the right place per OS (XDG on Linux, ~/Library on macOS,
%LOCALAPPDATA% on Windows). `SPEECHGEN_DATA_DIR` / `SPEECHGEN_CACHE_DIR`
override it, for tests, CI and read-only homes. They are read at each use, not
at import, so a changed environment takes effect for clients already built.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _constants as C

__all__ = ["user_data_dir", "user_cache_dir"]

_APP = "speechgen_jupyter"


def user_data_dir() -> Path:
    """The folder for records that cannot be rebuilt (not created here)."""
    override = os.environ.get(C.DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path(_APP, appauthor=False)


def user_cache_dir() -> Path:
    """The folder for what can be fetched again, such as spoken audio (not created here)."""
    override = os.environ.get(C.CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path(_APP, appauthor=False)
