"""Slow and endless clients: the server closes what would otherwise be held for ever.

Raw sockets, against a server started with short limits (header_timeout and
body_timeout of 0.5 s; the defaults are in speechgen_jupyter/local/limits.py):
- a connection that sends nothing, or its head a byte at a time, is closed;
- so is a kept-alive connection whose next head trickles, and bytes past a
  body's Content-Length that never make a request;
- a body that stops arriving is a 408, and an upload cut that way leaves no file;
- an answer given before the body was read (a 413 on a chunked upload) closes
  the connection instead of reading on.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from speechgen_jupyter.local import LocalServer

LIMIT = 0.5
SLACK = 1.5  # scheduling on a busy machine; the point is "closed", not "at 0.5 s exactly"


@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    return serve(transition="immediate", header_timeout=LIMIT, body_timeout=LIMIT)


def connect(server: LocalServer) -> socket.socket:
    parts = urlsplit(server.base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; fails if it has not closed `within` seconds."""
    started = time.monotonic()
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {within} s; it sent {data[:200]!r}")
    return data, time.monotonic() - started


def trickle(sock: socket.socket, data: bytes, every: float = 0.1) -> bool:
    """Send `data` a byte at a time; False once the server has closed the connection."""
    for byte in data:
        try:
            sock.send(bytes([byte]))
        except OSError:
            return False
        time.sleep(every)
    return True


def auth(server: LocalServer) -> bytes:
    return f"Authorization: Bearer {server.api_key}\r\n".encode()


def test_a_connection_that_sends_nothing_is_closed(server: LocalServer) -> None:
    with connect(server) as sock:
        data, took = read_until_closed(sock, LIMIT + SLACK)
    assert data == b"" and took >= LIMIT * 0.9


def test_a_head_sent_a_byte_at_a_time_is_closed(server: LocalServer) -> None:
    head = b"GET /v1/voices HTTP/1.1\r\nHost: x\r\n" + auth(server) + b"X-Slow: " + b"s" * 200 + b"\r\n\r\n"
    with connect(server) as sock:
        started = time.monotonic()
        finished = trickle(sock, head)
        assert not finished, "the server closed the connection before the head was complete"
        assert time.monotonic() - started < LIMIT + SLACK
    with connect(server) as sock:  # and it still serves
        sock.sendall(b"GET /v1/voices HTTP/1.1\r\nHost: x\r\n" + auth(server) + b"Connection: close\r\n\r\n")
        data, _ = read_until_closed(sock, 10)
    assert data.startswith(b"HTTP/1.1 200")


def test_a_kept_alive_connection_whose_next_head_trickles_is_closed(server: LocalServer) -> None:
    request = b"GET /v1/voices HTTP/1.1\r\nHost: x\r\n" + auth(server) + b"\r\n"
    with connect(server) as sock:
        sock.sendall(request)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        while b'"voices"' not in first or not first.rstrip().endswith(b"]}"):
            first += sock.recv(65536)
        started = time.monotonic()
        assert not trickle(sock, request * 3), "the slow second head was cut off"
        assert time.monotonic() - started < LIMIT + SLACK


def test_bytes_past_a_bodys_length_that_never_make_a_request_are_not_waited_on(server: LocalServer) -> None:
    body = b'{"text": "Hi.", "voice": "en-us-male-1"}'
    head = (b"POST /v1/text-to-speech HTTP/1.1\r\nHost: x\r\n" + auth(server)
            + b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head + body + b"GET /v1/voi")  # more than the length said, and then nothing more
        started = time.monotonic()
        assert not trickle(sock, b"ces HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 100, every=0.2)
        assert time.monotonic() - started < LIMIT + SLACK
    # (with no more bytes at all, uvicorn's keep-alive timeout, 5 s, closes it)


def test_a_body_that_stops_arriving_is_a_408_and_the_connection_closes(server: LocalServer) -> None:
    head = (b"POST /v1/text-to-speech HTTP/1.1\r\nHost: x\r\n" + auth(server)
            + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head + b'{"text": "')
        data, took = read_until_closed(sock, LIMIT + SLACK)
    status, _, rest = data.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408"), data[:300]
    assert b"connection: close" in rest.lower()
    assert b"request_timeout" in data and b"stopped arriving for 0.5 s" in data


def test_an_upload_that_stops_arriving_is_a_408_and_leaves_no_file(server: LocalServer, speech_mp3: bytes) -> None:
    boundary = b"slowuploadboundary"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="name"\r\n\r\nSlow\r\n--' + boundary
            + b'\r\nContent-Disposition: form-data; name="audio"; filename="s.mp3"\r\n\r\n' + speech_mp3
            + b"\r\n--" + boundary + b"--\r\n")
    head = (b"POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n" + auth(server)
            + b"Content-Type: multipart/form-data; boundary=" + boundary
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head + body[: len(body) // 2])  # half the sample, then silence
        data, _ = read_until_closed(sock, LIMIT + SLACK)
    assert data.startswith(b"HTTP/1.1 408"), data[:300]
    assert list((server.data_dir / "tmp").iterdir()) == [], "the half-received upload is gone"
    assert list((server.data_dir / "uploads").iterdir()) == []


def test_after_a_413_the_rest_of_a_chunked_upload_is_not_read(server: LocalServer) -> None:
    head = (b"POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n" + auth(server)
            + b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"\x00" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with connect(server) as sock:
        preamble = b'--b\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
        sock.sendall(head + f"{len(preamble):x}\r\n".encode() + preamble + b"\r\n")
        sock.setblocking(False)
        answer = b""
        sent = 0
        pending = chunk
        deadline = time.monotonic() + 30
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:  # 10 MB and a bit, until it answers
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            try:
                n = sock.send(pending)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            except OSError:
                break
            sent += n
            pending = pending[n:] or chunk  # whole chunks only: the framing must stay valid
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"connection: close" in answer.lower()
        # Go on sending: the server must have closed, so this soon fails (or reads the end of the stream).
        closed_by = time.monotonic() + 5
        closed = False
        while time.monotonic() < closed_by and not closed:
            try:
                n = sock.send(pending)
                pending = pending[n:] or chunk
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                closed = True
            try:
                closed = closed or sock.recv(65536) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
        assert closed, f"the server still reads the upload after answering 413 ({sent:,} bytes sent)"
