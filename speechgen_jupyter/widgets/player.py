"""An audio player widget for speech results and model samples.

Why a custom (anywidget) player instead of `ipywidgets.Audio`: that one
autoplays and loops by default, which is wrong for generated speech, and it
has no download. This one is a plain `<audio controls>` that never loops,
with a download link, and plays by itself only when asked (`autoplay=True`),
once, while the clip is fresh: a reopened notebook with saved widget state
does not start talking.

The audio travels as the widget's binary state (bytes the kernel fetched), and
the browser plays it from a blob: URL. The browser never gets a URL that needs
the API key, and the key is nowhere in the widget.
"""

from __future__ import annotations

import time
import uuid

import anywidget
import traitlets

from ..types import Speech

__all__ = ["AudioPlayer"]

_ESM = r"""
function render({ model, el }) {
  el.classList.add("sg-player-view");
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.loop = false;
  audio.preload = "auto";
  const row = document.createElement("div");
  row.className = "sg-player-row";
  const link = document.createElement("a");
  link.className = "sg-player-download";
  link.textContent = "Download";
  const caption = document.createElement("div");
  caption.className = "sg-player-caption";
  row.append(audio, link);
  el.append(row, caption);
  let url = null;
  const played = (window.__speechgenPlayed = window.__speechgenPlayed || {});

  function update() {
    const data = model.get("audio");
    if (url) { URL.revokeObjectURL(url); url = null; }
    const clip = model.get("clip_id");
    caption.textContent = model.get("caption");
    if (!data || data.byteLength === 0 || !clip) {
      audio.removeAttribute("src");
      delete audio.dataset.clip;
      audio.load();
      row.style.display = "none";
      el.dataset.empty = "true";
      return;
    }
    el.dataset.empty = "false";
    row.style.display = "";
    url = URL.createObjectURL(new Blob([data], { type: model.get("media_type") }));
    audio.loop = false;
    audio.src = url;
    audio.dataset.clip = clip;
    link.href = url;
    link.download = model.get("filename");
    const fresh = Math.abs(Date.now() - model.get("made_ms")) < 120000;
    if (model.get("autoplay") && fresh && !played[clip]) {
      played[clip] = true;
      const p = audio.play();
      if (p && p.catch) p.catch(() => {});
    }
  }
  model.on("change:clip_id", update);
  model.on("change:caption", () => { caption.textContent = model.get("caption"); });
  update();
  return () => {
    model.off("change:clip_id", update);
    if (url) URL.revokeObjectURL(url);
  };
}
export default { render };
"""

_CSS = """
.sg-player-view { margin: 4px 0; }
.sg-player-row { display: flex; align-items: center; gap: 10px; }
.sg-player-row audio { height: 36px; max-width: 100%; }
.sg-player-caption { font-size: smaller; opacity: .75; }
"""


class AudioPlayer(anywidget.AnyWidget):
    """Plays a `Speech` (or nothing yet): controls, no loop, a download link, autoplay only if asked."""

    _esm = _ESM
    _css = _CSS

    audio = traitlets.Bytes(b"").tag(sync=True)
    media_type = traitlets.Unicode("audio/mpeg").tag(sync=True)
    filename = traitlets.Unicode("speech.mp3").tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    autoplay = traitlets.Bool(False).tag(sync=True)
    #: A new id for every clip, so the browser can tell a new clip from a re-render.
    clip_id = traitlets.Unicode("").tag(sync=True)
    #: When this clip was set (ms since the epoch): autoplay only while it is fresh.
    made_ms = traitlets.Int(0).tag(sync=True)

    def __init__(self, speech: Speech | None = None, *, autoplay: bool = False, caption: str | None = None, **kwargs: object) -> None:
        super().__init__(autoplay=autoplay, **kwargs)
        self.speech: Speech | None = None
        self.add_class("sg-player")
        if speech is not None:
            self.show(speech, caption=caption)

    def show(self, speech: Speech, *, caption: str | None = None, filename: str | None = None) -> None:
        """Play `speech` in this player (replacing what it held)."""
        if not isinstance(speech, Speech):
            raise TypeError(f"AudioPlayer plays a Speech, not {type(speech).__name__}")
        self.speech = speech
        with self.hold_sync():
            self.audio = speech.data
            self.media_type = speech.media_type
            self.filename = filename or f"speech.{speech.format}"
            self.caption = caption if caption is not None else speech._caption()
            self.made_ms = int(time.time() * 1000)
            self.clip_id = uuid.uuid4().hex

    def clear(self) -> None:
        """Hold nothing (the player hides itself)."""
        self.speech = None
        with self.hold_sync():
            self.audio = b""
            self.caption = ""
            self.clip_id = ""

    def __repr__(self) -> str:
        return f"<AudioPlayer {self.speech._caption() if self.speech else 'empty'}>"
