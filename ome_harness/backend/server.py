"""Run the reference backend on loopback: in a thread on a free port (tests, `run`) or in the foreground."""

from __future__ import annotations

from ome_harness.addresses import dial_host
from ome_harness.backend.app import create_app
from ome_harness.backend.settings import BackendSettings
from ome_harness.serving import LoopbackServer


class BackendServer:
    """The backend's HTTP API on loopback; a context manager that always stops it and its DB engine."""

    def __init__(self, settings: BackendSettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings, self.host = settings, host
        self._server = LoopbackServer(None, (host,), port, name="ome-harness-backend", lifespan="on")
        # The port first: a port in use must not leave a freshly created database file behind.
        self._server.bind()
        try:
            self.app = self._server.app = create_app(settings)
        except BaseException:
            self._server.stop()
            raise

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{dial_host(self.host)}:{self.port}"

    def start(self) -> BackendServer:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        """Foreground mode for the CLI: returns on SIGINT/SIGTERM (uvicorn handles both)."""
        try:
            self._server.serve_forever()
        finally:
            self.app.state.engine.dispose()

    def stop(self) -> None:
        self._server.stop()
        self.app.state.engine.dispose()

    def __enter__(self) -> BackendServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
