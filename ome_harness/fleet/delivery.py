"""Origin → edge delivery: with a live stream on the origin, the edge serves it within a deadline.

"Serves" is judged by the edge's API listing the stream (OME lists a stream an edge relays);
the LL-HLS playlist is not fetched here, since an edge's playback port is not in the targets file.
"""

from __future__ import annotations

import time

from ome_harness.fleet.model import Delivery
from ome_harness.fleet.runner import NodeDiagnosis, bounded_map, unreachable_cause
from ome_harness.ome.errors import OmeError
from ome_harness.polling import Ready, WaitTimedOut, poll_until
from ome_harness.results import Status

DEFAULT_DEADLINE_S = 10.0


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
    if not live:
        return Delivery(
            **names,
            status=Status.SKIP,
            summary=f"not checked: no live stream on origin {origin.declared.name}",
        )
    stream = live[0]
    started = time.perf_counter()
    with edge.target.client() as client:

        def listed() -> Ready[bool] | str:
            try:
                on_edge = client.streams(edge.target.vhost, edge.target.app)
            except OmeError as exc:
                return f"the edge's stream list: {exc}"
            return Ready(True) if stream in on_edge else f"the edge lists {on_edge or 'no stream'}"

        try:
            poll_until(
                listed,
                deadline_s=deadline_s,
                what=f"edge {edge.declared.name} to serve {stream!r}",
                interval_s=0.1,
                max_interval_s=1.0,
            )
        except WaitTimedOut as exc:
            return Delivery(
                **names,
                stream=stream,
                status=Status.ERROR,
                waited_ms=_ms(started),
                summary=f"the edge did not serve {stream!r} within {deadline_s:g}s "
                f"(last seen: {exc.last_seen})",
            )
    return Delivery(
        **names,
        stream=stream,
        status=Status.OK,
        waited_ms=_ms(started),
        summary=f"the edge serves {stream!r} from origin {origin.declared.name}",
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
