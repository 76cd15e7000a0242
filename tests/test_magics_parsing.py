"""The magics' line parsing on its own: quotes, odd spacing, capture, interpolation, argparse errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from IPython.core.error import UsageError

from speechgen_jupyter.magics.dispatch import SUBCOMMANDS, subcommand
from speechgen_jupyter.magics.parsing import (
    HelpShown,
    interpolate,
    split_capture,
    split_line,
)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("clone sample.mp3 --name Me", ["clone", "sample.mp3", "--name", "Me"]),
        ("   clone\t 'my  sample.mp3'   --name   \"My  voice\"  ", ["clone", "my  sample.mp3", "--name", "My  voice"]),
        ("clone my\\ sample.mp3 --name=\"A 'quoted' name\"", ["clone", "my sample.mp3", "--name=A 'quoted' name"]),
        ("--description \"\"", ["--description", ""]),
        ("", []),
        ("   \t  ", []),
    ],
)
def test_split_line_handles_quotes_and_spacing(line: str, words: list[str]) -> None:
    assert split_line(line) == words


def test_an_unclosed_quote_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="quote"):
        split_line("clone 'my sample.mp3 --name x")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("clip << --voice en", ("clip", "--voice en")),
        ("clip<<--voice en", ("clip", "--voice en")),
        ("  clip   <<   ", ("clip", "")),
        ("df << models", ("df", "models")),
        ("--description 'a << b'", (None, "--description 'a << b'")),
        ("2x << models", (None, "2x << models")),
        ("--voice en", (None, "--voice en")),
    ],
)
def test_split_capture(line: str, expected: tuple[str | None, str]) -> None:
    assert split_capture(line) == expected


def test_interpolation_inserts_variables_attributes_items_and_formats() -> None:
    ns = {"name": "Ada", "obj": SimpleNamespace(title="Dr."), "items": ["first", "second"], "x": 3.14159}
    assert interpolate("Hello {name}!", ns) == "Hello Ada!"
    assert interpolate("{obj.title} {name}, {items[1]}, {x:.1f}", ns) == "Dr. Ada, second, 3.1"
    assert interpolate("no braces at all", ns) == "no braces at all"


def test_doubled_braces_are_literal() -> None:
    assert interpolate("{{name}} is {name}; a set: {{1, 2}}", {"name": "Ada"}) == "{name} is Ada; a set: {1, 2}"


def test_a_missing_variable_is_a_clear_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        interpolate("Hello {nobody}", {})
    message = str(info.value)
    assert "nobody" in message and "{{nobody}}" in message


@pytest.mark.parametrize("text", ["a } b", "a { b", "{}", "{0}"])
def test_unbalanced_or_empty_braces_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match=r"\{\{"):
        interpolate(text, {"x": 1})


def test_a_failing_attribute_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="AttributeError"):
        interpolate("{name.nope}", {"name": "Ada"})


def test_unknown_subcommand_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match="Did you mean 'models'"):
        subcommand("modles")


def test_every_subcommand_has_a_parser_and_a_summary() -> None:
    for name in SUBCOMMANDS:
        module = subcommand(name)
        assert module.SUMMARY
        assert callable(module.run)
        assert module.parser().prog == f"%speechgen {name}"


def test_subcommands_read_every_setting_and_only_settings() -> None:
    # Subcommands see a snapshot (magics/_settings.py), not the magics class: a
    # setting added to one list and not the other would be silently ignored.
    from dataclasses import fields

    from speechgen_jupyter.magics import SpeechgenMagics
    from speechgen_jupyter.magics._settings import Settings

    magics = SpeechgenMagics()
    configurable = {name for name in magics.trait_names() if magics.trait_metadata(name, "config")}
    assert {f.name for f in fields(Settings)} == configurable
    # The snapshot's defaults are the settings' own.
    assert Settings.of(magics) == Settings()


def test_parser_errors_are_usage_errors_and_help_is_not_an_error() -> None:
    clone = subcommand("clone").parser()
    with pytest.raises(UsageError, match="--name"):
        clone.parse(["sample.mp3"])
    with pytest.raises(UsageError, match="unrecognized"):
        clone.parse(["sample.mp3", "--name", "x", "--bogus"])
    with pytest.raises(UsageError):  # no abbreviations: --desc must not mean --description
        clone.parse(["sample.mp3", "--name", "x", "--desc", "y"])
    with pytest.raises(HelpShown):
        clone.parse(["--help"])
    args = clone.parse(["my sample.mp3", "--name", "My voice", "--enhance", "-d", "A b"])
    assert (args.path, args.name, args.enhance, args.description, args.wait) == ("my sample.mp3", "My voice", True, "A b", False)


def test_load_ext_imports_nothing_heavy() -> None:
    """`%load_ext` must stay instant: the client, pandas and tqdm load with the first command."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'speechgen_jupyter')\n"
        "assert 'speechgen' in ip.magics_manager.magics['cell']\n"
        "print(','.join(m for m in ('httpx', 'pandas', 'tqdm', 'numpy', 'av', 'anyio') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
