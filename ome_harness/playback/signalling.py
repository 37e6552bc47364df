"""OME's WebRTC signalling, the viewer's first step: `request_offer` on ws(s)://HOST:PORT/APP/STREAM.

OME answers `command: offer` with `sdp`, `candidates` and `iceServers` (webrtc_signalling_offer.json),
or `{"code":404,"error":"Cannot create offer"}` for a stream it cannot serve
(webrtc_signalling_unknown_stream.txt). On a v0.20.0 edge this request is what makes the edge pull the
stream from its origin before it answers (edge_webrtc_request_offer.txt, ~0.4 s) — which is why the
fleet's delivery check is a viewer here. The full viewer (ICE, DTLS, decoded frames) is webrtc.py;
this is the part both share, plus a blocking viewer that holds its place while the caller looks at
the server's API (the connection open is the viewer).
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

REQUEST_OFFER = json.dumps({"command": "request_offer"})


def refusal(where: str, answer: object) -> str:
    """A non-offer answer in words (the code and OME's error text)."""
    fields = answer if isinstance(answer, dict) else {}
    said = f"{fields.get('error', '')!r}" if fields.get("error") else ""
    return f"signalling refused: {where} answered code {fields.get('code')} {said}".rstrip()


def is_offer(answer: object) -> bool:
    return (isinstance(answer, dict) and answer.get("command") == "offer"
            and isinstance(answer.get("sdp"), dict))


@dataclass(frozen=True)
class Offered:
    """What a viewer's request_offer got: the offer (or None), the failure in words, and how long it took."""

    offer: dict[str, Any] | None
    failure: str | None
    seconds: float


class SignallingViewer:
    """A viewer that asked for an offer and keeps its signalling connection open until closed.

    Blocking (websockets' sync client), so it runs on the caller's thread; every step has `timeout_s`.
    """

    def __init__(self, url: str, *, timeout_s: float = 8.0) -> None:
        self.url, self.timeout_s = url, timeout_s
        self._socket: Any = None
        self._open = ExitStack()

    def request_offer(self) -> Offered:
        from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException
        from websockets.sync.client import connect

        where = self.url.split("?")[0]
        started = time.perf_counter()
        try:
            self._socket = self._open.enter_context(connect(self.url, open_timeout=self.timeout_s,
                                                            close_timeout=1))
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return Offered(None, f"signalling refused: {where} could not be opened ({type(exc).__name__}: "
                                 f"{exc})", time.perf_counter() - started)
        try:
            self._socket.send(REQUEST_OFFER)
            answer = json.loads(self._socket.recv(timeout=self.timeout_s))
        except (TimeoutError, WebSocketException, ValueError, OSError) as exc:
            return Offered(None, f"signalling refused: no offer from {where} within {self.timeout_s:g} s "
                                 f"({type(exc).__name__})", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if not is_offer(answer):
            return Offered(None, refusal(where, answer), seconds)
        return Offered(answer, None, seconds)

    def close(self) -> None:
        self._socket = None
        self._open.close()

    def __enter__(self) -> SignallingViewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
