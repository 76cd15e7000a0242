"""/openapi.json is valid, lists exactly the routes, and real responses match what it documents.

Another issue fuzzes this server from the document, so it is checked against
the server's actual answers here, status by status and body by body.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import pytest

from speechgen_jupyter.local import LocalServer, start

from .helpers import clone


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` becomes a "null" type; examples go."""
    if isinstance(node, dict):
        out = {k: as_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


def validate_body(doc: dict[str, Any], body: Any, schema: dict[str, Any]) -> None:
    root = as_json_schema({**schema, "components": doc["components"]})
    jsonschema.Draft202012Validator(root).validate(body)


@pytest.fixture(scope="module")
def doc(server: LocalServer) -> dict[str, Any]:
    return httpx.get(server.base_url + "/openapi.json").json()  # public: no key


def operation_for(doc: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return ops.get(method.lower())
    raise AssertionError(f"{path} is not in the document")


def conforms(doc: dict[str, Any], response: httpx.Response) -> None:
    """The response's status, content type, headers and JSON body are what the document says."""
    op = operation_for(doc, response.request.method, response.request.url.path)
    if op is None:  # a method the path does not have: 405, Allow, and the error body
        assert response.status_code == 405 and response.headers["allow"]
        validate_body(doc, response.json(), {"$ref": "#/components/schemas/Error"})
        return
    spec = op["responses"].get(str(response.status_code))
    assert spec is not None, f"{response.status_code} undocumented for {op['operationId']}"
    assert "x-request-id" in spec["headers"] and response.headers["x-request-id"]
    if "Retry-After" in spec["headers"]:
        assert int(response.headers["retry-after"]) >= 0
    content = spec.get("content")
    if content is None:
        assert response.content == b""
        return
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, (media_type, list(content))
    if media_type == "application/json":
        validate_body(doc, response.json(), content[media_type]["schema"])


def test_the_validation_here_can_fail(doc: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate_body(doc, {"error": {"code": 1}}, {"$ref": "#/components/schemas/Error"})
    with pytest.raises(jsonschema.ValidationError):
        validate_body(doc, {"models": [], "next_cursor": 5}, {"$ref": "#/components/schemas/ModelList"})
    validate_body(doc, {"models": [], "next_cursor": None}, {"$ref": "#/components/schemas/ModelList"})


def test_the_document_is_valid_and_lists_exactly_the_routes() -> None:
    spec_validator = pytest.importorskip("openapi_spec_validator")
    with start() as plain, start(admin=True) as admin:
        doc = httpx.get(plain.base_url + "/openapi.json").json()
        admin_doc = httpx.get(admin.base_url + "/openapi.json").json()
    spec_validator.validate(doc)
    spec_validator.validate(admin_doc)
    api_paths = {
        "/v1/voice-clone": {"post"},
        "/v1/models": {"get"},
        "/v1/models/{model_id}": {"get", "delete"},
        "/v1/text-to-speech": {"post"},
        "/v1/voices": {"get"},
        "/cdn/samples/{token}.mp3": {"get"},
        "/openapi.json": {"get"},
    }
    admin_paths = {
        "/_admin/state": {"get"}, "/_admin/requests": {"get"}, "/_admin/transition": {"put"}, "/_admin/faults": {"put"},
        "/_admin/reset": {"post"},
    }

    def methods(document: dict) -> dict[str, set[str]]:
        return {p: {m for m in ops if m != "parameters"} for p, ops in document["paths"].items()}

    assert methods(doc) == api_paths
    assert methods(admin_doc) == {**api_paths, **admin_paths}
    assert doc["paths"]["/cdn/samples/{token}.mp3"]["get"]["security"] == []
    assert doc["components"]["schemas"]["VoiceCloneForm"]["properties"]["name"]["maxLength"] == 200
    assert doc["components"]["schemas"]["TextToSpeechRequest"]["properties"]["text"]["maxLength"] == 5000


def test_successful_responses_match_the_document(doc: dict, api: httpx.Client, speech_mp3: bytes) -> None:
    created = clone(api, speech_mp3, "Documented", description="d")
    conforms(doc, created)
    model_id = created.json()["model_id"]
    got = api.get(f"/v1/models/{model_id}")
    conforms(doc, got)
    voice_id = got.json()["voice_id"]
    conforms(doc, api.get("/v1/models", params={"limit": 1}))
    conforms(doc, api.get("/v1/voices"))
    for fmt in ("mp3", "wav", "ogg", "flac"):
        conforms(doc, api.post("/v1/text-to-speech", json={"text": "Documented.", "voice": voice_id, "format": fmt}))
    conforms(doc, httpx.get(created.json()["samples"][0]["audio_url"]))
    conforms(doc, api.get("/_admin/state"))
    conforms(doc, api.put("/_admin/transition", json={"progression": "immediate"}))
    conforms(doc, api.put("/_admin/faults", json={}))
    conforms(doc, api.delete(f"/v1/models/{model_id}"))


def test_error_responses_match_the_document(doc: dict, server: LocalServer, api: httpx.Client, speech_mp3: bytes) -> None:
    responses = [
        httpx.get(server.base_url + "/v1/models"),  # 401
        api.get("/v1/models/vm_unknown"),  # 404
        api.put("/v1/models/vm_unknown"),  # 405
        api.get("/v1/models?limit=0"),  # 400
        api.post("/v1/text-to-speech", json={"text": "hi", "voice": "nobody"}),  # 404
        api.post("/v1/text-to-speech", content=b"{"),  # 400
        api.post("/v1/voice-clone", files={"audio": ("a.mp3", b"not audio")}, data={"name": "x"}),  # 415
        api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3[:2000])}, data={"name": "x"}),  # 422
        api.post("/v1/voice-clone", files={"audio": ("a.mp3", b"\0" * (10 * 1024 * 1024 + 1))}, data={"name": "x"}),  # 413
        httpx.get(server.base_url + "/cdn/samples/" + "x" * 32 + ".mp3"),  # 404, public
        api.put("/_admin/faults", json={"rate": 9}),  # 400
    ]
    first = clone(api, speech_mp3, "key", headers={"Idempotency-Key": "doc-key"})
    responses.append(clone(api, speech_mp3, "other", headers={"Idempotency-Key": "doc-key"}))  # 409
    statuses = {r.status_code for r in responses}
    assert statuses == {400, 401, 404, 405, 409, 413, 415, 422}, statuses
    for r in responses:
        conforms(doc, r)
    api.delete(f"/v1/models/{first.json()['model_id']}")


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504"])
def test_injected_faults_match_the_document(doc: dict, api: httpx.Client, kind: str) -> None:
    api.put("/_admin/faults", json={"rate": 1.0, "kinds": [kind], "retry_after": 0})
    try:
        for r in (api.get("/v1/models"), api.post("/v1/text-to-speech", json={"text": "x", "voice": "en-us-male-1"})):
            assert r.status_code == int(kind)
            conforms(doc, r)
    finally:
        api.put("/_admin/faults", json={})
