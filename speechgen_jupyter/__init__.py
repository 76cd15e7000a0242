"""speechgen_jupyter: clone a voice and speak with it without leaving the notebook.

    import speechgen_jupyter as sg
    client = sg.get_client()          # a key from SPEECHGEN_API_KEY, or the offline local server
    model = client.wait_for_model(client.clone_voice("me.mp3", name="Me"))
    speech = client.text_to_speech("Hello!", model.voice_id)
    speech                            # plays inline

    %load_ext speechgen_jupyter       # then %%speechgen and %speechgen ...

Importing this package is cheap on purpose: the public names below resolve on
first use (PEP 562), so httpx, pandas and ipywidgets load only when needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import __all__ as _ERROR_NAMES  # standard library only: cheap

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._extras import ServerExtras  # noqa: F401
    from ._record import ModelRecord  # noqa: F401
    from ._shared import connect, connect_local, get_client, local_server, set_client, stop_local  # noqa: F401
    from .audio import AudioInfo, inspect_audio  # noqa: F401
    from .batch import BatchItem, speak_column, speak_texts  # noqa: F401
    from .client import AsyncClient, Client  # noqa: F401
    from .errors import *  # noqa: F403
    from .cache import SpeechCache  # noqa: F401
    from .longtext import speak_long, split_text  # noqa: F401
    from .streaming import AsyncSpeechStream, SpeechPart, SpeechStream  # noqa: F401
    from .samples import PreparedSample, SampleReport, check_sample, prepare_sample  # noqa: F401
    from .tables import SpeechgenFrame, models_table, samples_table, voices_table  # noqa: F401
    from .types import ModelStatus, Sample, Speech, Voice, VoiceModel, WaitProgress  # noqa: F401
    from .widgets.studio import studio  # noqa: F401

_LAZY: dict[str, str] = {
    "Client": ".client",
    "AsyncClient": ".client",
    "get_client": "._shared",
    "set_client": "._shared",
    "connect": "._shared",
    "connect_local": "._shared",
    "local_server": "._shared",
    "stop_local": "._shared",
    "ServerExtras": "._extras",
    "ModelRecord": "._record",
    "VoiceModel": ".types",
    "Voice": ".types",
    "Sample": ".types",
    "Speech": ".types",
    "ModelStatus": ".types",
    "WaitProgress": ".types",
    "AudioInfo": ".audio",
    "inspect_audio": ".audio",
    # The sample report (issue 13): the hard limits still raise as before;
    # `speechgen_jupyter.audio.check_sample` still returns the headers' AudioInfo.
    "check_sample": ".samples",
    "prepare_sample": ".samples",
    "SampleReport": ".samples",
    "PreparedSample": ".samples",
    "speak_column": ".batch",
    "speak_texts": ".batch",
    "BatchItem": ".batch",
    "models_table": ".tables",
    "voices_table": ".tables",
    "samples_table": ".tables",
    "SpeechgenFrame": ".tables",
    "SpeechCache": ".cache",
    "SpeechStream": ".streaming",
    "AsyncSpeechStream": ".streaming",
    "SpeechPart": ".streaming",
    "split_text": ".longtext",
    "speak_long": ".longtext",
    "studio": ".widgets.studio",
}
_LAZY.update({name: ".errors" for name in _ERROR_NAMES})

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'speechgen_jupyter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext speechgen_jupyter`: register the %speechgen and %%speechgen magics."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext speechgen_jupyter`."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)
