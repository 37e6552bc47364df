"""The emulator's edge mode: an edge that serves a stream only when a viewer asks for it — NOT OVT.

What it reproduces is what a real v0.20.0 edge was recorded doing (samples/v0.20.0-media/edge/,
ome-api.md "Origin and edge (OVT)"):

- its vhost names the origin in an origin map: location `/`, scheme `ovt`, the origin's address, and
  `noInputFailoverTimeout`/`unusedStreamDeletionTimeout` (edge_vhost.http);
- before any viewer it lists no application and no stream (edge_apps_before_any_viewer.http,
  edge_streams_before_any_viewer.http: `404 Could not find the application: [default/app]`): the app
  exists only as the `*` template;
- an LL-HLS viewer first gets `404` at once and does not trigger the pull (edge_llhls_before_pull.txt);
- a WebRTC viewer's `{"command":"request_offer"}` on its signalling WebSocket makes it create the app,
  pull the stream and answer an offer (edge_webrtc_request_offer.txt); from then on its API lists the
  app and the stream, whose detail has `sourceType: "Ovt"`, `sourceUrl: "ovt://ORIGIN/app/STREAM"`,
  the origin's output tracks as its input and `outputs: []` (edge_stream_detail_after_pull.http);
- the pulled stream is dropped `unusedStreamDeletionTimeout` after its last viewer left (the config
  value; OME's timing of it was not measured).

What it is not: **it does not speak OVT on the wire.** No OVT exchange has been captured, so none is
imitated. It "pulls" by reading the origin's REST API (`GET /v1/vhosts/VH/apps/APP/streams/STREAM`:
the stream exists, and its tracks) and then simulates the relayed stream's counters from the origin's
bitrates; no media leaves the origin. Its offer is shaped like OME's (same keys) but carries no usable
WebRTC session (the emulator has no WebRTC media: ICE would never connect). Its origin map says `ovt`
because that is what an edge's configuration says, and names the origin's *API* address (the only
one an emulated origin has). Every API answer carries the emulator header saying all this.

Not recorded, so not imitated: what an edge answers a viewer for a stream its origin does not have
(the origin's own answer, `{"code":404,"error":"Cannot create offer"}`, webrtc_signalling_unknown_
stream.txt, is used), what follows the one LL-HLS request captured after the pull (held 4.3 s, then
`404`: edge_llhls_after_pull.txt), and what the edge does when the origin's stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from ome_harness.emulator.api import CORS, IDENTITY, OmeApi, _ok
from ome_harness.emulator.state import AudioSpec, EmulatorState, VideoSpec
from ome_harness.ome.client import EMULATOR_HEADER, OmeClient
from ome_harness.ome.errors import OmeError, OmeNotFound
from ome_harness.ome.models import Stream

EDGE_IDENTITY = (f"{IDENTITY}; edge mode: pulls through the origin's REST API on a viewer's request, "
                 "not over OVT, and has no WebRTC media")
# edge_vhost.http: OME's example edge config.
NO_INPUT_FAILOVER_MS = 3000
UNUSED_STREAM_DELETION_MS = 60000
# edge_llhls_after_pull.txt: the one LL-HLS request captured after the pull was held 4.3 s, then 404.
LLHLS_HELD_AFTER_PULL_S = 4.3
# webrtc_signalling_unknown_stream.txt (the origin's answer; an edge's was not recorded).
NO_OFFER = {"code": 404, "error": "Cannot create offer"}
# The LL-HLS publisher's 404 before the app exists carries the API's CORS methods; after the pull, its
# own (edge_llhls_before_pull.txt / edge_llhls_after_pull.txt).
_LLHLS_METHODS_AFTER_PULL = "OPTIONS, GET, HEAD"
_EXAMPLE_TLS = {"certPath": "./cert.crt", "chainCertPath": "./cert.ca-bundle", "keyPath": "./cert.key"}


@dataclass
class EdgeOrigin:
    """Where an emulator edge pulls from: the origin's API and its token."""

    api_url: str
    token: str = field(repr=False)
    # What the origin map names (`host:port/`); None: the origin's own API address.
    advertised: str | None = None

    def address(self) -> str:
        if self.advertised:
            return self.advertised if self.advertised.endswith("/") else self.advertised + "/"
        return urlsplit(self.api_url).netloc.rpartition("@")[2] + "/"


