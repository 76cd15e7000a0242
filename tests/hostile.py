"""A raw-socket HTTP/1.1 server on loopback that misbehaves on purpose, for the client's edge tests.

The local server answers properly; the failures a client must survive come
from elsewhere (a proxy's login page, a CDN streaming without end, a server
trickling its answer a byte at a time). Those are made here for real: a
listening socket on 127.0.0.1, one thread per connection, and a `behaviour`
that writes whatever bytes it likes. Every behaviour is bounded: it stops when
the client goes away, when the server is closed, or after `MAX_SECONDS`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SECONDS = 30.0  # no behaviour runs longer than this, whatever the client does


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Conn:
    """One client connection as a behaviour sees it: write, wait, and know when the client is gone."""

    sock: socket.socket
    stop: threading.Event
    started: float = field(default_factory=time.monotonic)
    sent: int = 0

    def send(self, data: bytes) -> bool:
        """Write `data`; False once the client has gone (or the time is up)."""
        if self.stop.is_set() or time.monotonic() - self.started > MAX_SECONDS:
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def wait(self, seconds: float) -> bool:
        """Sleep, but wake when the server closes; False if it did."""
        return not self.stop.wait(seconds)


Behaviour = Callable[[Conn, Received], None]


class HostileServer:
    """`HostileServer(behaviour)`: `.base_url`, `.requests` (what clients sent), `.close()`."""

    def __init__(self, behaviour: Behaviour, *, read_requests: bool = True) -> None:
        self.behaviour = behaviour
        self.read_requests = read_requests
        self.requests: list[Received] = []
        self.conns: list[Conn] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        if not read_requests:
            # A small receive window (set before accept, so it is what is advertised): a request body
            # that the server never reads then blocks the client after a few MB, not after the kernel's
            # autotuned buffers have swallowed all of it.
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self._listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), name="hostile-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        conn = Conn(sock, self._stop)
        self.conns.append(conn)
        try:
            sock.settimeout(MAX_SECONDS)
            request = self._read_request(sock) if self.read_requests else Received("", "", {}, b"")
            if request is not None:
                self.requests.append(request)
                self.behaviour(conn, request)
        except OSError:
            pass
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    @staticmethod
    def _read_request(sock: socket.socket) -> Received | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return Received(method, path, headers, body)

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once (Linux)
        except OSError:
            pass
        self._listener.close()
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- behaviours ------------------------------------------------------------------------------


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: str, body: bytes, content_type: str | None, **headers: str) -> Behaviour:
    """A whole answer at once (the usual, well-formed case), with whatever it says inside."""

    def behave(conn: Conn, request: Received) -> None:
        extra = dict(headers)
        if content_type is not None:
            extra["Content-Type"] = content_type
        conn.send(head(status, Content_Length=str(len(body)), Connection="close", **extra) + body)

    return behave


def trickle_body(declared: int = 1000, every: float = 0.2, content_type: str = "audio/mpeg") -> Behaviour:
    """Headers at once, then the declared body one byte at a time: every read succeeds, none finishes it."""

    def behave(conn: Conn, request: Received) -> None:
        if not conn.send(head(Content_Type=content_type, Content_Length=str(declared))):
            return
        for _ in range(declared):
            if not conn.wait(every) or not conn.send(b"\x00"):
                return

    return behave


def trickle_head(every: float = 0.2) -> Behaviour:
    """The status line and headers one byte at a time, never reaching the end of them."""

    def behave(conn: Conn, request: Received) -> None:
        for byte in head(Content_Type="audio/mpeg", Content_Length="10", X_Padding="p" * 10_000):
            if not conn.wait(every) or not conn.send(bytes([byte])):
                return

    return behave


def stall_after_head() -> Behaviour:
    """Headers, then silence until the client gives up."""

    def behave(conn: Conn, request: Received) -> None:
        if conn.send(head(Content_Type="audio/mpeg", Content_Length="1000")):
            conn.wait(MAX_SECONDS)

    return behave


def zeros(declared: int | None, content_type: str = "audio/mpeg") -> Behaviour:
    """A 200 of zeros as fast as the socket takes them: with a huge Content-Length, or none (read to close)."""

    def behave(conn: Conn, request: Received) -> None:
        length = {"Content_Length": str(declared)} if declared is not None else {"Connection": "close"}
        if not conn.send(head(Content_Type=content_type, **length)):
            return
        chunk = b"\x00" * 65536
        while conn.send(chunk):
            pass

    return behave


def never_read() -> Behaviour:
    """Accept the connection and never read a byte of the request: an upload's writes block."""

    def behave(conn: Conn, request: Received) -> None:
        conn.wait(MAX_SECONDS)

    return behave
