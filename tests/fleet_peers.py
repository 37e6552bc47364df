"""Misbehaving peers on loopback for the fleet tests: silent, trickling, resetting, redirecting."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator


class _Peer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    stop = threading.Event()


class _Trickle(socketserver.BaseRequestHandler):
    """Answers one byte a second: each read is quick, only a total deadline ends the request."""

    def handle(self) -> None:
        answer = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            + b" " * 100000
        )
        for byte in answer:
            if self.server.stop.wait(1.0):  # type: ignore[attr-defined]
                return
            with contextlib.suppress(OSError):
                self.request.sendall(bytes([byte]))


class _Reset(socketserver.BaseRequestHandler):
    """Reads the request, then resets the connection (RST, not FIN)."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            data = self.request.recv(4096)
            if data[:1].isalpha():  # an HTTP request (a TLS probe's ClientHello is not counted)
                self.server.methods.append(data.split(b" ", 1)[0].decode())  # type: ignore[attr-defined]
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()  # now, before socketserver's shutdown(SHUT_WR) could send a FIN instead


class _Redirect(socketserver.BaseRequestHandler):
    """Answers every request with a redirect to another host."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(4096)
            self.request.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid:8081/v1/version\r\n"
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")


class _DeepJson(socketserver.BaseRequestHandler):
    """Answers JSON nested 100 000 deep: valid JSON that no parser's recursion takes."""

    def handle(self) -> None:
        body = b"[" * 100_000 + b"]" * 100_000
        with contextlib.suppress(OSError):
            self.request.recv(4096)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def _read_request(sock: socket.socket) -> bytes:
    """One request's head and body (Content-Length); b"" when the client closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += sock.recv(4096)
    return head


class _ClosesKeptConnections(socketserver.BaseRequestHandler):
    """Answers a connection's first request (OME's envelope, kept alive), then closes the connection when
    the next request arrives on it, without answering: a server whose keep-alive timeout ends just as a
    request leaves on a kept connection. Each request's method is counted in `server.methods`."""

    def handle(self) -> None:
        body = b'{"statusCode":200,"message":"OK","response":[]}'
        with contextlib.suppress(OSError):
            for answered in (True, False):
                head = _read_request(self.request)
                if not head:
                    return
                self.server.methods.append(head.split(b" ", 1)[0].decode())  # type: ignore[attr-defined]
                if answered:
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@contextlib.contextmanager
def peer(kind: str) -> Iterator[int]:
    """A port where a peer of `kind` (trickle, reset, redirect, deep-json, closes-kept) answers; stopped on
    exit. `peer_methods(port)` lists the HTTP requests a closes-kept or reset peer received."""
    handler = {"trickle": _Trickle, "reset": _Reset, "redirect": _Redirect, "deep-json": _DeepJson,
               "closes-kept": _ClosesKeptConnections}[kind]
    server = _Peer(("127.0.0.1", 0), handler)
    server.stop = threading.Event()
    server.methods = []  # type: ignore[attr-defined]
    _METHODS[server.server_address[1]] = server.methods  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


_METHODS: dict[int, list[str]] = {}


def peer_methods(port: int) -> list[str]:
    return _METHODS[port]


@contextlib.contextmanager
def silent() -> Iterator[int]:
    """Accepts connections (kernel backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def unanswered_syn() -> Iterator[int]:
    """A port whose SYNs go unanswered, like a filtered address: its accept queue is full.

    With backlog 0 Linux queues one connection; this fills it, so later connects wait for their
    timeout exactly as with a host that drops packets (no such host is reachable from a sandbox).
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            yield port
