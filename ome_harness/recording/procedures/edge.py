"""An edge before and after its first viewer (`record --edge`), in the order of samples/v0.20.0-media/edge/.

The procedure is a viewer and nothing else: it picks a stream the origin already has live (never one
it publishes), asks the edge's API what it holds, sends one LL-HLS request (which on v0.20.0 does not
make the edge pull: edge_llhls_before_pull.txt), then a WebRTC `request_offer` through the shared
signalling client (the pull: edge_webrtc_request_offer.txt) and, while that viewer holds its place,
asks the API again (apps, streams, the stream's detail and stats) and sends one more LL-HLS request
(edge_llhls_after_pull.txt). The edge pulling the stream is OME's behaviour, not a change by the
harness. The edge's log (edge_log_pull.txt) is not reachable over the network: not recorded.
"""

from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import quote

from ome_harness.playback.signalling import SignallingViewer
from ome_harness.recording.session import STREAM_PREFIX, ProcedureStopped, Session

SIGNALLING_TIMEOUT_S = 8.0
# edge_webrtc_request_offer.txt: the capturer looked at the API after "2 s idle" with the viewer held.
IDLE_AFTER_OFFER_S = 2.0
# edge_llhls_after_pull.txt: that request was held 4.3 s before its 404; room for that and more.
LLHLS_AFTER_PULL_TIMEOUT_S = 10.0
LOG_NOT_RECORDED = (
    "not recorded: OME's log (the edge's lines about the pull) is not reachable over the network"
)
_CREDENTIAL = re.compile(r'("credential"\s*:\s*")[^"]*(")')


def _quoted(*names: str) -> str:
    return "/".join(quote(n, safe="") for n in names)


def live_stream_of_origin(s: Session) -> str:
    """A stream the origin has live (not one a recording published): what a viewer asks the edge for."""
    listing = s.api("origin-streams", "GET", f"/v1/vhosts/{_quoted(s.target.vhost)}/apps/"
                    f"{_quoted(s.target.app)}/streams", keep=False)
    try:
        names = json.loads(listing.body).get("response") if listing.status == 200 else None
    except ValueError:
        names = None
    mine = set(s.own_streams)
    candidates = [n for n in names or [] if isinstance(n, str) and not n.startswith(STREAM_PREFIX)
                  and n not in mine]
    if not candidates:
        raise ProcedureStopped(
            f"the origin has no live stream in {s.target.vhost}/{s.target.app} for a viewer to ask the edge "
            f"for (answered {listing.status or 'nothing'}): publish one to the origin first"
        )
    return candidates[0]


def offer_text(offer: dict | None, failure: str | None) -> str:
    """The reply as edge_webrtc_request_offer.txt writes it: `reply: {...}` (the SDP elided as `<sdp>`,
    as there; the TURN credential masked)."""
    if offer is None:
        return f"no offer: {failure}"
    shown = {**offer, "sdp": "<sdp>"} if "sdp" in offer else dict(offer)
    return "reply: " + _CREDENTIAL.sub(r"\1********\2", json.dumps(shown, sort_keys=True))


def edge_viewer(s: Session) -> None:
    """An edge (--edge) before and after its first viewer: vhost, apps, streams, an LL-HLS request, a WebRTC
    request_offer (the pull), then apps, streams, the stream's detail and stats, and LL-HLS again."""
    if s.edge is None:
        raise ProcedureStopped("no edge to record (--edge NAME=API_URL[,llhls=URL,webrtc=URL])")
    stream = live_stream_of_origin(s)
    e = dataclasses.replace(s, target=s.edge)  # the same recording, deadline and cleanup; the edge's API
    vhost, app = _quoted(e.target.vhost), _quoted(e.target.app)
    apps, streams = f"/v1/vhosts/{vhost}/apps", f"/v1/vhosts/{vhost}/apps/{app}/streams"
    e.api("vhost", "GET", f"/v1/vhosts/{vhost}").notes.append(
        f"the viewer asks the edge for {stream}, a stream the origin has live")
    e.api("apps-before-any-viewer", "GET", apps)
    e.api("streams-before-any-viewer", "GET", streams)
    if e.target.llhls_base:
        e.media("llhls-before-pull", e.target.llhls_url(stream))
        e.api("apps-after-llhls-viewer", "GET", apps)
    if not e.target.webrtc_base:
        raise ProcedureStopped("the edge's WebRTC signalling address is not known (--edge …,webrtc=URL)")
    e.check_deadline("webrtc-request-offer")
    timeout_s = min(SIGNALLING_TIMEOUT_S, max(0.5, e.left()))
    with SignallingViewer(e.target.webrtc_url(stream), timeout_s=timeout_s) as viewer:
        offered = viewer.request_offer()
        e.note("webrtc-request-offer", offer_text(offered.offer, offered.failure),
               [f'{{"command":"request_offer"}} on the edge\'s signalling WebSocket; answered in '
                f"{offered.seconds:.3f} s; the viewer stays while the API is asked"])
        e.sleep(IDLE_AFTER_OFFER_S)
        e.api("apps-after-webrtc-viewer", "GET", apps)
        e.api("streams-after-webrtc-viewer", "GET", streams)
        e.api("stream-detail-after-pull", "GET", f"{streams}/{_quoted(stream)}")
        e.api("stats-stream-after-pull", "GET", f"/v1/stats/current/vhosts/{vhost}/apps/{app}/streams/"
                                                f"{_quoted(stream)}")
        if e.target.llhls_base:
            after = e.media("llhls-after-pull", e.target.llhls_url(stream),
                            timeout_s=LLHLS_AFTER_PULL_TIMEOUT_S)
            after.notes.append("sent with the WebRTC viewer still connected")
    e.note("log-pull", LOG_NOT_RECORDED, ["the edge's log lines about the pull"])