class EdgeApi(OmeApi):
    """OME's API for an edge node; `playback` is its signalling/LL-HLS side (OME's port 3333)."""

    def __init__(self, state: EmulatorState, token: str, origin: EdgeOrigin, *, timeout_s: float = 2.0,
                 unused_deletion_ms: int = UNUSED_STREAM_DELETION_MS) -> None:
        super().__init__(state, token)
        self.origin = origin
        self.unused_deletion_ms = unused_deletion_ms
        # Fault: the edge answers viewers' offers but never pulls (its API never lists the stream).
        self.never_pulls = False
        self._client = OmeClient(origin.api_url, origin.token, connect_timeout=timeout_s,
                                 read_timeout=timeout_s)
        self._viewers: dict[tuple[str, str, str], int] = {}
        self._left_at: dict[tuple[str, str, str], float] = {}
        self._pulling = asyncio.Lock()
        self._ids = itertools.count(510355610)
        self.playback = EdgePlayback(self)

    def close(self) -> None:
        self._client.close()

    async def _handle(self, request: Request) -> Response:
        self.drop_unused()
        response = await super()._handle(request)
        response.headers[EMULATOR_HEADER] = EDGE_IDENTITY
        return response

    def _vhosts(self, verb: str, parts: list[str], body: bytes) -> Response:
        response = super()._vhosts(verb, parts, body)
        if len(parts) == 1 and verb == "GET" and response.status_code == 200:
            # edge_vhost.http, field for field (the TLS paths are the example config's).
            return _ok({
                "crossDomains": {"urls": ["*"]},
                "distribution": "ovenmediaengine.com",
                "host": {"names": ["*"], "tls": _EXAMPLE_TLS},
                "name": unquote(parts[0]),
                "origins": {
                    "origin": [{"location": "/", "pass": {"forwardQueryParams": "true", "scheme": "ovt",
                                                          "urls": {"url": [self.origin.address()]}}}],
                    "properties": {"noInputFailoverTimeout": str(NO_INPUT_FAILOVER_MS),
                                   "unusedStreamDeletionTimeout": str(self.unused_deletion_ms)},
                },
            })
        return response

    # -- the pull ---------------------------------------------------------------------------
    async def pull(self, vhost: str, app: str, name: str) -> bool:
        """A viewer asked for app/name: create the app and the relayed stream; False when there is none."""
        async with self._pulling:
            if self.state.stream(vhost, app, name) is not None:
                return True
            self.state.log("I", "Publisher | publisher.cpp:179",
                           f"Try to pull stream from local origin map: [#{vhost}#{app}/{name}]")
            if self.never_pulls:
                return True  # the fault: an offer is answered, nothing is pulled
            found = await asyncio.to_thread(self._origin_stream, vhost, app, name)
            if found is None:
                return False
            self.state.add_app(vhost, app)
            url = f"ovt://{self.origin.address()}{app}/{name}"
            self.state.add_stream(name, vhost=vhost, app=app, source_type="Ovt", source_url=url, relayed=True,
                                  video=_video(found), audio=_audio(found))
            self.state.log("I", "Provider | stream.cpp:65",
                           f"OVTProvider Application has started to play [{name}(100)] stream : {url}")
            self.state.log("I", "EMULATOR", f"pulled through the origin's REST API ({self.origin.api_url}), "
                                            "not over OVT")
            return True

    def _origin_stream(self, vhost: str, app: str, name: str) -> Stream | None:
        try:
            return self._client.stream(vhost, app, name)
        except OmeNotFound:
            return None
        except OmeError as exc:
            self.state.log("E", "EMULATOR", f"the origin's API could not be read: {exc}")
            return None
        finally:
            self._client.exchanges.clear()

    # -- viewers ----------------------------------------------------------------------------
    def viewer_joined(self, key: tuple[str, str, str]) -> None:
        self._viewers[key] = self._viewers.get(key, 0) + 1

    def viewer_left(self, key: tuple[str, str, str]) -> None:
        self._viewers[key] = max(0, self._viewers.get(key, 1) - 1)
        if not self._viewers[key]:
            self._left_at[key] = time.monotonic()

    def drop_unused(self) -> None:
        """Remove pulled streams whose last viewer left `unusedStreamDeletionTimeout` ago (edge_vhost.http).

        The app itself stays: whether OME removes a dynamic app was not recorded."""
        now = time.monotonic()
        for key, left in list(self._left_at.items()):
            if not self._viewers.get(key) and now - left >= self.unused_deletion_ms / 1000:
                vhost, app, name = key
                self.state.remove_stream(name, vhost=vhost, app=app)
                self._left_at.pop(key, None)  # the API and playback sides may both reap (two threads)

    def offer(self) -> dict[str, Any]:
        """An offer with the keys of edge_webrtc_request_offer.txt; no usable session behind it."""
        candidate = {"candidate": "candidate:0 1 UDP 50 127.0.0.1 9 typ host", "sdpMLineIndex": 0}
        return {"candidates": [candidate], "code": 200, "command": "offer", "iceServers": [],
                "ice_servers": [], "id": next(self._ids), "peer_id": 0,
                "sdp": {"sdp": "v=0\r\no=OvenMediaEngine 101 2 IN IP4 127.0.0.1\r\n"
                               "s=EMULATOR: no WebRTC media\r\nt=0 0\r\n", "type": "offer"}}


