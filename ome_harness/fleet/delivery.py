"""Origin → edge delivery, proved the way OME works: a viewer on the edge, then the edge's API and stats.

A real edge serves nothing until a viewer asks (samples/v0.20.0-media/edge/): its API lists no app
and no stream before, so polling the API alone waits forever. On v0.20.0 a WebRTC viewer's
`request_offer` makes the edge pull the stream from its origin over OVT and answer the offer
(edge_webrtc_request_offer.txt); an LL-HLS viewer does not (edge_llhls_before_pull.txt), so the viewer
here is WebRTC signalling. While that viewer holds its place, the edge's API must list the stream with
`sourceType: "Ovt"` and a `sourceUrl` naming the configured origin (edge_stream_detail_after_pull.http),
and its stats must move. A viewer changes nothing, so this stays read-only.

Measured and named as such: time to offer (request_offer sent → offer received, the pull included on
v0.20.0), time to listed (request_offer sent → the API lists the stream pulled over OVT) and, where the
offer carries media, time to first frame (a second viewer's offer → its first decoded video frame,
aiortc, once the edge serves the stream; the emulator's offer has none, and the report says so).
"""

from __future__ import annotations

import time
from contextlib import suppress

from ome_harness.checks.network import is_loopback
from ome_harness.fleet.drift import points_at
from ome_harness.fleet.model import Delivery
from ome_harness.fleet.runner import NodeDiagnosis, bounded_map, unreachable_cause
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError
from ome_harness.ome.origin_map import EDGE_NOT_RECORDED, edge_recorded, host_port
from ome_harness.playback.signalling import SignallingViewer
from ome_harness.polling import Ready, WaitTimedOut, poll_until
from ome_harness.results import Status

DEFAULT_DEADLINE_S = 10.0
MIN_SAMPLE_S = 0.25


def check_delivery(
    nodes: list[NodeDiagnosis], *, deadline_s: float = DEFAULT_DEADLINE_S, concurrency: int = 16
) -> list[Delivery]:
    """One result per edge whose origin was examined; edges are checked concurrently."""
    by_name = {n.declared.name: n for n in nodes}
    pairs = [
        (n, by_name[n.declared.origin])
        for n in nodes
        if n.declared.role == "edge" and n.declared.origin in by_name
    ]
    return bounded_map(lambda pair: _deliver(*pair, deadline_s=deadline_s), pairs, concurrency)


def _live_streams(node: NodeDiagnosis) -> list[str]:
    streams = next((r for r in node.report.results if r.id == "streams" and r.status is Status.OK), None)
    found = streams.facts.get("streams") if streams else None
    return [str(s) for s in found] if isinstance(found, list) else []


def _deliver(edge: NodeDiagnosis, origin: NodeDiagnosis, *, deadline_s: float) -> Delivery:
    names = {"edge": edge.declared.name, "origin": origin.declared.name}
    for node, role in ((origin, "origin"), (edge, "edge")):
        if cause := unreachable_cause(node.report):
            return Delivery(
                **names, status=Status.SKIP, summary=f"not checked: the {role} is unreachable ({cause})"
            )
    live = _live_streams(origin)
    wanted = edge.declared.stream
    if wanted and wanted not in live:
        listed = ", ".join(live) or "no stream"
        return Delivery(**names, stream=wanted, status=Status.ERROR,
                        summary=f"origin {origin.declared.name} does not list {wanted!r} as live: the edge "
                                f"has nothing to pull (the origin lists {listed})")
    if not live:
        return Delivery(
            **names,
            status=Status.SKIP,
            summary=f"not checked: no live stream on origin {origin.declared.name}",
        )
    return _watch(edge, origin, wanted or live[0], deadline_s=deadline_s)


def _watch(edge: NodeDiagnosis, origin: NodeDiagnosis, stream: str, *, deadline_s: float) -> Delivery:
    base, default = edge.declared.signalling_base()
    url = f"{base}/{edge.target.app}/{stream}"
    viewer = f"WebRTC signalling {url}" + (" (default port 3333)" if default else "")
    done = Delivery(edge=edge.declared.name, origin=origin.declared.name, stream=stream, status=Status.OK,
                    summary="", viewer=viewer)
    version = edge.report.target.version
    if not edge_recorded(version):
        done.details.append(f"{EDGE_NOT_RECORDED} (v{version or 'unknown'}): the verdict rests on what this "
                            "viewer got, not on the behaviour recorded on v0.20.0")
    if edge.report.target.emulator:
        done.details.append("emulated edge: it pulls through the origin's REST API, not OVT, and its offer "
                            "has no WebRTC media")
    started = time.perf_counter()
    with SignallingViewer(url, timeout_s=deadline_s) as viewer:
        offered = viewer.request_offer()
        done.time_to_offer_ms = _ms(offered.seconds * 1000)
        if offered.failure:
            hint = " — the address is the default (API host, port 3333): set webrtc_url for this edge" \
                if default and "could not be opened" in offered.failure else ""
            return _failed(done, started, f"a viewer on the edge got no offer for {stream!r}: "
                                          f"{offered.failure}{hint}")
        with edge.target.client() as client:
            listed, why = _listed_over_ovt(client, edge, origin, stream, deadline_s=deadline_s)
            if why is not None:
                return _failed(done, started, why)
            done.source_url, done.time_to_listed_ms = listed, _ms((time.perf_counter() - started) * 1000)
            moved = _stats_move(client, edge, stream, deadline_s=deadline_s)
    if moved.startswith("stale"):
        return _failed(done, started, f"the edge lists {stream!r} pulled from {listed} but {moved}")
    _first_frame(done, url, offered.offer or {}, timeout_s=deadline_s)
    done.waited_ms = _ms((time.perf_counter() - started) * 1000)
    done.summary = (f"a viewer on the edge got an offer for {stream!r} in {done.time_to_offer_ms:.0f} ms; "
                    f"the edge pulled it over OVT from {listed} (listed after {done.time_to_listed_ms:.0f} "
                    f"ms) and its stats move ({moved})")
    return done


