"""The studio against the real local server: table and voices load, Speak plays (once per click),
a row's details and sample show, delete asks first, a clone flows into the voice picker, and no
key or sample lands in widget state."""

from __future__ import annotations

import pytest
from widgets_helpers import holds_bytes, pick, saved_widget_state, wait_until

import speechgen_jupyter as sg
from speechgen_jupyter.errors import NotFoundError
from speechgen_jupyter.widgets import StatusWidget, Studio

pytest_plugins = ["widgets_env"]

TEXT = "The quick brown fox jumps over the lazy dog by the river."


@pytest.fixture
def ready_model(client, sample_mp3):
    model = client.clone_voice(sample_mp3, "Studio fixture", "for the studio tests", filename="fixture.mp3")
    return client.wait_for_model(model.model_id, 60)


def loaded(studio: Studio) -> Studio:
    assert studio.models_busy.wait(60)
    return studio


def test_the_table_and_the_voice_picker_load(client, ready_model, closing, page_only) -> None:
    asked_before = client.requests.count(("GET", f"/v1/models/{ready_model.model_id}"))
    studio = loaded(closing(Studio(client)))
    ids = [row["model_id"] for row in studio.table.rows]
    assert ready_model.model_id in ids
    row = next(r for r in studio.table.rows if r["model_id"] == ready_model.model_id)
    assert row["status"] == "ready" and row["voice_id"] == ready_model.voice_id and row["name"] == "Studio fixture"
    labels = {v: k for k, v in studio.voice.options}
    assert labels[ready_model.voice_id] == "Studio fixture (your clone)"
    # Built-in voices only where the server lists them.
    assert any(label.endswith("(built-in)") for label in labels.values()) is not page_only
    assert studio.voice.value  # something is picked, so Speak works at once
    assert studio.models_notice.level == ""  # no error for what a server simply does not offer...
    assert client.requests.count(("GET", "/v1/models")) == 1 and client.requests.count(("GET", "/v1/voices")) == 1
    if page_only:  # ...just one quiet line, and each remembered model asked for once (none twice for the voices)
        assert "This server has no model or voice listing" in studio.extras_note.value
        assert client.requests.count(("GET", f"/v1/models/{ready_model.model_id}")) == asked_before + 1
    else:
        assert studio.extras_note.value == ""


