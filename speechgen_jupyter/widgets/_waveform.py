"""The sample's waveform with a selection dragged by the mouse, a "play the selection" button, and its length.

An anywidget (a widget from an ES module, no build step; anywidget's docs:
https://anywidget.dev). What goes through widget state is a picture and
numbers only: `peaks` (a min/max envelope, a few hundred columns), the
sample's `duration`, the selection's `start`/`end` (seconds), and where
the speech starts and ends. The audio never does: a voice sample is
personal data and widget state can be saved into the .ipynb. "Play the
selection" asks Python for it by message, and the reply (a 16 kHz WAV of
the selection, in pieces under the websocket's message limit) is played
from a blob URL and never stored.

Why the drag is all in the browser: the waveform must follow the pointer
(the benchmark measures under 50 ms a move), so moving a handle only moves
elements; the new `start`/`end` go to Python once, when the button is
released (or a key is pressed), and the report is computed for them there.
"""

from __future__ import annotations

import io
import threading
import wave
from typing import Any

import anywidget
import numpy as np
import traitlets

__all__ = ["COLUMNS", "WaveformSelector", "envelope"]

#: Columns of the min/max envelope: enough for a sharp picture 600-900 px wide.
COLUMNS = 600
#: The WAV of a selection goes to the browser in pieces of this many bytes
#: (tornado's websocket drops messages past ~10 MB; ipywidgets #2522).
_PIECE = 1 << 20

