"""Diagnose every node of a fleet concurrently, with a bound, each by the single-target diagnosis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from ome_harness.checks.diagnosis import diagnose
from ome_harness.fleet.model import TargetRow
from ome_harness.fleet.targets import FleetTarget
from ome_harness.ome.errors import OmeError
from ome_harness.ome.origin_map import origin_map
from ome_harness.results import Report, Status
from ome_harness.target import OmeTarget

# A node's diagnosis mostly waits on the network (~10 round trips; ~4 ms of this process's CPU), so
# on 2 cores hundreds can be in flight: 100 nodes answering in 100 ms took 7.3 s at 16, 1.2 s at
# 256; 1000 nodes answering at once cost ~8 % more CPU at 256 than at 16 (bench/README.md).
DEFAULT_CONCURRENCY = 256

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class NodeDiagnosis:
    """One node: as declared, as reached, its report, and the origins an edge says it pulls from."""

    declared: FleetTarget
    target: OmeTarget
    report: Report
    wall_ms: float
    origin_urls: list[str] | None = None
    origin_error: str | None = None
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def row(self) -> TargetRow:
        report, d = self.report, self.declared
        failing = [r.title for r in report.results if r.status is Status.ERROR]
        api = next((r for r in report.results if r.id == "api"), None)
        latency = (
            next((e.latency_ms for e in api.evidence if e.http_status is not None), None) if api else None
        )
        return TargetRow(
            name=d.name,
            role=d.role,
            region=d.region,
            origin=d.origin,
            api_url=d.api_url,
            status=report.status,
            version=report.target.version,
            latency_ms=latency,
            failing=failing,
            cause=unreachable_cause(report),
            emulator=report.target.emulator,
            wall_ms=round(self.wall_ms, 1),
        )


def unreachable_cause(report: Report) -> str | None:
    """Why a node could not be examined (refused, silent, not OME, token refused), or None."""
    by_id = {r.id: r for r in report.results}
    api, auth = by_id.get("api"), by_id.get("auth")
    if api is not None and api.status is Status.ERROR:
        return api.summary
    if auth is not None and auth.status is Status.ERROR and auth.facts.get("rejected"):
        return "Token rejected"
    return None


def bounded_map(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """`fn` over `items` with at most `concurrency` in flight; results in input order."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(items))), thread_name_prefix="omh-fleet"
    ) as pool:
        return list(pool.map(fn, items))


def diagnose_node(
    declared: FleetTarget, token: str | None, *, connect_timeout: float, read_timeout: float
) -> NodeDiagnosis:
    """The single-target diagnosis, read-only; an edge also says which origin it pulls from."""
    target = OmeTarget(
        kind="url",
        api_url=declared.api_url,
        token=token,
        vhost=declared.vhost,
        app=declared.app,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    started = time.perf_counter()
    try:
        report = diagnose(target, domain=declared.name, probe_host=False)
        node = NodeDiagnosis(declared, target, report, 0.0)
        if declared.role == "edge" and unreachable_cause(report) is None:
            node.origin_urls, node.origin_error = _declared_origins(target)
    finally:
        target.close()  # a thousand nodes must not keep a thousand idle connections
    node.wall_ms = (time.perf_counter() - started) * 1000
    return node


def _declared_origins(target: OmeTarget) -> tuple[list[str] | None, str | None]:
    # VHost.origins.origin[].pass.urls.url[] (edge_vhost.http, openapi v0.21.0): where an edge pulls from.
    try:
        with target.client(connection=target.connection()) as client:
            vhost = client.vhost(target.vhost)
    except OmeError as exc:
        return None, f"vhost {target.vhost!r} not readable: {exc}"
    return origin_map(vhost).urls, None


def diagnose_fleet(
    declared: list[FleetTarget],
    tokens: dict[str, str | None],
    *,
    concurrency: int,
    connect_timeout: float,
    read_timeout: float,
) -> list[NodeDiagnosis]:
    """Every node, at most `concurrency` at once: a dead node costs its own timeout, not the others'."""
    return bounded_map(
        lambda t: diagnose_node(
            t, tokens.get(t.name), connect_timeout=connect_timeout, read_timeout=read_timeout
        ),
        declared,
        concurrency,
    )