def test_speak_plays_the_result_and_a_double_click_sends_once(client, admin, closing, page_only) -> None:
    studio = loaded(closing(Studio(client)))
    admin.faults({"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.6, "paths": ["/v1/text-to-speech"]})
    studio.text.value = TEXT
    if page_only:  # nothing lists it there: typed into the free field, as a voice id one knows
        studio.voice_field.value = "en-us-female-2"
    else:
        studio.voice.value = "en-us-female-2"
    studio.format.value = "wav"
    studio.speak_button.click()
    assert studio.speak_button.disabled and studio.speak_notice.level == "working"
    studio.speak_button.click()
    assert studio.speak_busy.refused == 1
    assert studio.speak_busy.wait(60)
    assert client.count("POST", "/v1/text-to-speech") == 1
    speech = studio.player.speech
    assert speech is not None and speech.format == "wav" and speech.voice == "en-us-female-2" and speech.text == TEXT
    assert studio.player.audio == speech.data and 2.0 < speech.duration < 8.0
    assert not studio.speak_button.disabled and studio.speak_notice.level == ""


def test_speak_with_no_text_says_so_and_sends_nothing(client, closing) -> None:
    studio = loaded(closing(Studio(client)))
    studio.text.value = "   "
    studio.speak_button.click()
    assert studio.speak_busy.wait(30)
    assert studio.speak_notice.level == "error" and studio.speak_notice.text == "There is no text to speak: the text is empty."
    assert client.count("POST", "/v1/text-to-speech") == 0
    assert studio.player.speech is None


def test_a_selected_row_shows_details_and_its_sample_and_can_be_spoken_with(client, ready_model, closing) -> None:
    studio = loaded(closing(Studio(client)))
    studio.voice_field.value = "en-us-male-1"  # typed: it would win over the list...
    studio.table.selected = ready_model.model_id  # a click on the row, as the browser syncs it
    assert ready_model.model_id in studio.details.value and "Studio fixture" in studio.details.value
    assert studio.actions.layout.display == "" and not studio.use_button.disabled
    assert studio.sample_busy.wait(30)
    (sample,) = ready_model.samples
    assert studio.sample_player.audio == client.sample_audio(sample, ready_model).data
    studio.use_button.click()
    assert studio.voice.value == ready_model.voice_id and studio.voice_field.value == ""  # ...until this voice is chosen
    studio.table.selected = ""
    assert studio.details.value == "" and studio.actions.layout.display == "none" and studio.sample_player.audio == b""


def test_delete_asks_first_then_deletes_and_reloads(client, ready_model, closing) -> None:
    studio = loaded(closing(Studio(client)))
    studio.table.selected = ready_model.model_id
    studio.delete_button.click()
    assert studio.confirm.layout.display == ""
    assert "Studio fixture" in studio.confirm_text.value and ready_model.model_id in studio.confirm_text.value
    studio.confirm_no.click()
    assert studio.confirm.layout.display == "none"
    assert client.count("DELETE") == 0 and client.get_model(ready_model.model_id).is_ready

    studio.delete_button.click()
    studio.confirm_yes.click()
    assert studio.models_busy.wait(60)
    assert client.count("DELETE", ready_model.model_id) == 1
    with pytest.raises(NotFoundError):
        client.get_model(ready_model.model_id)
    assert ready_model.model_id not in [r["model_id"] for r in studio.table.rows]
    assert studio.table.selected == "" and studio.confirm.layout.display == "none"
    assert ready_model.voice_id not in [v for _, v in studio.voice.options]
    assert studio.models_notice.level == "ok" and "Deleted Studio fixture" in studio.models_notice.text


def test_deleting_a_model_someone_else_deleted_shows_the_servers_words(client, ready_model, closing) -> None:
    studio = loaded(closing(Studio(client)))
    studio.table.selected = ready_model.model_id
    client.delete_model(ready_model.model_id)  # gone behind the studio's back
    studio.delete_button.click()
    studio.confirm_yes.click()
    assert studio.models_busy.wait(60)
    assert studio.models_notice.level == "error" and "HTTP 404" in studio.models_notice.text
    assert "Unexpected" not in studio.models_notice.text


def test_a_clone_made_in_the_studio_becomes_the_picked_voice_when_ready(client, admin, sample_mp3, closing) -> None:
    admin.transition({"progression": "polls", "times": 2})
    studio = loaded(closing(Studio(client)))
    pick(studio.upload.picker, sample_mp3, "me.mp3")
    studio.upload.name.value = "Made in the studio"
    studio.upload.clone_button.click()
    assert studio.upload.busy.wait(60)
    status = studio.upload.status
    assert isinstance(status, StatusWidget) and status.join(60) and status.state == "ready"
    wait_until(lambda: studio.voice.value == status.model.voice_id and not studio.models_busy.active, what="the new voice picked")
    row = next(r for r in studio.table.rows if r["model_id"] == status.voice_model_id)
    assert row["status"] == "ready"
    assert not holds_bytes(saved_widget_state(), sample_mp3)


def test_a_selected_model_still_cloning_gets_a_live_status_panel(client, admin, sample_mp3, closing) -> None:
    admin.transition({"progression": "time", "seconds": 1.5})
    model = client.clone_voice(sample_mp3, "Cloning elsewhere", filename="elsewhere.mp3")
    studio = loaded(closing(Studio(client)))
    studio.table.selected = model.model_id
    watch = studio.watch
    assert isinstance(watch, StatusWidget) and studio.watch_box.children == (watch,)
    assert watch.join(30) and watch.state == "ready"
    wait_until(
        lambda: not studio.models_busy.active and studio.table.selected_model.is_ready, what="the table to reload"
    )
    assert studio.watch is None  # ready: no panel to watch any more
    assert watch.polling is False


def test_closing_the_studio_stops_its_polling(client, admin, sample_mp3) -> None:
    admin.transition({"progression": "time", "seconds": 600})
    model = client.clone_voice(sample_mp3, "Never ready", filename="never.mp3")
    studio = loaded(Studio(client))
    studio.table.selected = model.model_id
    watch = studio.watch
    assert watch is not None and watch.polling
    studio.close()
    assert watch.join(2.0)


def test_studio_uses_the_shared_client_and_refuses_an_async_one(client, wserver, closing) -> None:
    previous = sg.set_client(client)
    try:
        studio = loaded(closing(sg.studio()))
        assert isinstance(studio, Studio) and studio.client is client
    finally:
        sg.set_client(previous)
    with pytest.raises(TypeError, match="not an AsyncClient"):
        Studio(sg.AsyncClient(api_key=wserver.api_key, base_url=wserver.base_url))


def test_no_key_anywhere_in_the_widget_state(client, ready_model, closing) -> None:
    studio = loaded(closing(Studio(client)))
    studio.text.value = TEXT
    studio.speak_button.click()
    studio.table.selected = ready_model.model_id
    assert studio.speak_busy.wait(30) and studio.sample_busy.wait(30)
    state = saved_widget_state()
    assert studio.player.speech is not None and holds_bytes(state, studio.player.speech.data)  # the probe works
    assert client.api_key.reveal() not in state
    assert client.api_key.reveal() not in repr(studio)


def test_a_model_made_with_plain_http_is_tracked_from_the_studio_and_spoken_with(client, wserver, sample_mp3, closing, page_only) -> None:
    import httpx

    made = httpx.post(
        wserver.base_url + "/v1/voice-clone", headers={"Authorization": f"Bearer {wserver.api_key}"},
        files={"audio": ("voice_sample.mp3", sample_mp3, "audio/mpeg")}, data={"name": "Curl voice"}, timeout=60,
    ).json()["model_id"]
    studio = loaded(closing(Studio(client)))
    assert (made in [r["model_id"] for r in studio.table.rows]) is not page_only  # only a listing knows of it
    studio.track_field.value = f"  {made} "
    studio.track_button.click()
    wait_until(lambda: made in [r["model_id"] for r in studio.table.rows] and not studio.models_busy.active, what="the tracked row")
    assert studio.models_notice.text == f"Tracking Curl voice ({made})." and studio.track_field.value == ""
    voice_id = client.record.get(made).voice_id
    assert studio.voice.value == voice_id  # ready: picked, as a new clone is
    studio.text.value = "Tracked from the studio."
    studio.speak()
    assert studio.speak_busy.wait(60) and studio.player.speech.voice == voice_id


def test_tracking_nothing_or_an_unknown_id_says_why_and_keeps_the_table(client, closing) -> None:
    studio = loaded(closing(Studio(client)))
    rows = list(studio.table.rows)
    assert studio.track() is False and "Type the model id" in studio.models_notice.text
    studio.track_field.value = "vm_00000000000000000000"
    studio.track_button.click()
    assert studio.models_busy.wait(30)
    assert studio.models_notice.level == "error" and "No voice model with that id" in studio.models_notice.text
    assert studio.table.rows == rows and studio.track_field.value == "vm_00000000000000000000"  # nothing lost
    assert client.record.get("vm_00000000000000000000") is None
