"""Record a voice sample from the microphone in the browser, play it back, and send it to the upload.

Why these choices:

* MediaRecorder records what the browser likes (WebM/Opus in Chromium, Ogg in
  Firefox, MP4 in Safari), and Speechgen takes none of WebM. So the browser
  decodes the recording and re-encodes it as 16 kHz mono 16-bit WAV, which
  every server takes, is plenty for a voice, and keeps 5 minutes under 10 MB.
* The recording goes to Python as one binary custom message, never as a
  synced trait: widget state can be saved into the .ipynb, and a voice
  sample is personal data. Python hands it to the upload component (which
  shows its checks and waveform) and keeps no copy of its own.
* Where the browser gives no microphone (VS Code's notebook webviews block
  it; browsers allow it only on https or localhost pages) or the user refuses
  permission, the widget says so in plain words and points to the upload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..audio import inspect_audio
from ..errors import SpeechgenError

if TYPE_CHECKING:  # pragma: no cover
    from .upload import UploadWidget

__all__ = ["NO_MICROPHONE", "RECORDING_FILENAME", "RecorderWidget"]

log = logging.getLogger("speechgen_jupyter.widgets")

RECORDING_FILENAME = "recording.wav"

NO_MICROPHONE = (
    "No microphone is available here: this browser window does not let the notebook use one "
    "(VS Code and some hosted notebooks block it, and browsers allow it only on https:// or localhost pages). "
    "Record on your phone or with any recorder app, then pick the file with “Pick an audio file” in the upload section."
)

_ESM = r"""
const NO_MICROPHONE = __NO_MICROPHONE__;
const RATE = 16000;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function encodeWav(samples, rate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => { for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, x < 0 ? x * 0x8000 : x * 0x7fff, true);
  }
  return buffer;
}

