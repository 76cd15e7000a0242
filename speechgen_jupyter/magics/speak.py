"""`%%speechgen`: speak the cell's text and show a player.

    %%speechgen [--voice V] [--format mp3|wav|ogg|flac] [--out PATH] [--autoplay] [--no-cache] [--no-stream] [-o NAME]
    %%speechgen NAME << [options]

The text may use `{name}` to insert notebook variables (`{{`/`}}` for literal
braces). Speech said before comes from the speech cache, with no request
(`--no-cache`, or `%config SpeechgenMagics.cache = False`, asks again).

A text of one sentence or a few: the cell's value is the `Speech`, so it
shows as a player (text in a terminal) and lands in `_`; with `--autoplay`
the player is displayed instead, started once, and the cell has no value
(use `-o NAME` to keep it).

A longer text is *streamed* (`speechgen_jupyter.streaming`): in a notebook
the cell shows a player at once, which plays the first sentence as soon as
it is spoken and the rest back to back while the cell runs; the cell then
has no value (the player is its output) and `NAME <<` keeps the joined
Speech. Interrupting the kernel stops it, with no further request. In a
terminal the parts are fetched the same way, a few at a time, and joined.
`--no-stream` (or `%config SpeechgenMagics.stream = False`) waits for the
whole text instead and shows it as one clip, as before streaming.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from .._constants import OUTPUT_FORMATS
from ._context import Context
from .parsing import HelpShown, MagicArgumentParser, split_capture, split_line

SUMMARY = "speak the cell's text (cell magic %%speechgen)"


def parser() -> MagicArgumentParser:
    p = MagicArgumentParser(
        "%%speechgen",
        description="Speak the text in the cell and show an inline player.",
        epilog="Write {name} to insert the variable `name`; {{ and }} for literal braces.\n"
        "Write `NAME <<` before the options to store the Speech in NAME (like -o NAME).",
    )
    p.add_argument("--voice", "-v", help="voice_id, voice name or model_id (default: %%config SpeechgenMagics.default_voice)")
    p.add_argument("--format", "-f", choices=OUTPUT_FORMATS, help="audio format (default: SpeechgenMagics.default_format)")
    p.add_argument("--out", metavar="PATH", help="also save the audio to PATH (a file, or a folder)")
    p.add_argument("--autoplay", action="store_true", help="play it once as soon as it is shown")
    p.add_argument("--no-cache", dest="no_cache", action="store_true", help="ask the service even if this was said before")
    p.add_argument(
        "--no-stream", dest="no_stream", action="store_true",
        help="for a long text: wait for all of it and show one clip (default: play it while it is spoken)",
    )
    p.add_argument("-o", "--output", dest="output", metavar="NAME", help="store the Speech in the variable NAME")
    return p


def run_cell(ctx: Context, line: str, cell: str) -> Any:
    capture, rest = split_capture(line)
    try:
        args = parser().parse(ctx.interpolate_words(split_line(rest)))
    except HelpShown:
        return None
    name = args.output or capture
    if args.output and capture and args.output != capture:
        raise UsageError(f"Two names to store the result in ({capture} << and -o {args.output}); give one.")
    if name is not None and not name.isidentifier():
        raise UsageError(f"-o needs a Python variable name, not {name!r}.")

    text = ctx.interpolate(cell).strip()
    if not text:
        raise UsageError("There is no text to speak: write it in the cell, below %%speechgen.")
    fmt = args.format or ctx.settings.default_format
    cache = ctx.settings.cache and not args.no_cache
    stream = ctx.settings.stream and not args.no_stream
    speech, shown = _speak(ctx, text, args.voice, fmt, cache=cache, stream=stream)

    saved = _save(ctx, speech, args.out)
    if saved is not None:
        ctx.say(f"Saved {saved}")
    ctx.store(name, speech)
    if shown:  # the streamed player is already the cell's output, holding the joined clip
        return None
    if (args.autoplay or ctx.settings.autoplay) and ctx.rich:
        from ._display import AutoplayPlayer

        ctx.display(AutoplayPlayer(speech))
        return None
    return speech


def _speak(ctx: Context, text: str, wanted: str | None, fmt: str, *, cache: bool, stream: bool) -> tuple[Any, bool]:
    """(the joined Speech, whether a streamed player already shows it)."""
    from ..errors import BadRequestError, NotFoundError

    voice = wanted or ctx.settings.default_voice or _first_builtin(ctx)
    try:
        return _speak_with(ctx, text, voice, fmt, cache=cache, stream=stream)
    except (NotFoundError, BadRequestError) as err:
        return _speak_with(ctx, text, resolve_voice(ctx, voice, err), fmt, cache=cache, stream=stream)


def _speak_with(ctx: Context, text: str, voice: str, fmt: str, *, cache: bool, stream: bool) -> tuple[Any, bool]:
    from .._streamplan import StreamPlan
    from ..longtext import LongText, speak_long

    client = ctx.client
    max_chars = ctx.settings.max_chars
    if not stream:  # all of it, then one clip: the fewest requests, one at a time
        chunks = len(LongText(text, voice, fmt, max_chars).chunks)
        bar = _bar(chunks) if chunks > 1 and ctx.settings.progress else None
        try:
            return speak_long(client, text, voice, fmt, max_chars=max_chars, on_chunk=_advance(bar), cache=cache), False
        finally:
            if bar is not None:
                bar.close()
    parts = len(StreamPlan(text, voice, fmt, max_chars).parts)
    streamed = client.stream_speech(text, voice, fmt, max_chars=max_chars, cache=cache)
    if parts > 1 and ctx.live_widgets:
        from ..widgets.player import AudioPlayer

        player = AudioPlayer()
        ctx.display(player)  # shown now, while the cell runs: it plays each part as it arrives
        speech = player.play_stream(streamed)
        if speech is None:  # pragma: no cover - a cell's stream stops only by an interrupt, which raises
            raise UsageError("Stopped before the whole text was spoken.")
        return speech, True
    bar = _bar(parts) if parts > 1 and ctx.settings.progress else None
    try:
        with streamed:
            for part in streamed:
                if bar is not None:
                    bar.update(1)
        return streamed.speech, False
    finally:
        if bar is not None:
            bar.close()


def _bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Speaking", unit="part")


def _advance(bar: Any) -> Any:
    if bar is None:
        return None
    return lambda done, total: bar.update(done - bar.n)


def _first_builtin(ctx: Context) -> str:
    """The voice when none is given: the first built-in one the server lists, else the first ready clone of yours."""
    voices = ctx.client.list_voices()
    builtin = [v for v in voices if v.kind == "builtin"] or voices
    if not builtin:
        raise UsageError(
            "No voice to speak with: this server lists none and none of the voice models made here is ready. "
            "Clone one (%speechgen clone PATH --name NAME --wait), track one made elsewhere "
            "(%speechgen track MODEL_ID), or give a voice_id with --voice."
        )
    voice = builtin[0].voice_id
    if not ctx.session.voice_note_shown:
        ctx.session.voice_note_shown = True
        ctx.say(f"(speaking with {voice!r}; choose with --voice or %config SpeechgenMagics.default_voice = '...')")
    return voice


def resolve_voice(ctx: Context, wanted: str, err: Exception) -> str:
    """After the server refused `wanted`: find the voice it names, or explain which exist.

    Users naturally write a voice's display name or the model_id they just
    cloned; both are looked up here. Anything else re-raises the server's
    refusal with the list of valid voice_ids.
    """
    from ..errors import NotFoundError, SpeechgenError

    client = ctx.client
    try:
        voices = client.list_voices()
    except SpeechgenError:
        raise err from None
    ids = [v.voice_id for v in voices]
    if wanted in ids:
        raise err  # the voice exists: the refusal was about something else
    by_name = [v.voice_id for v in voices if v.name.casefold() == wanted.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    try:
        model = client.get_model(wanted)
    except NotFoundError:
        model = None
    if model is not None:
        if model.voice_id:
            return model.voice_id
        raise UsageError(
            f"Model {wanted} is {model.status}, so it has no voice yet. Run: %speechgen wait {wanted}"
        ) from None
    shown = ", ".join(ids[:12]) + (", ..." if len(ids) > 12 else "")
    if not ids:
        raise UsageError(
            f"Unknown voice {wanted!r}. No voice of yours is ready here yet (see %speechgen voices): clone one "
            f"(%speechgen clone PATH --name NAME --wait) or track one made elsewhere (%speechgen track MODEL_ID)."
        ) from None
    raise UsageError(f"Unknown voice {wanted!r}. Voices: {shown} (see %speechgen voices).") from None


def _save(ctx: Context, speech: Any, out: str | None) -> Path | None:
    target: str | Path | None = out
    if target is None and ctx.settings.output_dir:
        folder = Path(ctx.settings.output_dir).expanduser()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", (speech.text or "speech")[:40]).strip("-").lower() or "speech"
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
        target = folder / f"{stem}.{speech.format}"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{stem}-{n}.{speech.format}"
    if target is None:
        return None
    try:
        return speech.save(target)
    except ValueError as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise UsageError(f"Could not save to {str(target)!r}: {err.strerror or err}.") from None

