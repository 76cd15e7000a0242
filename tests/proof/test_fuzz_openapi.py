"""Property-based fuzzing of the local server from its own /openapi.json, with schemathesis.

The document is read from the live server (as any tool would), schemathesis
turns every operation into Hypothesis strategies, positive (requests the
document allows) and negative (requests it forbids), and each generated
request goes over real loopback HTTP to a real server with a real store.
Every answer must be no 5xx, a status the document lists for that operation,
the content type and headers it lists, a body its schema accepts, and, for a
4xx, a message that says what to do.

Blind fuzzing would almost never name a voice, model or sample that exists,
so a share of the requests is steered to real ones (and the uploads to real
speech): the document's strategies give the shape, the server's own state
gives the values that reach deep code (synthesis with a clone, the CDN file,
deleting a model the worker is cloning).

Size: SPEECHGEN_FUZZ_EXAMPLES requests (default 300, fixed seed, for CI; a
nightly run sets 1000 or more, and SPEECHGEN_FUZZ_SEED to explore anew).
"""

from __future__ import annotations

import collections
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from speechgen_jupyter.local import LocalServer
from speechgen_jupyter.local.services import DB_NAME

from .support import assert_clear_message, data_files, sized

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = sized("SPEECHGEN_FUZZ_EXAMPLES", 300)
SEED = sized("SPEECHGEN_FUZZ_SEED", 20_260_701)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
#: Left out of the fuzzing, on purpose: PUT /_admin/faults exists to make the server answer 5xx (that is
#: its job, proved in the fault suite), and POST /_admin/reset would wipe the models the fuzzer aims at.
EXCLUDED = ("/_admin/faults", "/_admin/reset")


@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    return serve(admin=True, transition="immediate")


class Targets:
    """Real voices, models and sample tokens, kept current from the answers the fuzzer gets."""

    def __init__(self, server: LocalServer, session: requests.Session, speech: bytes) -> None:
        self.server = server
        self.session = session
        self.speech = speech
        self.voices = [v["voice_id"] for v in self._get("/v1/voices")["voices"]]
        self.models: dict[str, dict[str, Any]] = {}
        for i in range(2):  # two real clones to aim at from the start; never deleted, so always there to aim at
            r = session.post(server.base_url + "/v1/voice-clone", files={"audio": ("seed.mp3", speech)},
                             data={"name": f"fuzz seed {i}"})
            assert r.status_code == 201, r.text
            self.learn(self._get(f"/v1/models/{r.json()['model_id']}"))
        self.protected = set(self.models)

    def _get(self, path: str) -> dict[str, Any]:
        r = self.session.get(self.server.base_url + path)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def learn(self, model: dict[str, Any]) -> None:
        self.models[model["model_id"]] = model
        if model.get("voice_id") and model["voice_id"] not in self.voices:
            self.voices.append(model["voice_id"])

    def tokens(self) -> list[str]:
        """Sample tokens of models last seen ready (a processing model's sample is not rendered yet)."""
        return [s["audio_url"].rsplit("/", 1)[1].removesuffix(".mp3")
                for m in self.models.values() if m["status"] == "ready" for s in m["samples"]]

    def deletable(self) -> list[str]:
        return [m for m in self.models if m not in self.protected]


def steer(case: Any, targets: Targets, pick: Callable[[list[str]], str | None]) -> None:
    """Point a generated request at something that exists (when `pick` chooses to), keeping its shape."""
    label = case.operation.label
    if label == "POST /v1/text-to-speech" and isinstance(case.body, dict):
        voice = pick(targets.voices)
        if voice is not None:
            case.body["voice"] = voice
    elif label.endswith("/v1/models/{model_id}") and isinstance(case.path_parameters, dict):
        model_id = pick(targets.deletable() if label.startswith("DELETE") else list(targets.models))
        if model_id is not None:
            case.path_parameters["model_id"] = model_id
    elif label == "GET /cdn/samples/{token}.mp3" and isinstance(case.path_parameters, dict):
        token = pick(targets.tokens())
        if token is not None:
            case.path_parameters["token"] = token
    elif label == "POST /v1/voice-clone" and isinstance(case.body, dict) and pick(["real speech"]) is not None:
        case.body["audio"] = targets.speech


def record(case: Any, response: requests.Response, targets: Targets) -> None:
    label = case.operation.label
    if label == "POST /v1/voice-clone" and response.status_code == 201 or label == "GET /v1/models/{model_id}" and response.status_code == 200:
        targets.learn(response.json())
    elif label == "DELETE /v1/models/{model_id}" and response.status_code == 204:
        targets.models.pop(case.path_parameters["model_id"], None)


@pytest.fixture(scope="module")
def session(server: LocalServer) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {server.api_key}"
        yield s


def test_fuzzing_from_the_servers_own_document(server: LocalServer, session: requests.Session, speech_mp3: bytes) -> None:
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    for path in EXCLUDED:
        schema = schema.exclude(path=path)
    operations = {op.ok().label for op in schema.get_all_operations()}
    document = session.get(server.base_url + "/openapi.json").json()
    # Every documented operation but those left out, and GET /openapi.json (it has no inputs to
    # fuzz, and schemathesis does not offer the operation that served it the document).
    documented = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops
                  if method != "parameters" and path not in (*EXCLUDED, "/openapi.json")}
    assert operations == documented and len(operations) == 10, operations  # GET /_admin/requests included (issue 12)
    targets = Targets(server, session, speech_mp3)
    auth = {"Authorization": f"Bearer {server.api_key}"}
    strategy = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    seen: collections.Counter[tuple[str, int]] = collections.Counter()

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, data=st.data())
    def fuzz(case: Any, data: st.DataObject) -> None:
        def pick(values: list[str]) -> str | None:
            # The same two draws whatever `values` holds, so a failing example replays exactly.
            aim = data.draw(st.integers(0, 99), label="aim at something real (< 40)")
            which = data.draw(st.integers(0, 2**16), label="which")
            return values[which % len(values)] if values and aim < 40 else None

        steer(case, targets, pick)
        response = case.call(base_url=server.base_url, session=session, headers=auth, timeout=150)
        seen[(case.operation.label, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS, headers=auth)
        if 400 <= response.status_code < 500:
            assert_clear_message(response.json()["error"]["message"])
        record(case, response, targets)

    started = time.monotonic()
    fuzz()
    elapsed = time.monotonic() - started
    total = sum(seen.values())
    statuses = collections.Counter(status for _, status in seen.elements())
    print(f"\nfuzzed {total} requests in {elapsed:.1f} s over {len(operations)} operations; statuses {dict(sorted(statuses.items()))}")

    assert total >= EXAMPLES, total  # one request per generated example, all sent
    assert {label for label, _ in seen} == operations, "every operation was fuzzed"
    # The steering worked: the deep paths were reached, not only the refusals.
    for label, status in [("POST /v1/voice-clone", 201), ("POST /v1/text-to-speech", 200),
                          ("GET /v1/models/{model_id}", 200), ("GET /cdn/samples/{token}.mp3", 200)]:
        assert seen[(label, status)] > 0, (label, status, dict(seen))
    assert all(status < 500 for status in statuses)

    # After it all: still serving, no temp file left, and a store SQLite itself calls sound.
    assert session.get(server.base_url + "/v1/voices").status_code == 200
    assert not [f for f in data_files(server.data_dir) if f.startswith("tmp/")]
    with sqlite3.connect(server.data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    if os.environ.get("SPEECHGEN_FUZZ_REPORT"):
        for (label, status), n in sorted(seen.items()):
            print(f"  {label:35} {status}  {n}")
