"""`diagnose --targets FILE`: load the file, diagnose the fleet, find drift, check delivery."""

from __future__ import annotations

import time
from pathlib import Path

from ome_harness.fleet.delivery import check_delivery
from ome_harness.fleet.drift import fleet_issues
from ome_harness.fleet.model import FleetReport, TargetSection
from ome_harness.fleet.runner import diagnose_fleet
from ome_harness.fleet.targets import load_targets

EMULATOR_NOTE = (
    "Nodes marked as the OME API emulator are the harness's test double, not a real OvenMediaEngine; "
    "an emulator edge pulls a stream on a viewer's request as a real v0.20.0 edge was recorded doing, but "
    "through the origin's REST API, not OVT, and without WebRTC media, so no OVT behaviour is shown by it."
)


def diagnose_targets_file(
    path: Path, *, concurrency: int, connect_timeout: float, read_timeout: float
) -> tuple[FleetReport, list[str]]:
    """The fleet report and the secrets to redact from anything written (ConfigError on a bad file)."""
    fleet, tokens = load_targets(path)
    started = time.perf_counter()
    nodes = diagnose_fleet(
        fleet.targets,
        tokens,
        concurrency=concurrency,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    delivery = check_delivery(nodes, deadline_s=fleet.delivery_deadline_s, concurrency=concurrency)
    report = FleetReport(
        concurrency=concurrency,
        wall_ms=round((time.perf_counter() - started) * 1000, 1),
        targets=[TargetSection(row=n.row, report=n.report) for n in nodes],
        issues=fleet_issues(nodes, tokens, one_token=fleet.one_token),
        delivery=delivery,
    )
    if any(s.row.emulator for s in report.targets):
        report.notes.append(EMULATOR_NOTE)
    report.notes.append("Read-only: the diagnosis changed nothing on any node.")
    return report, [t for t in tokens.values() if t]