def _first_frame(done: Delivery, url: str, offer: dict, *, timeout_s: float) -> None:
    """Once the edge serves the stream, a second viewer completes WebRTC (aiortc) to its first decoded frame.

    Only where the offer carries media (`m=` lines): the emulator's has none. A failure here is a WARN, not
    an ERROR: the edge did pull and serve; what failed is this host's WebRTC path to it (ICE, DTLS)."""
    sdp = str((offer.get("sdp") or {}).get("sdp") or "")
    if "\nm=" not in sdp:
        done.details.append("time to first frame not measured: the offer carries no media (the emulator has "
                            "no WebRTC media)")
        return
    from ome_harness.playback.webrtc import WebrtcViewing, view

    try:
        watched = view(url, window_s=0.5, timeout_s=min(timeout_s, 8.0))
    except Exception as exc:  # the edge's SDP goes into aiortc as is: one odd offer must not end the run
        watched = WebrtcViewing(0, f"aiortc could not use the edge's offer ({type(exc).__name__}: {exc})")
    if watched.failure or watched.first_frame_s is None:
        done.status = Status.WARN
        done.details.append(f"no frame decoded through the edge: {watched.failure}")
        return
    done.time_to_first_frame_ms = _ms(watched.first_frame_s * 1000)
    done.details.append(f"time to first frame {done.time_to_first_frame_ms:.0f} ms (a second viewer, its "
                        f"offer received → first decoded video frame, aiortc; {watched.resolution}, "
                        f"{watched.fps} fps)")


def _listed_over_ovt(client: OmeClient, edge: NodeDiagnosis, origin: NodeDiagnosis, stream: str, *,
                     deadline_s: float) -> tuple[str, str | None]:
    """The stream's sourceUrl once the edge lists it pulled over OVT from its origin, or why not (a sentence
    starting with 'the edge')."""
    vhost, app = edge.target.vhost, edge.target.app
    configured = edge.origin_urls or []
    wrong: list[str] = []

    def pulled() -> Ready[str] | str:
        try:
            detail = client.stream(vhost, app, stream)
        except OmeError as exc:
            return f"{exc}"
        source, url = detail.input.source_type, detail.input.source_url or ""
        if source.lower() != "ovt":
            return f"listed with sourceType {source!r}, not 'Ovt'"
        # Named by the edge's own origin map and by the origin the targets file declares.
        if not (any(_same_address(url, c) for c in configured)
                and points_at(url, origin.declared.api_url, origin.declared.ovt_port)):
            wrong.append(url)
        return Ready(url)

    try:
        url = poll_until(pulled, deadline_s=deadline_s, what=f"edge {edge.declared.name} to list {stream!r}",
                         interval_s=0.1, max_interval_s=0.5)
    except WaitTimedOut as exc:
        return "", (f"the edge answered the viewer's offer but its API did not list {stream!r} pulled over "
                    f"OVT within {deadline_s:g}s (last seen: {exc.last_seen})")
    if wrong:
        return url, (f"the edge pulled {stream!r} from {url}, which is not its declared origin "
                     f"{origin.declared.name} ({', '.join(configured) or 'no origin map'} configured)")
    return url, None


def _same_address(a: str, b: str) -> bool:
    (host_a, port_a), (host_b, port_b) = host_port(a), host_port(b)
    if host_a is None or host_b is None or port_a != port_b:
        return False
    return host_a.lower() == host_b.lower() or (is_loopback(host_a) and is_loopback(host_b))


def _stats_move(client: OmeClient, edge: NodeDiagnosis, stream: str, *, deadline_s: float) -> str:
    """'+N bytes in S s' once the edge's totalBytesIn for the stream grew, else 'stale: …'."""
    vhost, app = edge.target.vhost, edge.target.app
    first = None
    with suppress(OmeError):
        first = client.stats(vhost, app, stream)
    started = time.perf_counter()
    last: list[int] = []

    def grew() -> Ready[int] | str:
        try:
            now = client.stats(vhost, app, stream)
        except OmeError as exc:
            return str(exc)
        last[:] = [now.total_bytes_in]
        # A short sample first, as the single-target metrics check does: the rate quoted means something.
        if (first is not None and now.total_bytes_in > first.total_bytes_in
                and time.perf_counter() - started >= MIN_SAMPLE_S):
            return Ready(now.total_bytes_in - first.total_bytes_in)
        return f"totalBytesIn {now.total_bytes_in}"

    try:
        growth = poll_until(grew, deadline_s=min(deadline_s, 5.0), what="the edge's stream stats to move",
                            interval_s=0.1, max_interval_s=0.5)
    except WaitTimedOut:
        at = first.total_bytes_in if first else (last[0] if last else "unreadable")
        return f"stale: its stats did not move (totalBytesIn stayed at {at})"
    took = time.perf_counter() - started
    return f"+{growth} bytes in {took:.2f} s, ~{growth * 8 / took / 1000:.0f} kbit/s"


def _failed(done: Delivery, started: float, why: str) -> Delivery:
    return done.model_copy(update={"status": Status.ERROR, "summary": why,
                                   "waited_ms": _ms((time.perf_counter() - started) * 1000)})


def _ms(value: float) -> float:
    return round(value, 1)