_ESM = r"""
function clock(s) {
  s = Math.max(0, s);
  if (s < 60) return s.toFixed(1) + " s";
  const m = Math.floor(s / 60), r = s - 60 * m;
  return m + ":" + (r < 10 ? "0" : "") + r.toFixed(1);
}

function render({ model, el }) {
  el.classList.add("sg-wave-view");
  const box = document.createElement("div");
  box.className = "sg-wave";
  const canvas = document.createElement("canvas");
  canvas.className = "sg-wave-canvas";
  const shade0 = document.createElement("div");
  const shade1 = document.createElement("div");
  shade0.className = shade1.className = "sg-wave-shade";
  const span = document.createElement("div");
  span.className = "sg-wave-selection";
  const head = document.createElement("div");
  head.className = "sg-wave-playhead";
  const handles = {};
  for (const which of ["start", "end"]) {
    const h = document.createElement("div");
    h.className = "sg-wave-handle sg-wave-" + which;
    h.dataset.handle = which;
    h.tabIndex = 0;
    h.setAttribute("role", "slider");
    h.setAttribute("aria-label", which === "start" ? "start of the selection" : "end of the selection");
    handles[which] = h;
  }
  box.append(canvas, shade0, shade1, span, head, handles.start, handles.end);
  const bar = document.createElement("div");
  bar.className = "sg-wave-bar";
  const length = document.createElement("span");
  length.className = "sg-wave-length";
  length.setAttribute("aria-live", "polite");
  const play = document.createElement("button");
  play.type = "button";
  play.className = "sg-wave-button sg-wave-play";
  const fit = document.createElement("button");
  fit.type = "button";
  fit.className = "sg-wave-button sg-wave-fit";
  fit.textContent = "Select the speech";
  fit.title = "Move the handles to where the speech starts and ends (drops silence or music at both ends)";
  const all = document.createElement("button");
  all.type = "button";
  all.className = "sg-wave-button sg-wave-all";
  all.textContent = "Select all";
  bar.append(length, play, fit, all);
  el.append(box, bar);

  let start = model.get("start"), end = model.get("end");
  let drag = null;        // {which, anchor}
  let audio = null, url = null, pending = null, pieces = [], raf = 0;

  const duration = () => Math.max(model.get("duration"), 1e-6);
  const width = () => box.clientWidth || 1;
  const x = (t) => (t / duration()) * width();
  const time = (clientX) => {
    const r = box.getBoundingClientRect();
    return Math.min(duration(), Math.max(0, ((clientX - r.left) / (r.width || 1)) * duration()));
  };

  function draw() {
    const w = box.clientWidth || 480, h = box.clientHeight || 72, dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const peaks = model.get("peaks") || [];
    const n = peaks.length / 2, mid = h / 2;
    g.fillStyle = "#3b78c3";
    for (let i = 0; i < n; i++) {
      const lo = peaks[2 * i], hi = peaks[2 * i + 1];
      const x0 = (i / n) * w, x1 = ((i + 1) / n) * w;
      const top = mid - Math.max(hi, 0) * mid, bottom = mid - Math.min(lo, 0) * mid;
      g.fillRect(x0, top, Math.max(1, x1 - x0), Math.max(1, bottom - top));
    }
  }

  function place() {
    const a = x(start), b = x(end), w = width();
    span.style.left = a + "px"; span.style.width = Math.max(0, b - a) + "px";
    shade0.style.left = "0px"; shade0.style.width = a + "px";
    shade1.style.left = b + "px"; shade1.style.width = Math.max(0, w - b) + "px";
    handles.start.style.left = a + "px"; handles.end.style.left = b + "px";
    handles.start.setAttribute("aria-valuenow", start.toFixed(2));
    handles.end.setAttribute("aria-valuenow", end.toFixed(2));
    length.textContent = clock(end - start) + " selected (" + clock(start) + " – " + clock(end) + ")";
    el.dataset.start = start.toFixed(3); el.dataset.end = end.toFixed(3);
    const speech = model.get("speech_start") !== null && model.get("speech_end") !== null;
    fit.disabled = !speech;
  }

  function send() {
    model.set("start", start); model.set("end", end); model.save_changes();
  }

  function setFrom(which, t) {
    const gap = Math.min(0.1, duration());
    if (which === "start") start = Math.min(t, end - gap);
    else end = Math.max(t, start + gap);
    start = Math.max(0, start); end = Math.min(duration(), end);
    place();
  }

  box.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const t = time(e.clientX);
    const which = e.target.dataset && e.target.dataset.handle;
    if (which) drag = { which };
    else { drag = { which: "end", anchor: t }; start = t; end = Math.min(duration(), t + 0.1); place(); }
    box.setPointerCapture(e.pointerId);
    el.dataset.dragging = drag.which;
    e.preventDefault();
  });
  box.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const t = time(e.clientX);
    if (drag.anchor !== undefined) {
      start = Math.min(drag.anchor, t); end = Math.max(drag.anchor, t);
      if (end - start < 0.1) end = Math.min(duration(), start + 0.1);
      place();
    } else setFrom(drag.which, t);
  });
  const release = (e) => {
    if (!drag) return;
    drag = null;
    delete el.dataset.dragging;
    try { box.releasePointerCapture(e.pointerId); } catch (_) {}
    send();
  };
  box.addEventListener("pointerup", release);
  box.addEventListener("pointercancel", release);
  for (const which of ["start", "end"]) {
    handles[which].addEventListener("keydown", (e) => {
      const step = e.shiftKey ? 1.0 : 0.1;
      const now = which === "start" ? start : end;
      if (e.key === "ArrowLeft") setFrom(which, now - step);
      else if (e.key === "ArrowRight") setFrom(which, now + step);
      else return;
      e.preventDefault();
      send();
    });
  }
  fit.addEventListener("click", () => {
    const a = model.get("speech_start"), b = model.get("speech_end");
    if (a === null || b === null) return;
    start = Math.max(0, a - 0.25); end = Math.min(duration(), b + 0.25); place(); send();
  });
  all.addEventListener("click", () => { start = 0; end = duration(); place(); send(); });

  function stopPlaying() {
    if (audio) { audio.pause(); audio = null; }
    if (url) { URL.revokeObjectURL(url); url = null; }
    cancelAnimationFrame(raf);
    head.style.display = "none";
    play.textContent = "▶ Play the selection";
    delete el.dataset.playing;
  }
  function animate(from) {
    if (!audio) return;
    head.style.display = "";
    head.style.left = x(from + audio.currentTime) + "px";
    el.dataset.position = (from + audio.currentTime).toFixed(2);
    raf = requestAnimationFrame(() => animate(from));
  }
  play.addEventListener("click", () => {
    if (audio || pending) { pending = null; stopPlaying(); return; }
    pending = { id: Math.random().toString(36).slice(2), start, end };
    pieces = [];
    play.textContent = "■ Stop";
    el.dataset.playing = "loading";
    model.send({ kind: "play", id: pending.id, start, end });
  });
  model.on("msg:custom", (msg, buffers) => {
    if (!msg || msg.kind !== "audio" || !pending || msg.id !== pending.id) return;
    pieces[msg.part] = buffers[0];
    if (pieces.filter(Boolean).length < msg.parts) return;
    const from = pending.start;
    pending = null;
    url = URL.createObjectURL(new Blob(pieces, { type: "audio/wav" }));
    pieces = [];
    audio = new Audio(url);
    audio.addEventListener("ended", stopPlaying);
    audio.addEventListener("playing", () => { el.dataset.playing = "true"; animate(from); });
    audio.play().catch((err) => { el.dataset.playing = "blocked"; length.textContent += " (the browser would not play: " + err.name + ")"; stopPlaying(); });
  });

  model.on("change:start", () => { if (!drag) { start = model.get("start"); place(); } });
  model.on("change:end", () => { if (!drag) { end = model.get("end"); place(); } });
  model.on("change:peaks", draw);
  model.on("change:duration", () => { draw(); place(); });
  model.on("change:speech_start", place);
  const resize = new ResizeObserver(() => { draw(); place(); });
  resize.observe(box);
  stopPlaying();
  draw();
  place();
  return () => { resize.disconnect(); stopPlaying(); };
}
export default { render };
"""

