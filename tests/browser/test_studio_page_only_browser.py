"""The studio in a real chromium, in JupyterLab and in Notebook 7, on a server with only the page's endpoints.

What a new user with a key meets at the real service, as its page documents it: no model listing, no
voice listing. The studio must still open with their models and their voices (the models made from
this computer, from the record the kernel shares with this test), say once, quietly, what the server
lacks (no red error), track a model made with a plain HTTP call, speak with it, and delete it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import speechgen_jupyter as sg

from .pages import NotebookPage, media_duration

pytestmark = pytest.mark.browser

TEXT = "Only the page's four endpoints, and the studio still has everything."


def option_labels(nb: NotebookPage) -> list[str]:
    return nb.page.eval_on_selector_all(
        ".sg-voice select option", "os => os.map(o => o.textContent.replace(/\\u00a0/g, ' '))"
    )


@pytest.fixture
def own_models(page_only_speechgen, kernel_data: Path, monkeypatch):
    """The models a test makes, deleted afterwards (the server and the record outlive the test: Lab, then Notebook 7)."""
    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(kernel_data))
    made: list[str] = []
    yield made
    with sg.Client(api_key=page_only_speechgen.api_key, base_url=page_only_speechgen.base_url) as client:
        for model_id in made:
            try:
                client.delete_model(model_id)
            except sg.NotFoundError:
                pass


def test_models_and_voices_without_listings_track_speak_and_delete(
    nb, page_only_notebook, page_only_speechgen, sample_file: Path, own_models: list[str]
) -> None:
    server = page_only_speechgen
    sample = sample_file.read_bytes()
    # Made from "this computer" before the notebook opens: the kernel reads the same record.
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as client:
        remembered = client.wait_for_model(client.clone_voice(sample, "Remembered voice").model_id, 60)
    own_models.append(remembered.model_id)
    # Made elsewhere, with the page's curl example: nothing here knows of it yet.
    made = httpx.post(
        server.base_url + "/v1/voice-clone", headers={"Authorization": f"Bearer {server.api_key}"},
        files={"audio": ("voice_sample.mp3", sample, "audio/mpeg")}, data={"name": "Curl voice"}, timeout=60,
    ).json()["model_id"]
    own_models.append(made)

    page = nb.page
    nb.open(page_only_notebook)
    nb.run_all()
    page.locator(".sg-studio").wait_for()
    page.locator(".sg-table tbody tr", has_text="Remembered voice").wait_for()
    nb.wait_cells_done()
    # The models: this computer's, each as the server has it now; one quiet line, no error notice.
    assert page.locator(".sg-table tbody tr", has_text="Curl voice").count() == 0
    assert "This server has no model or voice listing" in page.locator(".sg-extras-line").inner_text()
    assert page.locator(".sg-notice-line[data-level=error]").count() == 0
    # The voices: the ready clones of those models, and no built-in voice (none is listed).
    assert option_labels(nb) == ["Remembered voice (your clone)"]
    nb.shot("1-opened")

    page.locator(".sg-track-id input").fill(made)
    page.locator(".sg-track").click()
    page.locator(".sg-table tbody tr", has_text="Curl voice").wait_for(timeout=30_000)
    page.wait_for_function(
        "document.querySelector('.sg-voice select option:checked').textContent.replace(/\\u00a0/g, ' ') === 'Curl voice (your clone)'"
    )
    assert sorted(option_labels(nb)) == ["Curl voice (your clone)", "Remembered voice (your clone)"]
    assert f"Tracking Curl voice ({made})." in page.locator(".sg-notice-line[data-level=ok]").all_inner_texts()[0]
    nb.shot("2-tracked")

    page.locator(".sg-text textarea").fill(TEXT)
    page.locator(".sg-speak-button").click()
    audio = page.locator(".sg-speak-player audio[data-clip]")
    audio.wait_for(state="attached")
    assert media_duration(audio) > 2.0
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as client:
        tracked = client.record.get(made)  # the kernel tracked it: the shared record says so
        assert tracked is not None and tracked.voice_id
        assert client.get_model(made).usage_count == 1  # spoken with the tracked voice, once
    nb.shot("3-spoken")

    row = page.locator(".sg-table tbody tr", has_text="Curl voice")
    row.click()
    page.locator(".sg-delete").click()
    page.locator(".sg-confirm-delete").click()
    row.wait_for(state="detached")
    assert option_labels(nb) == ["Remembered voice (your clone)"]
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as client:
        with pytest.raises(sg.NotFoundError):
            client.get_model(made)
        assert client.record.get(made) is None and client.record.get(remembered.model_id) is not None
    nb.shot("4-deleted")
    assert server.api_key not in page.content()
    assert not nb.errors, nb.errors