async function toWav(blob) {
  const bytes = await blob.arrayBuffer();
  const decoded = await new OfflineAudioContext(1, 1, RATE).decodeAudioData(bytes);
  const frames = Math.max(1, Math.ceil(decoded.duration * RATE));
  const offline = new OfflineAudioContext(1, frames, RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return { wav: encodeWav(rendered.getChannelData(0), RATE), seconds: rendered.duration };
}

function button(label, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "sg-rec-button " + cls;
  b.textContent = label;
  return b;
}

function render({ model, el }) {
  el.classList.add("sg-recorder-view");
  const record = button("● Record", "sg-rec-start");
  const stop = button("■ Stop", "sg-rec-stop");
  const use = button("Use this recording", "sg-rec-use");
  const time = document.createElement("span");
  time.className = "sg-rec-time";
  const controls = document.createElement("div");
  controls.className = "sg-rec-controls";
  controls.append(record, stop, time);
  const message = document.createElement("div");
  message.className = "sg-rec-message";
  message.setAttribute("role", "status");
  const playback = document.createElement("audio");
  playback.className = "sg-rec-playback";
  playback.controls = true;
  playback.loop = false;
  playback.style.display = "none";
  const after = document.createElement("div");
  after.className = "sg-rec-after";
  after.append(playback, use);
  el.append(controls, message, after);
  stop.disabled = true;
  use.disabled = true;

  let stream = null, recorder = null, chunks = [], started = 0, timer = null, wav = null, seconds = 0, url = null;

  function setState(state, text) {
    el.dataset.state = state;
    message.textContent = text;
    model.set("status", state);
    model.set("message", text);
    model.save_changes();
  }
  function release() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; }
  }
  function tick() {
    const elapsed = (performance.now() - started) / 1000;
    time.textContent = clock(elapsed) + " / " + clock(model.get("max_seconds"));
    el.dataset.elapsed = elapsed.toFixed(1);
    if (elapsed >= model.get("max_seconds")) stopRecording();
  }
  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    release();
    stop.disabled = true;
  }
  async function finish(mimeType) {
    try {
      setState("converting", "Preparing the recording…");
      const blob = new Blob(chunks, { type: mimeType || "audio/webm" });
      chunks = [];
      const out = await toWav(blob);
      wav = out.wav;
      seconds = out.seconds;
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
      playback.src = url;
      playback.style.display = "";
      use.disabled = false;
      setState("recorded", "Recorded " + seconds.toFixed(1) + " s. Listen to it, then press “Use this recording”"
        + (seconds < 10 ? " (it is shorter than the 10 s Speechgen needs: record again, longer)." : "."));
    } catch (err) {
      setState("error", "The recording could not be prepared (" + (err && err.name ? err.name + ": " : "") + (err && err.message ? err.message : err) + "). Record again, or pick a file with the upload.");
    } finally {
      record.disabled = false;
    }
  }

  record.addEventListener("click", async () => {
    record.disabled = true;
    use.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      record.disabled = false;
      const name = err && err.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        setState("denied", "The browser refused the microphone (permission denied). Allow it in the site settings "
          + "(the icon left of the address) and press Record again, or pick a recorded file with the upload.");
      } else if (name === "NotFoundError" || name === "OverconstrainedError") {
        setState("unavailable", "No microphone was found on this computer. " + NO_MICROPHONE);
      } else {
        setState("error", "The microphone could not be started (" + name + ": " + (err && err.message) + "). Pick a recorded file with the upload instead.");
      }
      return;
    }
    chunks = [];
    recorder = new MediaRecorder(stream);
    const mimeType = recorder.mimeType;
    recorder.addEventListener("dataavailable", (e) => { if (e.data && e.data.size) chunks.push(e.data); });
    recorder.addEventListener("stop", () => finish(mimeType), { once: true });
    recorder.start(250);
    started = performance.now();
    stop.disabled = false;
    timer = setInterval(tick, 100);
    tick();
    setState("recording", "Recording… read aloud, then press Stop (at least 10 s; 30 s or more gives the best clone).");
  });
  stop.addEventListener("click", stopRecording);
  use.addEventListener("click", () => {
    if (!wav) return;
    use.disabled = true;
    setState("sending", "Sending the recording to Python…");
    model.send({ kind: "recording", mime: "audio/wav", seconds: seconds }, undefined, [wav]);
  });
  function onMessage(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.kind === "received") {
      setState("sent", "The recording (" + Number(msg.seconds).toFixed(1) + " s) is in the upload section now: its checks are shown there.");
    } else if (msg.kind === "refused") {
      use.disabled = false;
      setState("error", String(msg.message));
    }
  }
  model.on("msg:custom", onMessage);

  const supported = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia) && typeof window.MediaRecorder !== "undefined";
  if (!supported) {
    record.disabled = true;
    setState("unavailable", NO_MICROPHONE);
  } else {
    time.textContent = clock(0) + " / " + clock(model.get("max_seconds"));
    setState("idle", "Press Record and read aloud: at least 10 s, up to " + clock(model.get("max_seconds")) + " (30 s or more gives the best clone).");
  }
  return () => {
    model.off("msg:custom", onMessage);
    stopRecording();
    if (url) URL.revokeObjectURL(url);
  };
}
export default { render };
"""

_CSS = """
.sg-recorder-view { display: flex; flex-direction: column; gap: 4px; margin: 4px 0; }
.sg-rec-controls, .sg-rec-after { display: flex; align-items: center; gap: 8px; }
.sg-rec-button { font: inherit; padding: 3px 12px; border: 1px solid rgba(127,127,127,.5); border-radius: 2px;
  background: var(--jp-layout-color2, #eee); color: inherit; cursor: pointer; }
.sg-rec-button:disabled { opacity: .5; cursor: default; }
.sg-rec-start { color: #b00020; }
.sg-rec-time { font-variant-numeric: tabular-nums; opacity: .8; }
.sg-recorder-view[data-state="unavailable"] .sg-rec-message,
.sg-recorder-view[data-state="denied"] .sg-rec-message,
.sg-recorder-view[data-state="error"] .sg-rec-message { color: #b00020; }
.sg-rec-playback { height: 36px; }
"""


class RecorderWidget(anywidget.AnyWidget):
    """A microphone recorder whose recordings go to an `UploadWidget` (or to `on_recording` callbacks).

    `status` and `message` mirror what the browser shows ("idle", "recording",
    "recorded", "sent", "unavailable", "denied", "error"), so Python code
    can tell, e.g., that this browser has no microphone.
    """

    _esm = _ESM.replace("__NO_MICROPHONE__", json.dumps(NO_MICROPHONE))
    _css = _CSS

    status = traitlets.Unicode("idle").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    max_seconds = traitlets.Int(300).tag(sync=True)

    def __init__(
        self,
        upload: UploadWidget | None = None,
        *,
        on_recording: Callable[[bytes, str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.upload = upload
        self._callbacks: list[Callable[[bytes, str], None]] = [on_recording] if on_recording else []
        self.received = 0  # recordings that reached Python
        self.add_class("sg-recorder")
        self.on_msg(self._on_custom_msg)

    def on_recording(self, callback: Callable[[bytes, str], None]) -> None:
        self._callbacks.append(callback)

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict) or content.get("kind") != "recording":
            return
        self.deliver(bytes(buffers[0]) if buffers else b"")

    def deliver(self, data: bytes) -> bool:
        """Hand a recording to the upload and the callbacks, and tell the browser how it went."""
        if not data:
            self._refuse("The recording arrived empty. Record again, or pick a file with the upload.")
            return False
        try:
            seconds = inspect_audio(data).duration or 0.0
        except SpeechgenError as err:
            self._refuse(f"The recording could not be read: {err}")
            return False
        try:
            if self.upload is not None:
                self.upload.set_sample(data, RECORDING_FILENAME, source="recording")
            for callback in list(self._callbacks):
                callback(data, RECORDING_FILENAME)
        except Exception as err:
            log.exception("speechgen_jupyter widget: unexpected error while taking a recording")
            self._refuse(f"Unexpected error while taking the recording ({type(err).__name__}: {err}).")
            return False
        self.received += 1
        self.send({"kind": "received", "seconds": round(seconds, 2), "size": len(data)})
        return True

    def _refuse(self, message: str) -> None:
        self.send({"kind": "refused", "message": message})
