"""Run the reference backend with uvicorn: in a thread on a free loopback port (tests, `run`) or in the foreground."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import uvicorn

from ome_harness.backend.app import create_app
from ome_harness.backend.settings import BackendSettings
from ome_harness.emulator.server import bind_sockets


class BackendServer:
    """The backend's HTTP API on loopback; a context manager that always stops it."""

    def __init__(self, settings: BackendSettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings, self.host, self._port = settings, host, port
        self.app = create_app(settings)
        self._sockets: list[socket.socket] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._sockets[0].getsockname()[1] if self._sockets else self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(self.app, log_level="warning", access_log=False, server_header=False,
                              lifespan="on", timeout_graceful_shutdown=2)

    def start(self) -> BackendServer:
        self._sockets = bind_sockets((self.host,), self._port)
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": self._sockets},
                                        name="ome-harness-backend", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the reference backend did not start within 10s")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the CLI: returns on SIGINT/SIGTERM (uvicorn handles both)."""
        self._sockets = bind_sockets((self.host,), self._port)
        self._server = uvicorn.Server(self._config())
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
        self.app.state.engine.dispose()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> BackendServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
