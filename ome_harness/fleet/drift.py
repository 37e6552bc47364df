"""Differences between the nodes of a fleet, and nodes that could not be examined, grouped by cause."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit

from ome_harness.checks.network import is_loopback
from ome_harness.fleet.model import FleetIssue
from ome_harness.fleet.runner import NodeDiagnosis, unreachable_cause
from ome_harness.ome.versions import OmeVersion, capabilities
from ome_harness.redaction import fingerprint
from ome_harness.results import Status


def fleet_issues(
    nodes: list[NodeDiagnosis], tokens: dict[str, str | None], *, one_token: bool
) -> list[FleetIssue]:
    """Every fleet-level issue: unreachable nodes first, then edges on the wrong origin, then drift."""
    issues = [*_unreachable(nodes), *_origin_mismatches(nodes), *_version_drift(nodes)]
    if one_token:
        issues += _token_drift(nodes, tokens)
    issues += _set_drift(nodes, "vhosts", "virtual hosts")
    issues += _set_drift(nodes, "apps", "applications")
    return issues


def _groups(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for key, name in pairs:
        groups[key].append(name)
    return dict(groups)


def _unreachable(nodes: list[NodeDiagnosis]) -> list[FleetIssue]:
    causes = _groups((cause, n.declared.name) for n in nodes if (cause := unreachable_cause(n.report)))
    return [
        FleetIssue(
            key="unreachable",
            severity="ERROR",
            title=f"{len(names)} node(s): {cause}",
            details=[", ".join(names)],
            targets=names,
        )
        for cause, names in sorted(causes.items())
    ]


def _version_drift(nodes: list[NodeDiagnosis]) -> list[FleetIssue]:
    versions = _groups((n.report.target.version, n.declared.name) for n in nodes if n.report.target.version)
    if len(versions) < 2:
        return []
    details = [f"v{v}: {', '.join(names)}" for v, names in sorted(versions.items())]
    by_name = {n.declared.name: n for n in nodes}
    for node in nodes:
        origin = by_name.get(node.declared.origin or "")
        mine, theirs = node.report.target.version, origin.report.target.version if origin else None
        if mine and theirs and mine != theirs:
            details.append(
                f"edge {node.declared.name} (v{mine}) under origin {origin.declared.name} (v{theirs}): "
                + _what_differs(theirs, mine)
            )
    if not any(d.startswith("edge ") for d in details):
        ordered = sorted(versions)
        details.append(f"v{ordered[0]} vs v{ordered[-1]}: {_what_differs(ordered[0], ordered[-1])}")
    return [
        FleetIssue(
            key="version-drift",
            severity="WARN",
            title="OME versions differ between nodes",
            details=details,
            targets=[n for names in versions.values() for n in names],
        )
    ]


def _what_differs(a: str, b: str) -> str:
    """What a client sees differently between two releases (ome/versions.py, from the release sources)."""
    try:
        ca, cb = capabilities(OmeVersion.parse(a)), capabilities(OmeVersion.parse(b))
    except ValueError:
        return "versions not comparable"
    said = []
    for attr, what in (
        ("scte35_api", "SCTE-35 through :sendEvent"),
        ("cue_api", "cue events through :sendEvent"),
    ):
        x, y = getattr(ca, attr, None), getattr(cb, attr, None)
        if x is not None and y is not None and x != y:
            said.append(
                f"{what} {'accepted' if x else 'refused'} on v{a}, {'accepted' if y else 'refused'} on v{b}"
            )
    return "; ".join(said) or "no known difference in behaviour the harness checks"


def _token_drift(nodes: list[NodeDiagnosis], tokens: dict[str, str | None]) -> list[FleetIssue]:
    prints = _groups((_print(tokens.get(n.declared.name)), n.declared.name) for n in nodes)
    if len(prints) < 2:
        return []
    # Fingerprints only: enough to see which nodes share a token, never the token.
    return [
        FleetIssue(
            key="token-drift",
            severity="WARN",
            title="API tokens differ where one token is expected",
            details=[f"{fp}: {', '.join(names)}" for fp, names in sorted(prints.items())]
            + ["Set one_token: false in the targets file if the nodes are meant to differ."],
            targets=[n for names in prints.values() for n in names],
        )
    ]


def _print(token: str | None) -> str:
    return fingerprint(token) if token else "no token"


def _set_drift(nodes: list[NodeDiagnosis], fact: str, what: str) -> list[FleetIssue]:
    seen: list[tuple[str, str]] = []
    for node in nodes:
        result = next((r for r in node.report.results if r.id == "vhosts" and r.status is Status.OK), None)
        if result is not None and fact == "apps" and result.facts.get("edge"):
            continue  # an edge's apps appear on its viewers' requests (edge_apps_before_any_viewer.http)
        values = result.facts.get(fact) if result else None
        if isinstance(values, list):
            seen.append((", ".join(sorted(map(str, values))) or "(none)", node.declared.name))
    groups = _groups(seen)
    if len(groups) < 2:
        return []
    return [
        FleetIssue(
            key=f"{fact}-drift",
            severity="WARN",
            title=f"The nodes' {what} differ",
            details=[f"{{{values}}}: {', '.join(names)}" for values, names in sorted(groups.items())],
            targets=[n for names in groups.values() for n in names],
        )
    ]


def _origin_mismatches(nodes: list[NodeDiagnosis]) -> list[FleetIssue]:
    by_name = {n.declared.name: n for n in nodes}
    issues = []
    for node in nodes:
        edge = node.declared
        if edge.role != "edge" or node.origin_urls is None and node.origin_error is None:
            continue
        origin = by_name[edge.origin or ""].declared
        if node.origin_error:
            issues.append(
                FleetIssue(
                    key="origin-unknown",
                    severity="WARN",
                    targets=[edge.name],
                    title=f"edge {edge.name}: its origin could not be read",
                    details=[node.origin_error],
                )
            )
            continue
        urls = node.origin_urls or []
        if not any(points_at(u, origin.api_url, origin.ovt_port) for u in urls):
            found = ", ".join(urls) or "no OriginMap (it pulls from nowhere)"
            issues.append(
                FleetIssue(
                    key="origin-mismatch",
                    severity="ERROR",
                    targets=[edge.name],
                    title=f"edge {edge.name} does not pull from its declared origin {origin.name}",
                    details=[
                        f"declared: {origin.name} ({origin.api_url}, OVT port {origin.ovt_port})",
                        f"the edge's OriginMap: {found}",
                    ],
                )
            )
    return issues


def points_at(url: str, origin_api_url: str, ovt_port: int) -> bool:
    """An OriginMap URL (`host:port/app`, maybe a scheme) names the origin's host on its OVT or API port."""
    there = urlsplit(url if "://" in url else "//" + url)
    origin = urlsplit(origin_api_url)
    if there.hostname is None or origin.hostname is None:
        return False
    same_host = there.hostname.lower() == origin.hostname.lower() or (
        is_loopback(there.hostname) and is_loopback(origin.hostname)
    )
    api_port = origin.port or (443 if origin.scheme == "https" else 80)
    try:
        port = there.port
    except ValueError:
        return False
    return same_host and port in (None, ovt_port, api_port)
