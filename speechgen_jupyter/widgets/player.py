"""An audio player widget for speech results and model samples, that can also play a text as it is spoken.

Why a custom (anywidget) player instead of `ipywidgets.Audio`: that one
autoplays and loops by default, which is wrong for generated speech, and it
has no download. This one is a plain `<audio controls>` that never loops,
with a download link, and plays by itself only when asked (`autoplay=True`),
once, while the clip is fresh: a reopened notebook with saved widget state
does not start talking.

The audio travels as the widget's binary state (bytes the kernel fetched), and
the browser plays it from a blob: URL. The browser never gets a URL that needs
the API key, and the key is nowhere in the widget.

**Streamed playback** (`play_stream`, `speak`): the parts of a long text
(`Client.stream_speech`) are sent to the browser as they arrive, and the
page plays the first at once and the next ones back to back: each part is
decoded with Web Audio (`decodeAudioData`) and scheduled to start exactly
when the one before ends (`AudioBufferSourceNode.start(when)` on one
`AudioContext` clock), so there is no gap and no overlap at the joins, and
no `<audio>` element per sentence. When the last part is in, the player
holds the joined clip, as for any speech (replay, download). The scheduled
start times are kept in `window.__speechgenStreams[stream_id]`, where the
browser tests and the benchmark measure the gaps.

How parts travel, and why so: each part is a tiny child widget whose one
trait is the part's bytes, listed in the player's `parts`. State, unlike a
custom message, is never lost when it arrives before the page's code is
listening (a cached part arrives within a millisecond of the player), and
each part's bytes cross once. The page copies a part's bytes, empties the
part's audio in its own copy of the state (so a saved notebook holds only the
joined clip, as it did before streaming) and says "got it"; the kernel then
closes the part. A running cell's messages to the page go out at once
(IOPub), while the page's messages to the kernel wait for the cell to end:
so during `%%speechgen` the cell's interrupt is the way to stop, and the
player's Stop silences the page at once; in the studio (a background
thread) Stop also stops the requests at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets as widgets
import traitlets

from ..types import Speech

if TYPE_CHECKING:  # pragma: no cover
    from ..streaming import SpeechStream

__all__ = ["AudioPlayer"]

#: Seconds after a stream ends before the parts the page has not acknowledged are closed anyway: a page
#: that is there has them by then; with none (a notebook run headless), they must not stay in the state.
PART_GRACE_SECONDS = 5.0

_ESM = r"""
const LEAD = 0.05;  // seconds between "now" and the first part's start: time for the browser to start it
const streams = (window.__speechgenStreams = window.__speechgenStreams || {});

function audioContext() {
  if (!window.__speechgenAudio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    window.__speechgenAudio = new Context();
  }
  return window.__speechgenAudio;
}

function epochMs() { return performance.timeOrigin + performance.now(); }

// One streamed text in this page: its decoded parts, played back to back on the AudioContext clock.
class Stream {
  constructor(id, total) {
    this.id = id; this.total = total; this.next = 0; this.ready = new Map(); this.decoding = [];
    this.endAt = 0; this.sources = []; this.starts = []; this.startsEpochMs = []; this.durations = [];
    this.receivedEpochMs = []; this.stopped = false; this.errors = []; this.listeners = new Set();
    streams[id] = this;
  }
  get playing() { return !this.stopped && this.starts.length > 0 && audioContext().currentTime < this.endAt; }
  notify() { for (const f of this.listeners) f(); }
  add(index, bytes) {
    this.receivedEpochMs[index] = epochMs();
    const ctx = audioContext();
    this.decoding[index] = ctx.decodeAudioData(bytes).then(
      (buffer) => { this.ready.set(index, buffer); this.schedule(); },
      (err) => { this.errors.push(String(err)); this.notify(); },
    );
  }
  schedule() {
    const ctx = audioContext();
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    while (!this.stopped && this.ready.has(this.next)) {
      if (this.next === 0) {  // one voice at a time: a new text silences the one before
        for (const other of Object.values(streams)) if (other !== this) other.stop();
      }
      const buffer = this.ready.get(this.next);
      this.ready.delete(this.next);
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      const when = Math.max(ctx.currentTime + LEAD, this.endAt);  // exactly when the previous part ends
      source.start(when);
      this.sources.push(source);
      this.starts.push(when);
      this.startsEpochMs.push(epochMs() + (when - ctx.currentTime) * 1000);
      this.durations.push(buffer.duration);
      this.endAt = when + buffer.duration;
      this.next += 1;
    }
    this.notify();
  }
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.sources) { try { s.stop(); } catch (e) {} }
    this.notify();
  }
}

