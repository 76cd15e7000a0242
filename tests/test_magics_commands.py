"""Every `%speechgen` subcommand in a real IPython shell against the local server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from IPython.core.error import UsageError
from magics_calls import ok, run

import speechgen_jupyter as sg
from speechgen_jupyter.magics.dispatch import SUBCOMMANDS
from speechgen_jupyter.tables import MODEL_COLUMNS, SpeechgenFrame

pytest_plugins = ["magics_env"]


@pytest.fixture
def sample_path(tmp_path: Path, sample_mp3: bytes) -> Path:
    path = tmp_path / "my sample.mp3"  # a space, so the path must be quoted
    path.write_bytes(sample_mp3)
    return path


def test_help_lists_every_subcommand_and_the_interpolation_rules(shell, capsys) -> None:
    assert ok(shell, "%speechgen help") is None
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"  {name} " in out
    assert "{{ and }}" in out and "%%speechgen" in out
    ok(shell, "%speechgen")  # no subcommand: the same help
    assert "models" in capsys.readouterr().out
    ok(shell, "%speechgen help clone")
    assert "--enhance" in capsys.readouterr().out
    ok(shell, "%speechgen clone --help")
    assert "--description" in capsys.readouterr().out
    ok(shell, "%speechgen help speak")
    assert "--autoplay" in capsys.readouterr().out


def test_clone_with_wait_shows_progress_and_returns_the_ready_model(shell, sample_path: Path, capsys) -> None:
    shell.user_ns["label"] = "narration"
    table = ok(
        shell,
        f'%speechgen m << clone   "{sample_path}"  --name "Clone  with spaces" -d "for {{label}} {{{{x}}}}" --wait',
    )
    assert isinstance(table, SpeechgenFrame) and shell.user_ns["m"] is table
    row = table.iloc[0]
    assert (row["name"], row["status"], row["description"]) == ("Clone  with spaces", "ready", "for narration {x}")
    assert row["voice_id"]
    captured = capsys.readouterr()
    assert "Cloning 'Clone  with spaces'" in captured.out and "is ready" in captured.out
    assert f"Cloning {row['model_id']}" in captured.err and "100%" in captured.err  # the progress bar
    assert "<audio" in table._repr_html_()


def test_clone_without_wait_says_how_to_follow(shell, sample_path: Path, capsys) -> None:
    table = ok(shell, f"%speechgen clone '{sample_path}' --name Quick --enhance")
    model_id = table.iloc[0]["model_id"]
    assert f"%speechgen wait {model_id}" in capsys.readouterr().out
    waited = ok(shell, f"%speechgen wait {model_id} --timeout 60")
    assert waited.iloc[0]["status"] == "ready"
    assert "is ready" in capsys.readouterr().out


def test_models_is_a_dataframe_with_the_issue_columns(shell, ready_model: sg.VoiceModel) -> None:
    table = ok(shell, "%speechgen models")
    assert isinstance(table, pd.DataFrame) and isinstance(table, SpeechgenFrame)
    assert list(table.columns) == list(MODEL_COLUMNS)
    row = table.set_index("model_id").loc[ready_model.model_id]
    assert row["name"] == ready_model.name and row["voice_id"] == ready_model.voice_id
    assert str(table["created_at"].dtype).startswith("datetime64") and str(table["usage_count"].dtype) == "Int64"
    ready = ok(shell, "%speechgen models --status ready")
    assert set(ready["status"]) == {"ready"} and ready_model.model_id in set(ready["model_id"])
    assert ok(shell, "%speechgen models --status failed").empty


def test_a_trailing_semicolon_hides_the_table_but_still_captures(shell) -> None:
    shell.user_ns.pop("quiet", None)
    assert ok(shell, "%speechgen quiet << models;") is None
    assert isinstance(shell.user_ns["quiet"], SpeechgenFrame)


def test_voices_lists_builtin_and_cloned(shell, client: sg.Client, ready_model: sg.VoiceModel, page_only) -> None:
    table = ok(shell, "%speechgen voices")
    assert set(table["voice_id"]) == {v.voice_id for v in client.list_voices()}
    custom = ok(shell, "%speechgen voices --kind custom")
    assert ready_model.voice_id in set(custom["voice_id"]) and set(custom["kind"]) == {"custom"}
    assert custom._repr_html_().count("<audio") == len(custom)  # cloned voices play their sample
    builtin = ok(shell, "%speechgen voices --kind builtin")
    assert builtin.empty is page_only  # built-in voices only where the server lists them
    assert "<audio" not in builtin._repr_html_()  # no preview unless asked
    previews = ok(shell, "%speechgen voices --kind builtin --preview")
    assert previews._repr_html_().count("<audio") == len(previews)


@pytest.mark.server_modes("page-only")
def test_without_listings_models_and_voices_are_yours_and_that_is_said_quietly(shell, server, ready_model, capsys) -> None:
    fresh = sg.Client(api_key=server.api_key, base_url=server.base_url)  # a client that has not learnt anything yet
    previous = sg.set_client(fresh)
    try:
        for _ in range(2):
            models = ok(shell, "%speechgen models")
            voices = ok(shell, "%speechgen voices")
    finally:
        sg.set_client(previous)
        fresh.close()
    assert ready_model.model_id in set(models["model_id"]) and ready_model.voice_id in set(voices["voice_id"])
    assert set(voices["kind"]) == {"custom"}
    assert models._repr_html_().count("<audio") == len(models)  # the samples from the 201, remembered
    captured = capsys.readouterr()
    notes = [line for line in captured.out.splitlines() if line.startswith("(This server has no")]
    assert notes == [
        "(This server has no model listing (Speechgen's page documents none): showing the voice models made or "
        "tracked from this computer. %speechgen track MODEL_ID adds one made elsewhere.)",
        "(This server has no model or voice listing (Speechgen's page documents none): showing the voice models "
        "made or tracked from this computer. %speechgen track MODEL_ID adds one made elsewhere.)",
    ]  # once per thing it lacks, never again, and never as an error
    assert captured.err == ""


def test_track_and_forget_a_model_made_with_plain_http(shell, server, sample_mp3, page_only, capsys) -> None:
    import httpx

    made = httpx.post(
        server.base_url + "/v1/voice-clone", headers={"Authorization": f"Bearer {server.api_key}"},
        files={"audio": ("voice_sample.mp3", sample_mp3, "audio/mpeg")}, data={"name": "Curl voice"}, timeout=60,
    ).json()["model_id"]
    tracked = ok(shell, f"%speechgen track {made}")
    assert list(tracked["model_id"]) == [made] and "Tracking" in capsys.readouterr().out
    assert made in set(ok(shell, "%speechgen models")["model_id"])
    assert ok(shell, f"%%speechgen --voice 'Curl voice'\nSpoken by name.").voice.startswith("custom-")

    ok(shell, f"%speechgen forget {made}")
    assert "it still exists" in capsys.readouterr().out
    assert (made in set(ok(shell, "%speechgen models")["model_id"])) is not page_only
    again = run(shell, f"%speechgen forget {made}")
    assert isinstance(again.error_in_exec, UsageError) and "not among the models remembered" in str(again.error_in_exec)
    unknown = run(shell, "%speechgen track vm_00000000000000000000")
    assert isinstance(unknown.error_in_exec, UsageError) and "No voice model with that id" in str(unknown.error_in_exec)
    assert "Traceback" not in capsys.readouterr().err


def test_status_of_a_model(shell, ready_model: sg.VoiceModel) -> None:
    table = ok(shell, f"%speechgen status {ready_model.model_id}")
    assert len(table) == 1 and table.iloc[0]["status"] == "ready"


def test_status_of_a_failed_model_says_why(shell, server, sample_path: Path, capsys) -> None:
    from speechgen_jupyter.local import start

    with start(transition={"progression": "fail", "reason": "Too much echo."}) as failing:
        previous = sg.set_client(sg.Client(api_key=failing.api_key, base_url=failing.base_url))
        try:
            table = ok(shell, f"%speechgen clone '{sample_path}' --name Doomed")
            model_id = table.iloc[0]["model_id"]
            status = ok(shell, f"%speechgen status {model_id}")
            assert status.iloc[0]["status"] == "failed" and "Too much echo." in status.iloc[0]["error"]
            assert "Too much echo." in capsys.readouterr().out
            result = run(shell, f"%speechgen wait {model_id}")
            assert isinstance(result.error_in_exec, UsageError) and "Too much echo." in str(result.error_in_exec)
        finally:
            sg.set_client(previous)


def test_samples_shows_each_with_text_and_a_player(shell, ready_model: sg.VoiceModel) -> None:
    table = ok(shell, f"%speechgen samples {ready_model.model_id}")
    assert len(table) == len(ready_model.samples) >= 1
    assert list(table["sample"]) == [s.text for s in ready_model.samples]
    html = table._repr_html_()
    assert html.count("<audio") == len(table) and "data:audio/" in html


def test_delete_asks_first_and_respects_the_answer(shell, client: sg.Client, sample_mp3: bytes, monkeypatch, capsys) -> None:
    model = client.clone_voice(sample_mp3, "To delete", filename="d.mp3")
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "n")
    ok(shell, f"%speechgen delete {model.model_id}")
    assert "cannot be undone" in asked[0] and "'To delete'" in asked[0]
    assert "Not deleted." in capsys.readouterr().out
    assert client.get_model(model.model_id).model_id == model.model_id
    monkeypatch.setattr("builtins.input", lambda prompt="": "yes")
    ok(shell, f"%speechgen delete {model.model_id}")
    with pytest.raises(sg.NotFoundError):
        client.get_model(model.model_id)


def test_delete_with_yes_does_not_ask(shell, client: sg.Client, sample_mp3: bytes, monkeypatch) -> None:
    model = client.clone_voice(sample_mp3, "Delete quietly", filename="d.mp3")

    def no_input(prompt: str = "") -> str:
        raise AssertionError("must not ask")

    monkeypatch.setattr("builtins.input", no_input)
    ok(shell, f"%speechgen delete   {model.model_id}   --yes")
    with pytest.raises(sg.NotFoundError):
        client.get_model(model.model_id)


def test_delete_where_nobody_can_answer_is_refused(shell, ready_model: sg.VoiceModel, monkeypatch) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    result = run(shell, f"%speechgen delete {ready_model.model_id}")
    assert isinstance(result.error_in_exec, UsageError) and "--yes" in str(result.error_in_exec)


def test_a_terminal_shows_tables_as_text(shell, ready_model: sg.VoiceModel, capsys) -> None:
    shell.display_formatter.active_types = ["text/plain"]
    ok(shell, "%speechgen models")
    out = capsys.readouterr().out
    assert "model_id" in out and "<audio" not in out and "<table" not in out
