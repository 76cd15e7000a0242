"""User mistakes read as one short message with no traceback; real bugs keep their traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magics_calls import run

import speechgen_jupyter as sg

pytest_plugins = ["magics_env"]


@pytest.fixture
def short_sample(tmp_path: Path) -> Path:
    from media import speech_file

    path = tmp_path / "short.mp3"
    path.write_bytes(speech_file("mp3", 3.0))
    return path


def assert_short_usage_error(result, capsys, *needles: str) -> str:
    assert isinstance(result.error_in_exec, UsageError), repr(result.error_in_exec)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "Traceback" not in shown and 'File "' not in shown
    assert captured.err.startswith("UsageError: ")
    assert len(captured.err) < 700, captured.err
    for needle in needles:
        assert needle in captured.err, captured.err
    return captured.err


@pytest.mark.parametrize(
    ("cell", "needles"),
    [
        ("%speechgen frobnicate", ("Unknown subcommand 'frobnicate'",)),
        ("%speechgen models --bogus", ("unrecognized arguments: --bogus",)),
        ("%speechgen status", ("the following arguments are required: model_id",)),
        ("%speechgen status vm_does_not_exist", ("NotFoundError",)),
        ("%speechgen samples 'vm_does_not_exist'", ("NotFoundError",)),
        ("%speechgen delete vm_does_not_exist --yes", ("NotFoundError",)),
        ("%speechgen wait vm_does_not_exist", ("NotFoundError",)),
        ("%speechgen clone /no/such/file.mp3 --name X", ("No audio file",)),
        ("%speechgen clone 'unclosed --name X", ("quote",)),
        ("%speechgen wait {undefined_variable}", ("undefined_variable",)),
        ("%%speechgen --format mp4\nHello.", ("invalid choice: 'mp4'",)),
        ("%%speechgen --voice no-such-voice\nHello.", ("Unknown voice 'no-such-voice'", "%speechgen voices")),
        ("%%speechgen\nHello {nobody_defined_this}.", ("nobody_defined_this", "{{nobody_defined_this}}")),
        ("%%speechgen\nA lone } brace.", ("unmatched brace",)),
        ("%%speechgen\n   \n  ", ("There is no text to speak",)),
    ],
)
def test_user_mistakes_are_one_short_line(shell, capsys, cell: str, needles: tuple[str, ...]) -> None:
    assert_short_usage_error(run(shell, cell), capsys, *needles)


def test_audio_that_breaks_a_requirement_is_a_short_error(shell, short_sample: Path, capsys) -> None:
    err = assert_short_usage_error(run(shell, f"%speechgen clone {short_sample} --name Short"), capsys)
    assert "AudioValidationError" in err and "10 seconds" in err


def test_a_missing_key_is_a_short_error(shell, server, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SPEECHGEN_BASE_URL", server.base_url)  # a server, but no key anywhere
    sg.set_client(None)
    err = assert_short_usage_error(run(shell, "%speechgen models"), capsys)
    assert "SPEECHGEN_API_KEY" in err


def test_a_rate_limit_that_outlasts_the_retries_is_a_short_error(shell, capsys) -> None:
    from speechgen_jupyter.local import start

    with start(faults={"rate": 1.0, "kinds": ["429"], "retry_after": 0}) as busy:
        previous = sg.set_client(sg.Client(api_key=busy.api_key, base_url=busy.base_url, max_retries=1))
        try:
            err = assert_short_usage_error(run(shell, "%speechgen models"), capsys)
        finally:
            sg.set_client(previous)
    assert "RateLimitError" in err


def test_a_real_bug_keeps_its_traceback(shell, monkeypatch, capsys) -> None:
    import speechgen_jupyter.tables as tables

    def broken(*args, **kwargs):
        return {}["a bug in the table code"]

    monkeypatch.setattr(tables, "models_table", broken)
    result = run(shell, "%speechgen models")
    assert isinstance(result.error_in_exec, KeyError)
    shown = "".join(capsys.readouterr())
    assert "Traceback" in shown and "KeyError" in shown and "broken" in shown


def test_a_real_bug_in_the_cell_magic_keeps_its_traceback(shell, voice_id: str, monkeypatch, capsys) -> None:
    import speechgen_jupyter.magics.speak as speak

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug while speaking")

    monkeypatch.setattr(speak, "_speak_with", broken)
    result = run(shell, f"%%speechgen -v {voice_id}\nHello.")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "Traceback" in "".join(capsys.readouterr())