class EdgePlayback:
    """The edge's playback port: OME's WebRTC signalling (WebSocket) and LL-HLS (HTTP), one ASGI app."""

    def __init__(self, edge: EdgeApi) -> None:
        self.edge = edge

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._signalling(WebSocket(scope, receive, send))
        elif scope["type"] == "http":
            response = await self._llhls(Request(scope, receive))
            await response(scope, receive, send)

    def _key(self, path: str) -> tuple[str, str, str] | None:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        vhost = self.edge.state.vhost_names()[0]
        return (vhost, parts[0], parts[1]) if len(parts) >= 2 and all(parts[:2]) else None

    async def _signalling(self, socket: WebSocket) -> None:
        key = self._key(socket.url.path)
        await socket.accept()
        joined = False
        try:
            while True:
                try:
                    message = json.loads(await socket.receive_text())
                except ValueError:
                    continue
                if not isinstance(message, dict) or message.get("command") != "request_offer":
                    continue  # answer, candidate, stop: nothing to do without WebRTC media
                self.edge.drop_unused()
                if key is None or not await self.edge.pull(*key):
                    await socket.send_text(json.dumps(NO_OFFER, separators=(",", ":")))
                    continue
                if not joined:
                    self.edge.viewer_joined(key)
                    joined = True
                await socket.send_text(json.dumps(self.edge.offer()))
        except WebSocketDisconnect:
            pass
        finally:
            if joined and key is not None:
                self.edge.viewer_left(key)
            with contextlib.suppress(RuntimeError):
                await socket.close()

    async def _llhls(self, request: Request) -> Response:
        self.edge.drop_unused()
        key = self._key(request.url.path)
        headers = {**CORS, "Content-Type": "text/html", "Server": "OvenMediaEngine",
                   EMULATOR_HEADER: EDGE_IDENTITY}
        if key is None or self.edge.state.stream(*key) is None:
            vhost, app = (key or (self.edge.state.vhost_names()[0], "?", ""))[:2]
            self.edge.state.log("E", "LLHLS Publisher | llhls_publisher.cpp:363",
                                f"Cannot find application (#{vhost}#{app})")
            return Response(status_code=404, headers=headers)  # edge_llhls_before_pull.txt: no pull
        # edge_llhls_after_pull.txt; what a later request gets was not recorded.
        await asyncio.sleep(LLHLS_HELD_AFTER_PULL_S)
        return Response(status_code=404,
                        headers={**headers, "Access-Control-Allow-Methods": _LLHLS_METHODS_AFTER_PULL})


def _video(found: Stream) -> VideoSpec | None:
    track = next((t.video for t in found.input.tracks if t.video is not None), None)
    if track is None:
        return None
    return VideoSpec(codec=track.codec, width=track.width or 640, height=track.height or 360,
                     framerate=track.framerate or 30.0, bitrate=track.bitrate or 160_000)


def _audio(found: Stream) -> AudioSpec | None:
    track = next((t.audio for t in found.input.tracks if t.audio is not None), None)
    if track is None:
        return None
    return AudioSpec(codec=track.codec, samplerate=track.samplerate or 44_100, channel=track.channel or 1,
                     bitrate=track.bitrate or 67_000)
