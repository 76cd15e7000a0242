"""`%%speechgen`: speak the cell's text and show a player.

    %%speechgen [--voice V] [--format mp3|wav|ogg|flac] [--out PATH] [--autoplay] [-o NAME]
    %%speechgen NAME << [options]

The text may use `{name}` to insert notebook variables (`{{`/`}}` for literal
braces). Text longer than one request is split at sentences and joined into
one clip (see `speechgen_jupyter.longtext`).

The cell's value is the `Speech`, so it shows as a player (text in a
terminal) and lands in `_`; with `--autoplay` the player is displayed
instead, started once, and the cell has no value (use `-o NAME` to keep it).
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
    speech = _speak(ctx, text, args.voice, fmt)

    saved = _save(ctx, speech, args.out)
    if saved is not None:
        ctx.say(f"Saved {saved}")
    ctx.store(name, speech)
    if (args.autoplay or ctx.settings.autoplay) and ctx.rich:
        from ._display import AutoplayPlayer

        ctx.display(AutoplayPlayer(speech))
        return None
    return speech


def _speak(ctx: Context, text: str, wanted: str | None, fmt: str) -> Any:
    from ..errors import BadRequestError, NotFoundError
    from ..longtext import LongText, speak_long

    client = ctx.client
    voice = wanted or ctx.settings.default_voice or _first_builtin(ctx)
    chunks = len(LongText(text, voice, fmt, ctx.settings.max_chars).chunks)
    bar = _bar(chunks) if chunks > 1 and ctx.settings.progress else None
    try:
        try:
            return speak_long(client, text, voice, fmt, max_chars=ctx.settings.max_chars, on_chunk=_advance(bar))
        except (NotFoundError, BadRequestError) as err:
            resolved = resolve_voice(ctx, voice, err)
            if bar is not None:
                bar.reset()
            return speak_long(client, text, resolved, fmt, max_chars=ctx.settings.max_chars, on_chunk=_advance(bar))
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

