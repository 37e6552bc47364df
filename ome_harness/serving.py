"""An ASGI app on real loopback sockets, in a background thread or the foreground (uvicorn).

Shared by the OME API emulator, its LL-HLS origin and the reference backend: one place that binds
every host on one port, starts uvicorn, waits until it serves, and always stops it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

from ome_harness.polling import Ready, WaitTimedOut, poll_until


def bind_sockets(hosts: tuple[str, ...], port: int) -> list[socket.socket]:
    """Bind every host on one port (port 0: the first bind picks it, the others follow)."""
    sockets: list[socket.socket] = []
    try:
        for host in hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit this; without it Nagle + delayed ACK add ~40 ms to keep-alive answers.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(128)
            sock.set_inheritable(True)
            sockets.append(sock)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


# Longer than the harness's clients keep an idle connection (5 s, httpx's default and the OME client's
# pool), so the harness's own servers never close a kept connection just as a request leaves on it: with
# uvicorn's default (also 5 s) a check in CI read a stream list on such a connection and got no answer.
# OME's own keep-alive timeout is not among the captured facts; the OME client retries idempotent
# requests for a server that does close under them (ome/client.py).
KEEP_ALIVE_S = 15


def uvicorn_config(app: Any, *, lifespan: str = "off") -> uvicorn.Config:
    """How the harness's own servers (emulator, reference backend) run uvicorn: quiet, no Server header."""
    return uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan=lifespan,
                          timeout_graceful_shutdown=1, timeout_keep_alive=KEEP_ALIVE_S)


class _ForegroundUvicorn(uvicorn.Server):
    """uvicorn in the main thread: it takes SIGINT/SIGTERM while it serves, shuts down gracefully, then
    raises them again (last first) under the handlers it found. `on_signal` hears each one as it comes,
    so the command can tell which signal stopped it first and exit with 128 + that one."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_signal = on_signal

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_signal(sig)
        super().handle_exit(sig, frame)


class LoopbackServer:
    """Serve `app` on `hosts`:`port`; a context manager that always closes its sockets."""

    def __init__(self, app: Any, hosts: tuple[str, ...], port: int = 0, *, name: str = "asgi",
                 lifespan: str = "off", start_timeout: float = 10.0,
                 sockets: list[socket.socket] | None = None) -> None:
        """`sockets`: already bound and listening (one server for many ports, emulator/multiport.py);
        they are closed with the server."""
        self.app, self.hosts, self.name = app, hosts, name
        self._requested_port, self._lifespan, self._start_timeout = port, lifespan, start_timeout
        self._sockets: list[socket.socket] = list(sockets or [])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._sockets[0].getsockname()[1] if self._sockets else self._requested_port

    def _uvicorn(self) -> uvicorn.Server:
        return uvicorn.Server(uvicorn_config(self.app, lifespan=self._lifespan))

    def bind(self) -> int:
        """Take the port now (a port in use fails here, before anything else is set up); returns it."""
        if not self._sockets:
            self._sockets = bind_sockets(self.hosts, self._requested_port)
        return self.port

    def start(self) -> LoopbackServer:
        self.bind()
        self._server = self._uvicorn()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": self._sockets},
                                        name=self.name, daemon=True)
        self._thread.start()
        server, thread = self._server, self._thread

        def probe() -> Ready[None] | str:
            if server.started:
                return Ready(None)
            if not thread.is_alive():
                raise RuntimeError("its thread ended")
            return "not serving yet"

        try:
            poll_until(probe, deadline_s=self._start_timeout, what=f"{self.name} to start", interval_s=0.01)
        except (WaitTimedOut, RuntimeError) as exc:
            self.stop()
            raise RuntimeError(f"{self.name} did not start within {self._start_timeout:g}s") from exc
        return self

    def serve_forever(self, on_signal: Callable[[int], None] | None = None) -> None:
        """Foreground mode for a CLI: returns on SIGINT/SIGTERM (uvicorn handles both); `on_signal` is
        told of each signal uvicorn takes (see _ForegroundUvicorn)."""
        self.bind()
        config = uvicorn_config(self.app, lifespan=self._lifespan)
        self._server = uvicorn.Server(config) if on_signal is None else _ForegroundUvicorn(config, on_signal)
        try:
            self._server.run(sockets=self._sockets)
        finally:
            self._close_sockets()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_sockets()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
