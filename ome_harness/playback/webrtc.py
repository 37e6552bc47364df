"""The WebRTC viewer: OME's WebSocket signalling, then ICE, DTLS/SRTP and decoded frames (aiortc).

OME's signalling is a WebSocket at ws(s)://HOST:PORT/APP/STREAM: the viewer sends
`{"command": "request_offer"}` and gets `command: offer` with `sdp`, `candidates` and
`iceServers` (webrtc_signalling_offer.json), or `{"code":404,"error":"Cannot create offer"}` for a
stream that does not exist (webrtc_signalling_unknown_stream.txt). The viewer answers with
`{"command": "answer", "id", "peer_id", "sdp": {...}}` (aiortc gathers its candidates into the SDP,
so no trickle is sent). A failure is said by stage: signalling refused, no candidate pair, DTLS
failure, no media.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import time
from dataclasses import dataclass

from ome_harness.playback.signalling import REQUEST_OFFER, is_offer, refusal

EMULATOR_HAS_NO_WEBRTC = ("the emulator has no WebRTC: it does not answer OME's WebSocket signalling "
                          "(request_offer → offer), so there is nothing to watch there")


@dataclass(frozen=True)
class WebrtcViewing:
    frames: int
    failure: str | None  # in words: signalling refused, no candidate pair, DTLS failure, no media, no client
    first_frame_s: float | None = None  # offer received → first decoded video frame
    fps: float = 0.0  # decoded video frames per second over the window
    resolution: str | None = None
    stage: str = ""  # signalling | ice | dtls | media | done | client


def absent_reason(emulated: bool) -> str | None:
    """Why WebRTC cannot be watched on this target at all (the emulator and its stand-in image have none)."""
    return EMULATOR_HAS_NO_WEBRTC if emulated else None


def view(signalling_url: str, *, window_s: float = 5.0, timeout_s: float = 8.0) -> WebrtcViewing:
    """Watch `signalling_url` for `window_s` once media flows; every stage has `timeout_s`."""
    if importlib.util.find_spec("aiortc") is None or importlib.util.find_spec("websockets") is None:
        return WebrtcViewing(
            0, "the WebRTC viewer needs aiortc and websockets (pip install aiortc websockets)", stage="client"
        )
    return asyncio.run(_view(signalling_url, window_s, timeout_s))


async def _view(url: str, window_s: float, timeout_s: float) -> WebrtcViewing:
    import websockets
    from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
    from aiortc.sdp import candidate_from_sdp

    where = url.split("?")[0]
    try:
        socket = await asyncio.wait_for(websockets.connect(url, open_timeout=timeout_s), timeout_s)
    except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
        return WebrtcViewing(
            0,
            f"signalling refused: {where} could not be opened ({type(exc).__name__}: {exc})",
            stage="signalling",
        )
    pc: RTCPeerConnection | None = None
    try:
        async with socket:
            await socket.send(REQUEST_OFFER)
            try:
                offer = json.loads(await asyncio.wait_for(socket.recv(), timeout_s))
            except (TimeoutError, websockets.ConnectionClosed, ValueError) as exc:
                return WebrtcViewing(0, f"signalling refused: no offer from {where} ({type(exc).__name__})",
                                     stage="signalling")
            if not is_offer(offer):
                return WebrtcViewing(0, refusal(where, offer), stage="signalling")
            # OME's TCP relay comes as TURN servers in the offer (iceServers, user `ome`); no public STUN
            # (aiortc's default would reach for Google's).
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[
                RTCIceServer(urls=s.get("urls"), username=s.get("username") or s.get("user_name"),
                             credential=s.get("credential"))
                for s in offer.get("iceServers") or [] if isinstance(s, dict) and s.get("urls")]))
            offered_at = time.monotonic()
            frames: list[tuple[float, int, int]] = []
            first_frame, settled = asyncio.Event(), asyncio.Event()
            pc.on("track", lambda track: _count_frames(track, frames, first_frame)
                  if track.kind == "video" else None)
            pc.on("connectionstatechange", lambda: _settle(pc, settled))
            pc.on("iceconnectionstatechange", lambda: _settle(pc, settled))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"]["sdp"], type="offer"))
            for item in offer.get("candidates") or []:
                candidate = candidate_from_sdp(str(item.get("candidate", "")).split(":", 1)[-1])
                candidate.sdpMLineIndex = item.get("sdpMLineIndex", 0)
                candidate.sdpMid = pc.getTransceivers()[candidate.sdpMLineIndex].mid
                await pc.addIceCandidate(candidate)
            await pc.setLocalDescription(await pc.createAnswer())
            await socket.send(
                json.dumps(
                    {
                        "command": "answer",
                        "id": offer.get("id"),
                        "peer_id": offer.get("peer_id", 0),
                        "sdp": {"type": "answer", "sdp": pc.localDescription.sdp},
                    }
                )
            )
            stage = await _wait_connected(pc, settled, timeout_s)
            if stage is not None:
                return WebrtcViewing(0, stage, stage="ice" if "candidate" in stage else "dtls")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_frame.wait(), timeout_s)
            if not frames:
                return WebrtcViewing(
                    0,
                    f"no media: connected, but no video frame decoded within {timeout_s:g} s",
                    stage="media",
                )
            await asyncio.sleep(window_s)
            count = len(frames)
            span = frames[-1][0] - frames[0][0]
            return WebrtcViewing(count, None, first_frame_s=round(frames[0][0] - offered_at, 3),
                                 fps=round((count - 1) / span, 1) if span > 0 else 0.0,
                                 resolution=f"{frames[-1][1]}x{frames[-1][2]}", stage="done")
    finally:
        if pc is not None:
            await pc.close()


def _count_frames(track: object, frames: list[tuple[float, int, int]], first: asyncio.Event) -> None:
    async def read() -> None:
        with contextlib.suppress(Exception):  # the track ends with MediaStreamError when the peer closes
            while True:
                frame = await track.recv()  # type: ignore[attr-defined]
                frames.append((time.monotonic(), frame.width, frame.height))
                first.set()

    asyncio.ensure_future(read())


def _settle(pc: object, settled: asyncio.Event) -> None:
    if pc.connectionState in ("connected", "failed", "closed") or pc.iceConnectionState == "failed":  # type: ignore[attr-defined]
        settled.set()


async def _wait_connected(pc: object, settled: asyncio.Event, timeout_s: float) -> str | None:
    """None when ICE and DTLS are up; otherwise which one failed, in words."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(settled.wait(), timeout_s)
    ice, state = pc.iceConnectionState, pc.connectionState  # type: ignore[attr-defined]
    if state == "connected":
        return None
    if ice not in ("connected", "completed"):
        return (f"no candidate pair: ICE {ice} after {timeout_s:g} s — the offered candidates (UDP ports or "
                "the TCP relay) are not reachable from this host")
    return f"DTLS failure: ICE connected but the connection is {state} after {timeout_s:g} s"