function streamOf(model) {
  const id = model.get("stream_id");
  if (!id) return null;
  return streams[id] || new Stream(id, model.get("parts_total"));
}

// Model-level (once per player, whatever the number of views): receive the parts and play them.
function initialize({ model }) {
  const seen = new Set();
  function receive() {
    const stream = streamOf(model);
    const refs = model.get("parts") || [];  // read now: a later update must not hide these
    for (const ref of refs) {
      if (seen.has(ref)) continue;
      seen.add(ref);
      const id = String(ref).replace(/^IPY_MODEL_/, "");
      model.widget_manager.get_model(id).then((part) => {
        const view = part.get("audio");
        const index = part.get("index");
        const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
        part.set("audio", new DataView(new ArrayBuffer(0)));  // this page's copy only: never saved with the notebook
        if (stream && !stream.stopped) stream.add(index, bytes);
        model.send({ event: "part", stream: stream ? stream.id : "", index });
      }, (err) => { if (stream) { stream.errors.push(String(err)); stream.notify(); } });
    }
  }
  model.on("change:parts", receive);
  receive();
}

function render({ model, el }) {
  el.classList.add("sg-player-view");
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.loop = false;
  audio.preload = "auto";
  const row = document.createElement("div");
  row.className = "sg-player-row";
  const stop = document.createElement("button");
  stop.className = "sg-player-stop";
  stop.textContent = "\u25A0 Stop";
  stop.title = "Stop speaking (and send no further requests)";
  const wake = document.createElement("button");
  wake.className = "sg-player-wake";
  wake.textContent = "\u25B6 Play";
  wake.title = "This browser waits for a click before it plays sound";
  const link = document.createElement("a");
  link.className = "sg-player-download";
  link.textContent = "Download";
  const caption = document.createElement("div");
  caption.className = "sg-player-caption";
  row.append(stop, wake, audio, link);
  el.append(row, caption);
  let url = null;
  let watched = null;
  const played = (window.__speechgenPlayed = window.__speechgenPlayed || {});

  function streamState() {
    const state = model.get("stream_state");
    const stream = model.get("stream_id") ? streams[model.get("stream_id")] : null;
    el.dataset.streamState = state || "";
    el.dataset.streamId = model.get("stream_id") || "";
    const live = state === "streaming" || (stream && stream.playing);
    stop.style.display = live ? "" : "none";
    wake.style.display = live && audioContext().state === "suspended" ? "" : "none";
    if (stream && stream !== watched) {
      if (watched) watched.listeners.delete(streamState);
      watched = stream;
      stream.listeners.add(streamState);
    }
    if (stream && stream.playing) {  // look again when it ends
      setTimeout(streamState, Math.max(50, (stream.endAt - audioContext().currentTime) * 1000 + 50));
    }
  }
  stop.addEventListener("click", () => {
    const id = model.get("stream_id");
    if (streams[id]) streams[id].stop();  // silent at once
    model.send({ event: "stop", stream: id });  // and no further requests
    streamState();
    // A kernel busy with a running cell reads the message only when the cell ends: say how to stop it now.
    setTimeout(() => {
      if (model.get("stream_id") === id && model.get("stream_state") === "streaming") {
        caption.textContent = "Silenced. The cell is still fetching the rest: interrupt the kernel (\u25A0 in the toolbar) to stop it.";
      }
    }, 1000);
  });
  wake.addEventListener("click", () => { audioContext().resume().then(streamState); });
  audio.addEventListener("play", () => {  // the joined clip replaces what is still being streamed
    const stream = streams[model.get("stream_id")];
    if (stream) stream.stop();
  });

  function update() {
    const data = model.get("audio");
    if (url) { URL.revokeObjectURL(url); url = null; }
    const clip = model.get("clip_id");
    caption.textContent = model.get("caption");
    streamState();
    if (!data || data.byteLength === 0 || !clip) {
      audio.removeAttribute("src");
      delete audio.dataset.clip;
      audio.load();
      audio.style.display = "none";
      link.style.display = "none";
      el.dataset.empty = model.get("stream_state") === "streaming" ? "false" : "true";
      row.style.display = model.get("stream_state") === "streaming" ? "" : "none";
      return;
    }
    el.dataset.empty = "false";
    row.style.display = "";
    audio.style.display = "";
    link.style.display = "";
    url = URL.createObjectURL(new Blob([data], { type: model.get("media_type") }));
    audio.loop = false;
    audio.src = url;
    audio.dataset.clip = clip;
    link.href = url;
    link.download = model.get("filename");
    const fresh = Math.abs(Date.now() - model.get("made_ms")) < 120000;
    const streamed = model.get("stream_id") && model.get("stream_state") === "done";  // already heard through Web Audio
    if (model.get("autoplay") && fresh && !played[clip] && !streamed) {
      played[clip] = true;
      const p = audio.play();
      if (p && p.catch) p.catch(() => {});
    }
  }
  model.on("change:clip_id", update);
  model.on("change:stream_state", update);
  model.on("change:caption", () => { caption.textContent = model.get("caption"); });
  update();
  return () => {
    model.off("change:clip_id", update);
    model.off("change:stream_state", update);
    if (watched) watched.listeners.delete(streamState);
    if (url) URL.revokeObjectURL(url);
  };
}
export default { initialize, render };
"""

_CSS = """
.sg-player-view { margin: 4px 0; }
.sg-player-row { display: flex; align-items: center; gap: 10px; }
.sg-player-row audio { height: 36px; max-width: 100%; }
.sg-player-caption { font-size: smaller; opacity: .75; }
.sg-player-stop, .sg-player-wake { cursor: pointer; }
"""


def _why(err: BaseException) -> str:
    """What went wrong, for the caption: a SpeechgenError's own message (the key scrubbed), else its type."""
    from ..errors import SpeechgenError

    if isinstance(err, SpeechgenError):
        return str(err)
    return f"{type(err).__name__} (a bug: please report it)"


