"""Tables of models and voices: plain DataFrames to code, players when rendered, never audio in a CSV."""

from __future__ import annotations

import io
import pickle

import pandas as pd
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.tables import (
    MODEL_COLUMNS,
    SpeechgenFrame,
    models_table,
    samples_table,
    voices_table,
)

pytest_plugins = ["magics_env"]


@pytest.fixture(scope="module")
def models(client: sg.Client, sample_mp3: bytes) -> list[sg.VoiceModel]:
    made = [client.clone_voice(sample_mp3, f"Voice {name}", f"about {name}", filename="s.mp3") for name in "CAB"]
    return [client.wait_for_model(m.model_id, 60) for m in made]


@pytest.fixture
def counting_client(server):
    """A real client that counts the sample-audio fetches it makes."""
    import httpx

    fetched: list[str] = []

    def hook(request: httpx.Request) -> None:
        if "/v1/" not in request.url.path:
            fetched.append(str(request.url))

    http = httpx.Client(event_hooks={"request": [hook]})
    with sg.Client(api_key=server.api_key, base_url=server.base_url, http_client=http) as client:
        yield client, fetched
    http.close()


def test_models_table_columns_types_and_values(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = models_table(client)
    assert type(table) is SpeechgenFrame and isinstance(table, pd.DataFrame)
    assert list(table.columns) == list(MODEL_COLUMNS)
    by_id = table.set_index("model_id")
    for m in models:
        assert by_id.loc[m.model_id, "name"] == m.name
        assert by_id.loc[m.model_id, "status"] == "ready"
        assert by_id.loc[m.model_id, "sample"] == m.samples[0].text
    assert isinstance(table["created_at"].dtype, pd.DatetimeTZDtype)


def test_pandas_operations_keep_the_class_and_the_players(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = models_table(client)
    ours = table[table["model_id"].isin([m.model_id for m in models])]
    for derived in (
        ours.sort_values("name"),
        ours[ours["name"] != "Voice A"],
        ours.head(2),
        ours.copy(),
        ours[["model_id", "name", "sample"]],
        ours.reset_index(drop=True),
        pd.concat([ours, ours]),
    ):
        assert type(derived) is SpeechgenFrame
        assert derived._repr_html_().count("<audio") == len(derived)
    assert list(ours.sort_values("name")["name"]) == ["Voice A", "Voice B", "Voice C"]
    # Without the key column there is nothing to look the audio up by: plain text, no error.
    assert "<audio" not in ours[["name", "sample"]]._repr_html_()


def test_csv_and_plain_reprs_never_carry_audio(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = models_table(client)
    table._repr_html_()  # fetch and cache the audio first
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    csv = buffer.getvalue()
    assert "base64" not in csv and "<audio" not in csv and "data:audio" not in csv
    back = pd.read_csv(io.StringIO(csv))
    assert list(back.columns) == list(MODEL_COLUMNS) and len(back) == len(table)
    assert "<audio" not in repr(table)
    assert table.to_dict("records")[0]["sample"] is None or isinstance(table.to_dict("records")[0]["sample"], str)
    restored = pickle.loads(pickle.dumps(table))
    assert type(restored) is SpeechgenFrame and restored.equals(table)


def test_audio_is_fetched_once_and_only_for_the_rows_pandas_shows(counting_client, models: list[sg.VoiceModel]) -> None:
    client, fetched = counting_client
    table = models_table(client)
    assert fetched == []  # building the table fetches no audio
    many = pd.concat([table] * 10, ignore_index=True)  # 30+ rows sharing 3+ models
    with pd.option_context("display.max_rows", 6, "display.min_rows", 4):
        html = many._repr_html_()
    assert html.count("<audio") == 4  # 2 head + 2 tail rows shown
    assert len(fetched) == len(set(fetched)) <= len(table)
    before = len(fetched)
    many._repr_html_()
    assert len(fetched) == before  # cached


def test_html_escapes_user_text(client: sg.Client, sample_mp3: bytes) -> None:
    model = client.clone_voice(sample_mp3, "<script>alert(1)</script>", filename="x.mp3")
    table = models_table(client, models=[client.wait_for_model(model.model_id, 60)])
    html = table._repr_html_()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_voices_table(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = voices_table(client)
    assert list(table.columns) == ["voice_id", "name", "kind", "language", "sample"]
    custom = table[table["kind"] == "custom"]
    assert {m.voice_id for m in models} <= set(custom["voice_id"])
    assert custom._repr_html_().count("<audio") == len(custom)


def test_samples_table(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = samples_table(models[0], client)
    assert list(table["sample"]) == [s.text for s in models[0].samples]
    assert table._repr_html_().count("<audio") == len(table)


def test_a_failed_fetch_shows_in_the_cell_not_as_an_exception(client: sg.Client, models: list[sg.VoiceModel]) -> None:
    table = models_table(client)
    client.delete_model(models[-1].model_id)  # its sample URL now 404s
    html = table._repr_html_()
    assert "audio unavailable" in html
    assert html.count("<audio") == len(table) - 1
