"""`%%speechgen` in a real IPython shell against the local server: options, config, interpolation,
capture, players, autoplay, terminal output and saving."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magics_calls import TEXT, magics_of, ok, run

import speechgen_jupyter as sg

pytest_plugins = ["magics_env"]


def displayed_html(shell) -> list[str]:
    return [data["text/html"] for data, *_ in ((o["data"],) for o in shell.display_pub.outputs) if "text/html" in data]


def test_load_ext_registers_line_and_cell_magic_once(shell) -> None:
    assert "speechgen" in shell.magics_manager.magics["line"]
    assert "speechgen" in shell.magics_manager.magics["cell"]
    ok(shell, "%reload_ext speechgen_jupyter")
    ok(shell, "%load_ext speechgen_jupyter")
    magics_of(shell)  # exactly one SpeechgenMagics among the configurables


def test_speaks_the_cell_with_quoted_options_and_odd_spacing(shell, voice_id: str) -> None:
    speech = ok(shell, f"%%speechgen    --voice   '{voice_id}'\t--format=wav  \n  {TEXT}  \n")
    assert isinstance(speech, sg.Speech)
    assert (speech.format, speech.voice, speech.text) == ("wav", voice_id, TEXT)
    assert speech.duration and speech.duration > 1.0
    html = speech._repr_html_()
    assert "<audio" in html and "autoplay" not in html and "loop" not in html


@pytest.mark.parametrize("fmt", ["mp3", "wav", "ogg", "flac"])
def test_every_format(shell, voice_id: str, fmt: str) -> None:
    speech = ok(shell, f"%%speechgen -v {voice_id} -f {fmt}\nHello.")
    assert speech.format == fmt and sg.inspect_audio(speech.data).format == fmt


def test_config_lists_and_sets_the_settings(shell, voice_id: str, capsys) -> None:
    ok(shell, "%config SpeechgenMagics")
    listing = capsys.readouterr().out
    for name in ("default_voice", "default_format", "autoplay", "output_dir", "wait_timeout", "max_chars"):
        assert f"SpeechgenMagics.{name}" in listing
    ok(shell, f"%config SpeechgenMagics.default_voice = '{voice_id}'")
    ok(shell, "%config SpeechgenMagics.default_format = 'flac'")
    speech = ok(shell, "%%speechgen\nConfigured.")
    assert (speech.voice, speech.format) == (voice_id, "flac")
    # An option still wins over the setting.
    assert ok(shell, "%%speechgen --format ogg\nConfigured.").format == "ogg"


def test_without_any_voice_the_first_builtin_is_used_and_said_once(shell, client: sg.Client, ready_model, page_only, capsys) -> None:
    voices = client.list_voices()
    # Page-only nothing lists built-in voices: the first ready voice model of yours is the default.
    first = next((v.voice_id for v in voices if v.kind == "builtin"), None) or voices[0].voice_id
    assert (voices[0].kind == "custom") is page_only
    assert ok(shell, "%%speechgen\nOne.").voice == first
    assert ok(shell, "%%speechgen\nTwo.").voice == first
    assert capsys.readouterr().out.count("speaking with") == 1


def test_a_voice_may_be_named_by_its_display_name_or_its_model_id(shell, ready_model: sg.VoiceModel) -> None:
    assert ok(shell, f"%%speechgen --voice '{ready_model.name.upper()}'\nHi.").voice == ready_model.voice_id
    assert ok(shell, f"%%speechgen --voice {ready_model.model_id}\nHi.").voice == ready_model.voice_id


def test_interpolation_in_text_and_options_with_literal_braces(shell, voice_id: str) -> None:
    shell.user_ns.update(who="Ada", n=3, chosen=voice_id)
    speech = ok(shell, "%%speechgen --voice {chosen}\nHello {who}, you have {n} messages. Literal: {{who}}.")
    assert speech.text == "Hello Ada, you have 3 messages. Literal: {who}."
    assert speech.voice == voice_id


def test_interpolation_can_be_switched_off(shell, voice_id: str) -> None:
    ok(shell, "%config SpeechgenMagics.interpolate = False")
    assert ok(shell, f"%%speechgen -v {voice_id}\nKeep {{this}} as is.").text == "Keep {this} as is."


def test_capture_with_dash_o_and_with_double_angle(shell, voice_id: str) -> None:
    shell.user_ns.pop("clip", None)
    shell.user_ns.pop("other", None)
    first = ok(shell, f"%%speechgen -v {voice_id} -o clip\nCaptured with dash o.")
    assert shell.user_ns["clip"] is first
    second = ok(shell, f"%%speechgen other<<  -v {voice_id}\nCaptured with angles.")
    assert shell.user_ns["other"] is second and second.text == "Captured with angles."
    result = run(shell, f"%%speechgen a << -o b -v {voice_id}\nTwo names.")
    assert isinstance(result.error_in_exec, UsageError)


def test_autoplay_plays_once_and_never_loops(shell, voice_id: str) -> None:
    shell.user_ns.pop("spoken", None)
    assert ok(shell, f"%%speechgen --autoplay -o spoken -v {voice_id}\nPlay me.") is None
    (html,) = displayed_html(shell)
    assert "<audio" in html and "loop" not in html.replace("a.loop=false", "")
    assert " autoplay" not in html  # the attribute would replay on every re-render
    assert ".play()" in html and "__speechgenPlayed" in html
    assert isinstance(shell.user_ns["spoken"], sg.Speech)


def test_autoplay_setting(shell, voice_id: str) -> None:
    ok(shell, "%config SpeechgenMagics.autoplay = True")
    assert ok(shell, f"%%speechgen -v {voice_id}\nAuto.") is None
    assert len(displayed_html(shell)) == 1


def test_a_terminal_gets_text_not_players(shell, voice_id: str, capsys) -> None:
    shell.display_formatter.active_types = ["text/plain"]  # what TerminalInteractiveShell sets
    speech = ok(shell, f"%%speechgen --autoplay -v {voice_id}\nIn a terminal.")
    assert isinstance(speech, sg.Speech)  # returned (printed as text), nothing autoplayed
    assert displayed_html(shell) == []
    assert "<Speech MP3" in capsys.readouterr().out


def test_out_saves_the_file_and_a_wrong_suffix_is_a_short_error(shell, voice_id: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "nested" / "hello.wav"
    speech = ok(shell, f"%%speechgen -v {voice_id} -f wav --out '{target}'\nSaved.")
    assert target.read_bytes() == speech.data
    assert f"Saved {target}" in capsys.readouterr().out
    result = run(shell, f"%%speechgen -v {voice_id} --out '{tmp_path / 'x.mp3'}' -f wav\nWrong suffix.")
    assert isinstance(result.error_in_exec, UsageError)
    assert "Traceback" not in capsys.readouterr().out


def test_output_dir_setting_keeps_every_clip(shell, voice_id: str, tmp_path: Path) -> None:
    ok(shell, f"%config SpeechgenMagics.output_dir = '{tmp_path}'")
    a = ok(shell, f"%%speechgen -v {voice_id}\nFirst clip.")
    b = ok(shell, f"%%speechgen -v {voice_id}\nFirst clip.")
    files = sorted(tmp_path.glob("*.mp3"))
    assert len(files) == 2 and {f.read_bytes() for f in files} == {a.data, b.data}
    assert all("first-clip" in f.name for f in files)


def test_bad_settings_are_refused(shell) -> None:
    from traitlets import TraitError

    magics = magics_of(shell)
    with pytest.raises(TraitError):
        magics.default_format = "mp4"
    with pytest.raises(TraitError):
        magics.max_chars = 6000