_CSS = """
.sg-wave-view { display: flex; flex-direction: column; gap: 4px; width: 100%; max-width: 640px; min-width: 280px; }
.sg-wave { position: relative; height: 72px; background: rgba(127,127,127,.08); border-radius: 2px;
  cursor: crosshair; touch-action: none; user-select: none; overflow: hidden; }
.sg-wave-canvas { position: absolute; left: 0; top: 0; pointer-events: none; }
.sg-wave-shade { position: absolute; top: 0; bottom: 0; background: rgba(127,127,127,.45); pointer-events: none; }
.sg-wave-selection { position: absolute; top: 0; bottom: 0; background: rgba(255,196,0,.22);
  border-top: 2px solid #e0a800; border-bottom: 2px solid #e0a800; box-sizing: border-box; pointer-events: none; }
/* Each handle reaches into the selection from its edge, so both stay inside the box (and grabbable)
   at the very start and end of the sample. */
.sg-wave-handle { position: absolute; top: 0; bottom: 0; width: 12px; cursor: ew-resize; z-index: 2; }
.sg-wave-end { margin-left: -12px; }
.sg-wave-handle::after { content: ""; position: absolute; top: 0; bottom: 0; width: 3px; background: #c08a00; }
.sg-wave-start::after { left: 0; }
.sg-wave-end::after { right: 0; }
.sg-wave-handle:focus-visible { outline: 2px solid #3b78c3; }
.sg-wave-playhead { position: absolute; top: 0; bottom: 0; width: 1px; background: #b00020; pointer-events: none; }
.sg-wave-bar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.sg-wave-length { font-variant-numeric: tabular-nums; min-width: 16em; }
.sg-wave-button { font: inherit; padding: 2px 10px; border: 1px solid rgba(127,127,127,.5); border-radius: 2px;
  background: var(--jp-layout-color2, #eee); color: inherit; cursor: pointer; }
.sg-wave-button:disabled { opacity: .5; cursor: default; }
"""


def envelope(x: np.ndarray, columns: int = COLUMNS) -> list[float]:
    """Min and max of each of `columns` stretches of `x`, interleaved [min0, max0, min1, ...], rounded: the picture."""
    if x.size == 0:
        return []
    cols = min(columns, x.size)
    edges = np.linspace(0, x.size, cols + 1).astype(int)[:-1]
    lo = np.minimum.reduceat(x, edges)
    hi = np.maximum.reduceat(x, edges)
    return [round(float(v), 3) for pair in zip(lo, hi) for v in pair]


def wav_bytes(x: np.ndarray, rate: int) -> bytes:
    """16-bit mono PCM WAV of `x` (what the browser plays for "play the selection")."""
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class WaveformSelector(anywidget.AnyWidget):
    """A waveform with a selection: drag the handles (or a new span), play it, "Select the speech".

    `start`/`end` (seconds) are the selection; observe them to follow it.
    The signal for playback is held by this Python object only (`set_signal`).
    """

    _esm = _ESM
    _css = _CSS

    peaks = traitlets.List(traitlets.Float()).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)
    start = traitlets.Float(0.0).tag(sync=True)
    end = traitlets.Float(0.0).tag(sync=True)
    speech_start = traitlets.Float(None, allow_none=True).tag(sync=True)
    speech_end = traitlets.Float(None, allow_none=True).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signal: np.ndarray | None = None
        self._rate = 16_000
        self._lock = threading.Lock()
        self.plays = 0  # selections sent to the browser to play (tests read this)
        self.add_class("sg-waveform")
        self.on_msg(self._on_custom_msg)

    def set_signal(self, x: np.ndarray, rate: int, *, speech: tuple[float, float] | None = None) -> None:
        """Show a new sample (whole of it selected); `speech` is where its speech starts and ends, if known."""
        with self._lock:
            self._signal, self._rate = x, rate
        duration = x.size / rate if rate else 0.0
        with self.hold_sync():
            self.peaks = envelope(x)
            self.duration = duration
            self.start, self.end = 0.0, duration
            self.speech_start, self.speech_end = speech if speech else (None, None)

    def clear(self) -> None:
        """Forget the signal (the sample was sent, or replaced)."""
        with self._lock:
            self._signal = None
        with self.hold_sync():
            self.peaks = []
            self.duration = self.start = self.end = 0.0
            self.speech_start = self.speech_end = None

    def select(self, start: float, end: float) -> None:
        """Set the selection from Python (the handles move in the browser)."""
        start, end = max(0.0, float(start)), min(float(end), self.duration)
        if end <= start:
            raise ValueError(f"the selection must end after it starts (got {start:.2f} to {end:.2f} s)")
        with self.hold_sync():
            self.start, self.end = start, end

    def selection_wav(self, start: float, end: float) -> bytes:
        """The selection as a 16 kHz WAV (what "play the selection" plays)."""
        with self._lock:
            x, rate = self._signal, self._rate
        if x is None:
            return b""
        return wav_bytes(x[int(max(0.0, start) * rate) : int(max(0.0, end) * rate)], rate)

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: list[Any]) -> None:
        if not isinstance(content, dict) or content.get("kind") != "play":
            return
        data = self.selection_wav(float(content.get("start", 0.0)), float(content.get("end", 0.0)))
        if not data:
            return
        parts = [data[i : i + _PIECE] for i in range(0, len(data), _PIECE)]
        for i, part in enumerate(parts):
            self.send({"kind": "audio", "id": content.get("id"), "part": i, "parts": len(parts)}, [part])
        self.plays += 1