class _StreamPart(widgets.Widget):
    """One streamed part on its way to the page: its bytes as state (never lost), closed once the page has them."""

    audio = traitlets.Bytes(b"").tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    media_type = traitlets.Unicode("audio/mpeg").tag(sync=True)


class AudioPlayer(anywidget.AnyWidget):
    """Plays a `Speech` (or nothing yet): controls, no loop, a download link, autoplay only if asked.

    `play_stream(stream)` / `speak(text, voice)` play a text while it is
    being spoken (see the module docstring).
    """

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
    #: The streamed text being played (a new id each time), its parts on their way, how many there are in all.
    stream_id = traitlets.Unicode("").tag(sync=True)
    stream_state = traitlets.Enum(["", "streaming", "done", "stopped", "failed"], default_value="").tag(sync=True)
    parts = traitlets.List(traitlets.Instance(_StreamPart)).tag(sync=True, **widgets.widget_serialization)
    parts_total = traitlets.Int(0).tag(sync=True)

    def __init__(self, speech: Speech | None = None, *, autoplay: bool = False, caption: str | None = None, **kwargs: object) -> None:
        super().__init__(autoplay=autoplay, **kwargs)
        self.speech: Speech | None = None
        self._stream: SpeechStream | None = None
        self._pending_parts: dict[tuple[str, int], _StreamPart] = {}
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.add_class("sg-player")
        self.on_msg(self._on_page_message)
        if speech is not None:
            self.show(speech, caption=caption)

    # -- one clip ----------------------------------------------------------------------

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
        """Hold nothing (the player hides itself); a text being streamed stops."""
        self.stop()
        self.speech = None
        with self.hold_sync():
            self.audio = b""
            self.caption = ""
            self.clip_id = ""
            self.stream_id = ""
            self.stream_state = ""

    # -- a streamed text -----------------------------------------------------------------

    def play_stream(self, stream: SpeechStream, *, caption: str | None = None) -> Speech | None:
        """Send each part of `stream` to the page as it arrives (the page plays them back to back).

        Blocks while the parts come (call it from a thread to keep the
        kernel free, as `speak` does); returns the joined `Speech`, which the
        player then holds, or None when the stream was stopped. Errors of the
        stream are raised after the player says it failed.
        """
        self.stop()
        stream_id = uuid.uuid4().hex
        with self._lock:
            self._stream = stream
            self._close_parts()
        self.speech = None
        self.error = None
        with self.hold_sync():
            self.audio = b""
            self.clip_id = ""
            self.parts = []
            self.parts_total = stream.total
            self.stream_id = stream_id
            self.caption = f"Speaking… (0 of {stream.total} parts)"
            self.stream_state = "streaming"
        try:
            for part in stream:
                piece = _StreamPart(audio=part.speech.data, index=part.index, media_type=part.speech.media_type)
                with self._lock:  # the page's "got it" (another thread) edits `parts` too
                    if self.stream_id != stream_id:  # replaced while this part was on its way
                        piece.close()
                        return None
                    self._pending_parts[(stream_id, part.index)] = piece
                    with self.hold_sync():
                        self.parts = [*self.parts, piece]
                        self.caption = f"Speaking… ({part.index + 1} of {part.total} parts)"
        except BaseException as err:  # Ctrl-C in a cell, a failed request: say so, then let it go on
            self.error = err
            if self.stream_id == stream_id:
                with self.hold_sync():
                    self.parts = []
                    self.stream_state = "stopped" if isinstance(err, KeyboardInterrupt) else "failed"
                    self.caption = "Stopped." if isinstance(err, KeyboardInterrupt) else f"Could not speak it all: {_why(err)}"
            raise
        finally:
            stream.close()
            self._close_parts_later(stream_id)
        if self.stream_id != stream_id:
            return None
        if not stream.complete:
            with self.hold_sync():
                self.parts = []
                self.stream_state = "stopped"
                self.caption = f"Stopped after {stream.done} of {stream.total} parts."
            return None
        speech = stream.speech
        with self.hold_sync():
            self.parts = []
            self.stream_state = "done"
            self.show(speech, caption=caption)
        return speech

    def speak(self, text: str, voice: str, *, client: Any = None, format: str = "mp3", **options: Any) -> threading.Thread:
        """Speak `text` into this player from a background thread (the kernel stays free; Stop works at once).

        The joined clip lands in `speech` when all is spoken; `wait()` blocks
        until then. `client` defaults to the shared one; `options` go to
        `Client.stream_speech` (`lookahead`, `cache`, `max_chars`).
        """
        from ._clients import resolve_client

        stream = resolve_client(client).stream_speech(text, voice, format, **options)
        thread = threading.Thread(target=self._speak_in_thread, args=(stream,), name="speechgen-player", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def _speak_in_thread(self, stream: SpeechStream) -> None:
        try:
            self.play_stream(stream)
        except Exception:  # noqa: BLE001 - kept in `error` and shown as the player's caption
            pass

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a `speak` in progress is done (True) or the timeout passes (False)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def stop(self) -> None:
        """Stop the text being streamed: no further request is sent."""
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def _on_page_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event = content.get("event")
        if event == "stop" and content.get("stream") == self.stream_id:
            self.stop()
        elif event == "part":
            with self._lock:
                piece = self._pending_parts.pop((str(content.get("stream")), int(content.get("index", -1))), None)
                if piece is not None:
                    # Out of `parts` first: a closed widget has no id, so a list still naming it could not be sent.
                    if piece in self.parts:
                        self.parts = [p for p in self.parts if p is not piece]
                    piece.close()  # the page has its bytes

    def _close_parts_later(self, stream_id: str) -> None:
        def close_unacknowledged() -> None:
            with self._lock:
                for key in [k for k in self._pending_parts if k[0] == stream_id]:
                    piece = self._pending_parts.pop(key)
                    if piece in self.parts:
                        self.parts = [p for p in self.parts if p is not piece]
                    piece.close()

        timer = threading.Timer(PART_GRACE_SECONDS, close_unacknowledged)
        timer.daemon = True
        timer.start()

    def _close_parts(self) -> None:
        if self.parts:
            self.parts = []
        for piece in self._pending_parts.values():
            piece.close()
        self._pending_parts.clear()

    def close(self) -> None:
        """Close the player; a text being streamed stops (no further requests)."""
        self.stop()
        with self._lock:
            self._close_parts()
        super().close()

    def __repr__(self) -> str:
        return f"<AudioPlayer {self.speech._caption() if self.speech else 'empty'}>"
