"""Every case of the bad-input corpus (corpus.py): a 4xx that says what to do, and nothing else changes.

For each case, against one server that already holds two ready voice models:
- the answer is the case's 4xx status and code, in exactly the API's error
  body, with a message that is a sentence telling the user what to do (not a
  stack trace, not an exception's name);
- the server still serves (a fresh request right after it succeeds);
- the store is unchanged: the model counts of GET /_admin/state, the whole
  listing (ids, names, statuses, usage counts) and every file under the data
  directory are the same before and after (no new row, no stray temp file, no
  half-written upload).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .corpus import GROUPS, BadInput, Target, build_corpus
from .support import Snapshot, assert_api_error, snapshot

CORPUS = build_corpus()


@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    return serve(admin=True, transition="immediate")


@pytest.fixture(scope="module")
def target(server: LocalServer, speech_mp3: bytes) -> Iterator[Target]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=120) as api:
        for name in ("Existing one", "Existing two"):  # a store with something in it to lose
            created = api.post("/v1/voice-clone", files={"audio": ("seed.mp3", speech_mp3)}, data={"name": name})
            assert created.status_code == 201, created.text
            ready = api.get(f"/v1/models/{created.json()['model_id']}").json()
            assert ready["status"] == "ready"
            assert api.post("/v1/text-to-speech", json={"text": "Used once.", "voice": ready["voice_id"]}).status_code == 200
        yield Target(api, server.base_url, server.api_key)


def test_the_corpus_is_large_and_covers_every_kind_of_bad_input() -> None:
    assert len(CORPUS) >= 40, len(CORPUS)
    assert {case.group for case in CORPUS} == set(GROUPS)
    assert {case.status for case in CORPUS} == {400, 404, 413, 415, 422}


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(case: BadInput, target: Target, server: LocalServer) -> None:
    before: Snapshot = snapshot(target.api, server.data_dir)

    response = case.send(target)

    error = assert_api_error(response, case.status, case.code)
    assert server.api_key not in response.text
    assert "/" + str(server.data_dir).strip("/") not in error["message"], "no server paths in messages"
    still = target.api.get("/v1/voices")
    assert still.status_code == 200 and still.json()["voices"], "the server still serves"
    after = snapshot(target.api, server.data_dir)
    assert after.counts == before.counts
    assert after.listing == before.listing
    assert after.files == before.files, f"stray files: {sorted(after.files ^ before.files)}"
