"""The emulator's edge mode: an API that mirrors an origin's live streams — NOT OVT.

A real OME edge pulls each stream from its origin over OVT (port 9000) and names the origin in
its vhost's OriginMap (`origins.origin[].pass.urls.url[]`, OME's openapi v0.21.0). No OVT
exchange has been captured for this project, so none is imitated: this edge reads the origin's
REST API (`GET .../streams`) and lists what it finds. It says so in its OriginMap's scheme
(`emulator-api-relay`, not `ovt`) and in each mirrored stream's source (`EmulatorRelay`).
What a fleet test learns from it is the harness's own logic (drift, delivery deadlines), never a fact about OVT.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ome_harness.emulator.api import OmeApi, _ok
from ome_harness.emulator.state import EmulatorState
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError

RELAY_SCHEME = "emulator-api-relay"
# A request to the edge re-reads the origin at most this often (bounds the load one edge puts on it).
MIRROR_EVERY_S = 0.2


@dataclass
class EdgeOrigin:
    """Where an emulator edge pulls from: the origin's API and its token."""

    api_url: str
    token: str = field(repr=False)
    # What the OriginMap advertises; None: the origin's own API address (the emulator relays through it).
    advertised: str | None = None


class EdgeApi(OmeApi):
    """OME's API for an edge node: the emulator's API plus the origin's streams, mirrored on each request."""

    def __init__(
        self, state: EmulatorState, token: str, origin: EdgeOrigin, *, timeout_s: float = 2.0
    ) -> None:
        super().__init__(state, token)
        self.origin = origin
        self._client = OmeClient(
            origin.api_url, origin.token, connect_timeout=timeout_s, read_timeout=timeout_s
        )
        self._mirrored_at = 0.0
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    def close(self) -> None:
        self._client.close()

    async def _handle(self, request: Request) -> Response:
        if request.url.path.startswith("/v1/"):
            await self._mirror()
        return await super()._handle(request)

    async def _mirror(self) -> None:
        async with self._lock:
            if time.monotonic() - self._mirrored_at < MIRROR_EVERY_S:
                return
            await asyncio.to_thread(self._mirror_now)
            self._mirrored_at = time.monotonic()

    def _mirror_now(self) -> None:
        # Only the edge's own vhost/apps are mirrored, as an OriginMap maps locations it serves.
        for vhost in self.state.vhost_names():
            for app in self.state.app_names(vhost) or []:
                try:
                    upstream = set(self._client.streams(vhost, app))
                except OmeError as exc:
                    # An unreachable origin means the edge serves nothing from it (as an edge would).
                    self.last_error, upstream = str(exc), set()
                self._client.exchanges.clear()
                here = {s.name for s in self.state.streams(vhost, app)}
                for name in upstream - here:
                    self.state.add_stream(
                        name,
                        vhost=vhost,
                        app=app,
                        source_type="EmulatorRelay",
                        source_url=f"{RELAY_SCHEME}://{self._origin_address()}/{app}/{name}",
                    )
                for name in here - upstream:
                    self.state.remove_stream(name, vhost=vhost, app=app)

    def _origin_address(self) -> str:
        if self.origin.advertised:
            return self.origin.advertised
        parts = urlsplit(self.origin.api_url)
        return parts.netloc.rpartition("@")[2]

    def _vhosts(self, verb: str, parts: list[str], body: bytes) -> Response:
        response = super()._vhosts(verb, parts, body)
        if len(parts) == 1 and verb == "GET" and response.status_code == 200:
            vhost = unquote(parts[0])
            detail: dict[str, Any] = {
                "distribution": "ovenmediaengine.com",
                "host": {"names": ["*"]},
                "name": vhost,
                "origins": {"origin": [self._origin_entry(app) for app in self.state.app_names(vhost) or []]},
            }
            return _ok(detail)
        return response

    def _origin_entry(self, app: str) -> dict[str, Any]:
        # OME's shape (Origin: location + pass{scheme, urls{url[]}}); the scheme says it is not OVT.
        return {
            "location": f"/{app}",
            "pass": {"scheme": RELAY_SCHEME, "urls": {"url": [f"{self._origin_address()}/{app}"]}},
        }
