"""pandas tables of voice models, voices, samples and spoken batches.

Why a DataFrame subclass: a user sorts, filters, merges and exports these
tables like any other (`df[df.status == "ready"].sort_values("name").to_csv(...)`),
and every such operation keeps the class, so the result still renders with
inline players in a notebook. The audio itself never lives in a cell:

* the `sample` column holds the sample's *text* (plain, exportable);
* the audio is fetched through the kernel's client only when the table is
  rendered as HTML, only for the rows pandas actually shows, and cached on
  the table (the browser of a remote kernel cannot reach the server, and must
  never be handed the key);
* a cell that holds a `Speech` (the results of `speak_column`) renders as its
  player; exported to CSV it is its one-line description, never its bytes.

In a terminal (text/plain) the tables print as ordinary DataFrames.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
import threading
from collections.abc import Callable, Hashable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import SpeechgenError
from .types import Sample, Speech, Voice, VoiceModel

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = [
    "SpeechgenFrame",
    "AudioColumn",
    "MODEL_COLUMNS",
    "VOICE_COLUMNS",
    "SAMPLE_COLUMNS",
    "models_table",
    "voices_table",
    "samples_table",
    "PREVIEW_TEXT",
]

MODEL_COLUMNS = ("model_id", "name", "status", "voice_id", "created_at", "usage_count", "description", "sample", "error")
VOICE_COLUMNS = ("voice_id", "name", "kind", "language", "sample")
SAMPLE_COLUMNS = ("model_id", "title", "sample", "audio_url")
#: What a built-in voice says when a voices table is asked for previews.
PREVIEW_TEXT = "Hello! This is how I sound."


class AudioColumn:
    """Where the audio behind a table's `audio_column` comes from.

    `fetch(key)` returns the clip for the row whose `key_column` holds `key`
    (or None when there is none). Results, failures included, are cached, so
    re-displaying a table costs nothing. Not pickled: the client is not.
    """

    def __init__(self, key_column: str, audio_column: str, fetch: Callable[[Hashable], Speech | None]) -> None:
        self.key_column = key_column
        self.audio_column = audio_column
        self._fetch = fetch
        self._cache: dict[Hashable, Speech | SpeechgenError | None] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Speech | SpeechgenError | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        try:
            value: Speech | SpeechgenError | None = self._fetch(key)
        except SpeechgenError as err:  # shown in the cell; a table must still render
            value = err
        with self._lock:
            self._cache[key] = value
        return value

    def __getstate__(self) -> dict[str, Any]:
        return {"key_column": self.key_column, "audio_column": self.audio_column}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["key_column"], state["audio_column"], lambda key: None)  # type: ignore[misc]


def _chain(sources: list[AudioColumn]) -> AudioColumn:
    """One source for a table concatenated from several: each key is asked of each in turn."""

    def fetch(key: Hashable) -> Speech | None:
        for source in sources:
            found = source.get(key)
            if isinstance(found, SpeechgenError):
                raise found
            if found is not None:
                return found
        return None

    return AudioColumn(sources[0].key_column, sources[0].audio_column, fetch)


class SpeechgenFrame(pd.DataFrame):
    """A DataFrame that shows inline players for its audio when displayed as HTML.

    To code it is a DataFrame: every pandas operation works and returns this
    class again. Use `pd.DataFrame(frame)` for a plain one.
    """

    _metadata = ["_sg_audio"]
    _sg_audio: AudioColumn | None = None

    @property
    def _constructor(self) -> Callable[..., SpeechgenFrame]:
        return SpeechgenFrame

    def __finalize__(self, other: Any, method: str | None = None, **kwargs: Any) -> SpeechgenFrame:  # type: ignore[override]
        """Keep the audio source through `pd.concat` too (pandas only copies it from one frame)."""
        result = super().__finalize__(other, method=method, **kwargs)
        inputs = getattr(other, "input_objs", None)
        if inputs is not None and result._sg_audio is None:
            sources = [o._sg_audio for o in inputs if getattr(o, "_sg_audio", None) is not None]
            unique = list({id(s): s for s in sources}.values())
            if len(unique) == 1:
                object.__setattr__(result, "_sg_audio", unique[0])
            elif unique and len({(s.key_column, s.audio_column) for s in unique}) == 1:
                object.__setattr__(result, "_sg_audio", _chain(unique))
        return result

    def _repr_html_(self) -> str | None:
        try:
            return _render_html(self)
        except Exception:  # noqa: BLE001 - a display must never break a cell; fall back to pandas
            return pd.DataFrame(self)._repr_html_()


# --------------------------------------------------------------------------- rendering


def _shown_positions(n: int) -> list[int]:
    """Row positions pandas may show (a superset), so audio is fetched for those only."""
    max_rows = pd.get_option("display.max_rows")
    if not max_rows or n <= max_rows:
        return list(range(n))
    keep = max(max_rows, pd.get_option("display.min_rows") or 0)
    return sorted(set(range(min(keep, n))) | set(range(max(0, n - keep), n)))


def _render_html(frame: SpeechgenFrame) -> str | None:
    plain = pd.DataFrame(frame).copy(deep=False)
    positions = _shown_positions(len(plain))
    nonce = secrets.token_hex(3)
    cells: dict[str, Callable[[], str]] = {}
    source = frame._sg_audio
    columns = list(plain.columns)

    for j, column in enumerate(columns):
        if not isinstance(column, str):
            continue
        values = plain.iloc[:, j]
        is_source = source is not None and column == source.audio_column and source.key_column in columns
        if not is_source and values.dtype != object:
            continue
        keys = plain[source.key_column] if is_source and source is not None else None
        replaced = values.astype(object).to_numpy(copy=True)
        touched = False
        for pos in positions:
            value = replaced[pos]
            token = f"sg{nonce}x{j}x{pos}x"
            if isinstance(value, Speech):
                cells[token] = partial(Speech._repr_html_, value)
            elif keys is not None and source is not None:
                key = keys.iloc[pos]
                if not _is_key(key):
                    continue
                cells[token] = partial(_source_cell, source, key, value)
            else:
                continue
            replaced[pos] = token
            touched = True
        if touched:
            plain.isetitem(j, replaced)

    rendered = plain._repr_html_()
    if rendered is None or not cells:
        return rendered
    return re.sub(rf"sg{nonce}x\d+x\d+x", lambda m: cells[m.group()]() if m.group() in cells else m.group(), rendered)


def _is_key(key: Any) -> bool:
    if key is None:
        return False
    try:
        return not bool(pd.isna(key))
    except (TypeError, ValueError):
        return True


def _source_cell(source: AudioColumn, key: Hashable, text: Any) -> str:
    caption = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    audio = source.get(key)
    if isinstance(audio, Speech):
        return player_html(audio, caption)
    if isinstance(audio, SpeechgenError):
        note = f"(audio unavailable: {audio})"
        return f"{html.escape(caption)}<div style=\"font-size:smaller;opacity:.75\">{html.escape(note)}</div>"
    return html.escape(caption)


def player_html(speech: Speech, caption: str = "") -> str:
    """A compact player for a table cell: no autoplay, no loop, bytes embedded."""
    encoded = base64.b64encode(speech.data).decode("ascii")
    duration = speech.duration
    parts = [p for p in (caption, f"{duration:.1f} s" if duration is not None else "") if p]
    return (
        f'<audio controls preload="metadata" style="height:2em;max-width:16em" '
        f'src="data:{speech.media_type};base64,{encoded}"></audio>'
        f'<div style="font-size:smaller">{html.escape(" · ".join(parts))}</div>'
    )


# --------------------------------------------------------------------------- builders


def _shared_client(client: Client | None) -> Client:
    if client is not None:
        return client
    from ._shared import get_client

    return get_client()


def _model_row(model: VoiceModel) -> dict[str, Any]:
    sample = model.samples[0] if model.samples else None
    return {
        "model_id": model.model_id,
        "name": model.name,
        "status": model.status,
        "voice_id": model.voice_id,
        "created_at": model.created_at,
        "usage_count": model.usage_count,
        "description": model.description,
        "sample": sample.text if sample else None,
        "error": model.error.message if model.error else None,
    }


def _frame(rows: list[dict[str, Any]], columns: Iterable[str], audio: AudioColumn | None) -> SpeechgenFrame:
    frame = SpeechgenFrame(pd.DataFrame(rows, columns=list(columns)))
    if "created_at" in frame.columns:
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    if "usage_count" in frame.columns:
        frame["usage_count"] = frame["usage_count"].astype("Int64")
    frame._sg_audio = audio
    return frame


_SampleMap = dict[Hashable, tuple[Sample, VoiceModel | None]]


def _sample_fetcher(client: Client, by_key: _SampleMap) -> Callable[[Hashable], Speech | None]:
    def fetch(key: Hashable) -> Speech | None:
        found = by_key.get(key)
        if found is None or not found[0].audio_url:
            return None
        return client.sample_audio(found[0], found[1])

    return fetch


def models_table(client: Client | None = None, models: Iterable[VoiceModel] | None = None) -> SpeechgenFrame:
    """Every voice model as a table: one row per model, its first sample playable inline.

    Columns: model_id, name, status, voice_id, created_at (UTC), usage_count,
    description, sample (the sample's text), error (why a failed model failed).
    """
    client = _shared_client(client)
    models = list(client.iter_models() if models is None else models)
    by_id: dict[Hashable, tuple[Sample, VoiceModel | None]] = {m.model_id: (m.samples[0], m) for m in models if m.samples}
    audio = AudioColumn("model_id", "sample", _sample_fetcher(client, by_id))
    return _frame([_model_row(m) for m in models], MODEL_COLUMNS, audio)


def voices_table(client: Client | None = None, *, preview: bool = False, voices: Iterable[Voice] | None = None) -> SpeechgenFrame:
    """The voices text-to-speech takes: your ready clones, and built-in ones where the server lists them.

    A cloned voice plays its model's sample. A built-in voice has no sample in
    the API, so it plays nothing unless `preview=True`, which speaks
    `PREVIEW_TEXT` with it when the table is shown (one short request per
    shown voice, cached; off by default because a real service may bill it).
    """
    client = _shared_client(client)
    models: list[VoiceModel] | None = None
    if voices is None:
        # The models first: where the server has no voice listing, the voices are theirs (no second round of GETs).
        models = list(client.iter_models())
        voices = client.list_voices(models=models)
    voices = list(voices)
    samples: dict[Hashable, tuple[Sample, VoiceModel | None]] = {}
    if any(v.kind != "builtin" for v in voices):
        try:
            for model in client.iter_models() if models is None else models:
                if model.voice_id and model.samples:
                    samples[model.voice_id] = (model.samples[0], model)
        except SpeechgenError:
            pass  # the voices still list; only their players are missing
    fetch_sample = _sample_fetcher(client, samples)

    def fetch(voice_id: Hashable) -> Speech | None:
        if voice_id in samples:
            return fetch_sample(voice_id)
        if preview:
            return client.text_to_speech(PREVIEW_TEXT, str(voice_id))
        return None

    rows = []
    for v in voices:
        text = samples[v.voice_id][0].text if v.voice_id in samples else (PREVIEW_TEXT if preview else None)
        rows.append({"voice_id": v.voice_id, "name": v.name, "kind": v.kind, "language": v.language, "sample": text})
    return _frame(rows, VOICE_COLUMNS, AudioColumn("voice_id", "sample", fetch))


def samples_table(model: VoiceModel, client: Client | None = None) -> SpeechgenFrame:
    """A model's demonstration samples: title, the text spoken, and a player."""
    client = _shared_client(client)
    by_url: dict[Hashable, tuple[Sample, VoiceModel | None]] = {s.audio_url: (s, model) for s in model.samples if s.audio_url}
    rows = [
        {"model_id": model.model_id, "title": s.title, "sample": s.text, "audio_url": s.audio_url} for s in model.samples
    ]
    return _frame(rows, SAMPLE_COLUMNS, AudioColumn("audio_url", "sample", _sample_fetcher(client, by_url)))
