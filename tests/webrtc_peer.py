"""A WebRTC sender of our own serving OME-shaped signalling on loopback (the real thing: aiortc + websockets).

It answers `{"command": "request_offer"}` on ws://127.0.0.1:PORT/app/STREAM the way OME does
(webrtc_signalling_offer.json: command offer, sdp, candidates, id, peer_id, code 200) and an unknown
stream with OME's `{"code":404,"error":"Cannot create offer"}`; then takes the viewer's answer.
`unreachable=True` is a fault: its candidates point at a closed port and it ignores the viewer's, so no
candidate pair can form (a firewall in both directions).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from websockets.asyncio.server import serve

_CANDIDATE = re.compile(r"^a=(candidate:.*)$", re.M)


def _break_candidates(sdp: str) -> str:
    # Every candidate to a port nothing listens on (9 is "discard"), host type kept.
    return re.sub(r"^(a=candidate:\S+ \d+ \S+ \d+ \S+) \d+ ", r"\1 9 ", sdp, flags=re.M)


class OmeShapedPeer:
    def __init__(self, streams: tuple[str, ...] = ("stream",), *, unreachable: bool = False,
                 turn_port: int | None = None) -> None:
        """`turn_port`: the offer names a TURN server over TCP there, as OME's does (its `iceServers`,
        user `ome`, in webrtc_signalling_offer.json); nothing of ours serves TURN on it."""
        self.streams, self.unreachable, self.turn_port = streams, unreachable, turn_port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._peers: list[RTCPeerConnection] = []
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None

    async def _handle(self, socket) -> None:  # type: ignore[no-untyped-def]
        stream = socket.request.path.strip("/").split("/")[-1]
        message = json.loads(await socket.recv())
        if message.get("command") != "request_offer" or stream not in self.streams:
            await socket.send(json.dumps({"code": 404, "error": "Cannot create offer"}))
            return
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._peers.append(pc)
        pc.addTrack(VideoStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        if self.unreachable:
            sdp = _break_candidates(sdp)
        candidates = [{"candidate": c, "sdpMLineIndex": 0} for c in _CANDIDATE.findall(sdp)]
        offer = {"command": "offer", "code": 200, "id": secrets.randbelow(2**31), "peer_id": 0,
                 "sdp": {"type": "offer", "sdp": sdp}, "candidates": candidates}
        if self.turn_port is not None:
            turn = [{"urls": [f"turn:127.0.0.1:{self.turn_port}?transport=tcp"], "username": "ome",
                     "credential": "airen"}]
            offer.update(iceServers=turn, ice_servers=turn)
        await socket.send(json.dumps(offer))
        answer = json.loads(await socket.recv())
        answer_sdp = answer["sdp"]["sdp"]
        if self.unreachable:
            answer_sdp = "\r\n".join(
                line for line in answer_sdp.split("\r\n") if not line.startswith("a=candidate:")
            )
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
        await socket.wait_closed()

    async def _serve(self) -> None:
        self._stop = self._loop.create_future()
        async with serve(self._handle, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop
        for pc in self._peers:
            await pc.close()

    @contextmanager
    def running(self) -> Iterator[OmeShapedPeer]:
        thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True)
        thread.start()
        assert self._ready.wait(10), "the WebRTC test peer did not start"
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(lambda: self._stop.set_result(None) if self._stop else None)
            thread.join(15)

    def url(self, stream: str) -> str:
        return f"ws://127.0.0.1:{self.port}/app/{stream}"
