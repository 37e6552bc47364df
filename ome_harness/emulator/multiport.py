"""Many emulated OME APIs in one process: one uvicorn server, one listening socket per node.

A fleet test needs tens to a thousand nodes; a server (and thread) each would not fit on two
cores. uvicorn tells the app which local socket a request came in on (`scope["server"]`), so one
event loop answers for every port and routes each request to that node's own API and state.
Only the REST API is served per node (no RTMP, SRT or LL-HLS); an edge node also has a playback port
(OME's 3333: WebRTC signalling and LL-HLS) where a viewer makes it pull (emulator/edge.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ome_harness.addresses import dial_host
from ome_harness.emulator.api import OmeApi
from ome_harness.emulator.edge import EdgeApi, EdgeOrigin
from ome_harness.emulator.state import EmulatorState
from ome_harness.serving import LoopbackServer, bind_sockets


@dataclass
class EmulatedNode:
    """One node of an emulated fleet: its port, token, state and API."""

    port: int
    token: str = field(repr=False)
    state: EmulatorState
    api: OmeApi
    host: str = "127.0.0.1"
    # An edge's signalling/LL-HLS port (OME's 3333); None for an origin.
    playback_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{dial_host(self.host)}:{self.port}"

    @property
    def webrtc_url(self) -> str | None:
        return f"ws://{dial_host(self.host)}:{self.playback_port}" if self.playback_port else None

    @property
    def llhls_url(self) -> str | None:
        return f"http://{dial_host(self.host)}:{self.playback_port}" if self.playback_port else None


class _ByLocalPort:
    """ASGI app: hand each request to the node that owns the socket it arrived on."""

    def __init__(self) -> None:
        self.nodes: dict[int, Any] = {}  # port → ASGI app (a node's API, or an edge's playback side)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        server = scope.get("server") or (None, None)
        app = self.nodes.get(server[1])
        if app is not None:
            await app(scope, receive, send)


class EmulatorFleet:
    """Emulated OME nodes on loopback, all served by one background thread; a context manager."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.nodes: list[EmulatedNode] = []
        self._app = _ByLocalPort()
        self._sockets: list[socket.socket] = []
        self._server: LoopbackServer | None = None

    def add(
        self,
        *,
        token: str,
        version: str = "0.20.0",
        vhost: str = "default",
        apps: tuple[str, ...] = ("app",),
        edge_of: EmulatedNode | None = None,
        origin_token: str | None = None,
    ) -> EmulatedNode:
        """A node on a fresh port (before start()); `edge_of` makes it an edge of that origin (no app until a
        viewer on its playback port asks for a stream, emulator/edge.py)."""
        if self._server is not None:
            raise RuntimeError("add every node before start()")
        port = self._bind()
        # A real edge lists no application before its first viewer (edge_apps_before_any_viewer.http).
        state = EmulatorState(version=version, vhost=vhost, apps=() if edge_of is not None else apps)
        playback_port = None
        if edge_of is not None:
            api: OmeApi = EdgeApi(state, token, EdgeOrigin(edge_of.url, origin_token or edge_of.token))
            playback_port = self._bind()
            self._app.nodes[playback_port] = api.playback
        else:
            api = OmeApi(state, token)
        node = EmulatedNode(port=port, token=token, state=state, api=api, host=self.host,
                            playback_port=playback_port)
        self._app.nodes[port] = api
        self.nodes.append(node)
        return node

    def _bind(self) -> int:
        [sock] = bind_sockets((self.host,), 0)
        self._sockets.append(sock)
        return sock.getsockname()[1]

    def start(self) -> EmulatorFleet:
        self._server = LoopbackServer(self._app, (self.host,), name="ome-emulator-fleet", start_timeout=30,
                                      sockets=self._sockets)
        try:
            self._server.start()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # closes every node's socket
        for node in self.nodes:
            if isinstance(node.api, EdgeApi):
                node.api.close()

    def __enter__(self) -> EmulatorFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
