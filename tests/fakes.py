"""Hand-made server answers for the client's unit tests (httpx.MockTransport).

Used only where a fault must happen at an exact request; everything else runs
against the real local server.
"""

from __future__ import annotations

import httpx

KEY = "sk_test_0123456789abcdef_SECRET"

MODEL = {
    "model_id": "vm_abc123xyz",
    "name": "My Custom Voice",
    "description": "Professional narrator voice",
    "status": "processing",
    "created_at": "2024-01-15T10:30:00Z",
    "estimated_completion": "2024-01-15T10:31:00Z",
    "samples": [
        {
            "title": "Default Sample",
            "text": "This is a demonstration of the voice clone...",
            "audio_url": "https://cdn.speechgen.test/samples/abc123.mp3",
        }
    ],
}


class Recorder:
    """A fake server endpoint that records what it was sent."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def multipart_fields(request: httpx.Request) -> dict[str, bytes]:
    """Parse a multipart body with the stdlib's email parser (independent of httpx)."""
    import email
    from email.policy import HTTP

    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + request.content, policy=HTTP)
    fields = {}
    for part in message.iter_parts():
        fields[part.get_param("name", header="content-disposition")] = part.get_payload(decode=True)
        if part.get_filename():
            fields["_filename"] = part.get_filename().encode()
            fields["_content_type"] = part.get_content_type().encode()
    return fields
