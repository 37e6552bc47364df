"""Run the emulator on real loopback sockets, in-process (tests) or in the foreground (CLI)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import uvicorn

from ome_harness.emulator.api import OmeApi
from ome_harness.emulator.state import EmulatorState


@dataclass
class EmulatorSettings:
    hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    port: int = 0
    token: str = "ome-harness-emulator-token"
    version: str = "0.20.0"
    vhost: str = "default"
    apps: tuple[str, ...] = ("app",)
    extra: dict = field(default_factory=dict)


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


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """The emulator's HTTP API on loopback; a context manager that always stops it."""

    def __init__(self, settings: EmulatorSettings | None = None, state: EmulatorState | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.state = state or EmulatorState(version=self.settings.version, vhost=self.settings.vhost,
                                            apps=self.settings.apps)
        self.app = OmeApi(self.state, self.settings.token)
        self._sockets: list[socket.socket] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """A URL for the first bound address (`localhost` when both loopbacks are bound)."""
        hosts = set(self.settings.hosts)
        host = "localhost" if {"127.0.0.1", "::1"} <= hosts else _url_host(self.settings.hosts[0])
        return f"http://{host}:{self.port}"

    def target_addresses(self) -> dict[str, str | None]:
        """Ingest and playback bases for an OmeTarget (none until the emulator serves them)."""
        return {"rtmp_base": None, "srt_base": None, "llhls_base": None}

    def start(self) -> EmulatorServer:
        self._sockets = bind_sockets(self.settings.hosts, self.settings.port)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, server_header=False,
                                date_header=True, lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": self._sockets},
                                        name="ome-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the OME API emulator did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the CLI: returns on SIGINT/SIGTERM (uvicorn handles both)."""
        self._sockets = bind_sockets(self.settings.hosts, self.settings.port)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, server_header=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
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

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_emulator(**settings: object) -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorSettings(**settings)) as server:  # type: ignore[arg-type]
        yield server
