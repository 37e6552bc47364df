"""The WebRTC side: why a target cannot be watched over WebRTC, in words.

OME's signalling is a WebSocket at ws(s)://HOST:PORT/APP/STREAM: the viewer sends
`{"command": "request_offer"}` and gets `command: offer` with `sdp`, `candidates` and `iceServers`
(webrtc_signalling_offer.json), or `{"code":404,"error":"Cannot create offer"}` for a stream that
does not exist (webrtc_signalling_unknown_stream.txt).

Not built yet: the aiortc client that answers the offer, completes ICE/DTLS and counts decoded
frames (docs/playback.md says so). `view()` therefore reports that stage as the failure.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

EMULATOR_HAS_NO_WEBRTC = ("the emulator has no WebRTC: it does not answer OME's WebSocket signalling "
                          "(request_offer → offer), so there is nothing to watch there")


@dataclass(frozen=True)
class WebrtcViewing:
    frames: int
    failure: str | None  # in words: signalling refused, no candidate pair, DTLS failure, no media, no client


def absent_reason(emulated: bool) -> str | None:
    """Why WebRTC cannot be watched on this target at all (the emulator and its stand-in image have none)."""
    return EMULATOR_HAS_NO_WEBRTC if emulated else None


def view(signalling_url: str, *, window_s: float = 5.0) -> WebrtcViewing:
    """Watch over WebRTC; today it says plainly that the harness's WebRTC client is not built."""
    if importlib.util.find_spec("aiortc") is None:
        return WebrtcViewing(0, "the harness's WebRTC viewer is not built yet (it needs aiortc, not installed): "
                                f"{signalling_url.split('?')[0]} was not watched")
    return WebrtcViewing(0, "the harness's WebRTC viewer is not built yet (aiortc is installed, the client is "
                            "not written): nothing was watched")
