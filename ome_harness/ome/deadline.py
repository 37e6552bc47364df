"""A total deadline per request, headers included: httpcore bounds each read, not a trickling peer.

httpcore's read timeout restarts with every byte, so a peer answering one byte a second (status line
and headers too) never trips it. The OME client sets a deadline for the current thread; every
socket read of its connections waits at most until then.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import typing
from collections.abc import Iterator

import httpcore

_local = threading.local()


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Socket reads on this thread end by `at` (time.perf_counter()) with a read timeout."""
    _local.at = at
    try:
        yield
    finally:
        _local.at = None


def _bounded(timeout: float | None) -> float | None:
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    remaining = at - time.perf_counter()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the answer did not complete within the request's deadline")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Any = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(super().connect_tcp(host, port, timeout, local_address, socket_options))


def deadline_pool(ssl_context: ssl.SSLContext) -> httpcore.ConnectionPool:
    """httpcore's keep-alive pool as httpx builds it (no proxy, no connection limit, idle connections
    dropped after 5 s), whose connections honour `deadline()`. A server may close a kept connection as
    a request leaves on it whatever the expiry: `Connection.send` retries idempotent requests then."""
    return httpcore.ConnectionPool(ssl_context=ssl_context, keepalive_expiry=5.0,
                                   network_backend=_DeadlineBackend())
