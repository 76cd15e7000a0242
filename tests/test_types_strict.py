"""Fields of the wrong type in JSON answers: refused where the client acts on them, else dropped, never converted.

The rule is in speechgen_jupyter/types.py's docstring; `raw` always keeps what the server sent.
"""

from __future__ import annotations

import httpx
import pytest

import speechgen_jupyter as sg

from fakes import MODEL, Recorder
from speechgen_jupyter._operations import list_models_page, list_voices


@pytest.mark.parametrize(
    ("field", "value", "attr", "absent"),
    [
        ("usage_count", "7", "usage_count", None),
        ("usage_count", True, "usage_count", None),
        ("name", 5, "name", ""),
        ("name", {"first": "x"}, "name", ""),
        ("description", ["a", "b"], "description", None),
        ("samples", "x", "samples", ()),
        ("created_at", 1705314600, "created_at", None),
        ("estimated_completion", ["soon"], "estimated_completion", None),
    ],
)
def test_a_descriptive_field_of_the_wrong_type_is_dropped_not_converted(field, value, attr, absent) -> None:
    model = sg.VoiceModel.from_api(dict(MODEL, **{field: value}))
    assert getattr(model, attr) == absent
    assert model.raw[field] == value, "raw keeps what the server sent"


def test_inside_samples_and_errors_the_same_rule_holds() -> None:
    model = sg.VoiceModel.from_api(
        dict(MODEL, status="failed", error={"code": 5, "message": {"why": "x"}},
             samples=[{"title": 7, "text": ["t"], "audio_url": {"u": 1}}, "not a sample"])
    )
    assert model.error == sg.types.ModelError(code=None, message="")
    assert [(s.title, s.text, s.audio_url) for s in model.samples] == [("Sample", "", None)]
    voice = sg.Voice.from_api({"voice_id": "en-us-male-1", "name": 5, "kind": ["builtin"], "language": 1})
    assert (voice.name, voice.kind, voice.language) == ("en-us-male-1", "builtin", None)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (dict(MODEL, status=["ready"]), "'status' is list"),
        (dict(MODEL, status={"value": "ready"}), "'status' is dict"),
        (dict(MODEL, model_id=5), "'model_id' is int 5"),
        ({k: v for k, v in MODEL.items() if k != "model_id"}, "'model_id' is missing"),
        (dict(MODEL, status="ready", voice_id=["custom-1"]), "'voice_id' is list"),
    ],
)
def test_a_field_the_client_acts_on_of_the_wrong_type_is_refused(data, named) -> None:
    with pytest.raises(sg.UnexpectedResponseError, match=named) as caught:
        sg.VoiceModel.from_api(data)
    assert "Check the base URL" in str(caught.value)


def test_a_voice_whose_id_is_not_a_string_is_refused() -> None:
    with pytest.raises(sg.UnexpectedResponseError, match="voice whose 'voice_id' is int 5"):
        sg.Voice.from_api({"voice_id": 5, "name": "Five"})


@pytest.mark.parametrize(
    ("call", "body", "named"),
    [
        (lambda: list_models_page(None, 100), {"models": "x", "next_cursor": None}, "'models' is str, not a list"),
        (lambda: list_models_page(None, 100), {"next_cursor": None}, "'models' is missing"),
        (lambda: list_models_page(None, 100), {"models": [], "next_cursor": {"after": 1}}, "'next_cursor' is dict"),
        (list_voices, {"voices": {"en": "x"}}, "'voices' is dict, not a list"),
    ],
)
def test_a_listing_of_the_wrong_shape_is_refused_not_taken_for_empty(call, body, named) -> None:
    """The parser never reads a broken listing as "no models"; the client then treats such a 2xx as a server
    without our listing and falls back to its record (issue 11's rule, in _extras.is_absent)."""
    response = httpx.Response(200, json=body, request=httpx.Request("GET", "https://api.speechgen.test/v1/models"))
    with pytest.raises(sg.UnexpectedResponseError, match=named):
        call().parse(response)


def test_a_server_answering_its_listing_with_the_wrong_shape_falls_back_to_the_record(make_client) -> None:
    client = make_client(Recorder(httpx.Response(200, json={"models": "x", "next_cursor": None})))
    assert client.list_models() == []  # nothing made through this client yet: the record is empty
    assert client.extras.model_listing is False, "taken for a server without the listing, not for an empty one"
