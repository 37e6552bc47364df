"""The fleet report's data: one row and one single-target report per node, then fleet-level issues."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ome_harness.results import Report, Status

FLEET_SCHEMA_VERSION = "1"


class TargetRow(BaseModel):
    """The summary table's line for one node."""

    name: str
    role: Literal["origin", "edge"]
    region: str | None = None
    origin: str | None = None
    api_url: str
    status: Status
    version: str | None = None
    latency_ms: float | None = None
    failing: list[str] = Field(default_factory=list)
    cause: str | None = None
    emulator: str | None = None
    wall_ms: float = 0.0


class FleetIssue(BaseModel):
    """A difference between nodes, or a node that cannot be reached, as the report lists it."""

    key: str
    severity: Literal["WARN", "ERROR"]
    title: str
    details: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)


class Delivery(BaseModel):
    """Origin → edge: a viewer asked the edge for the origin's live stream; did the edge pull and serve it."""

    edge: str
    origin: str
    stream: str | None = None
    status: Status
    summary: str
    waited_ms: float = 0.0
    # The viewer used (its signalling URL, and whether that URL is the default port 3333).
    viewer: str | None = None
    # request_offer sent → offer received (on a v0.20.0 edge this includes the pull from the origin).
    time_to_offer_ms: float | None = None
    # request_offer sent → the edge's API lists the stream with sourceType Ovt from the configured origin.
    time_to_listed_ms: float | None = None
    # A second viewer, once the edge serves the stream: its offer received → first decoded video frame.
    time_to_first_frame_ms: float | None = None
    source_url: str | None = None
    details: list[str] = Field(default_factory=list)


class TargetSection(BaseModel):
    row: TargetRow
    report: Report


class FleetReport(BaseModel):
    schema_version: str = FLEET_SCHEMA_VERSION
    kind: Literal["fleet"] = "fleet"
    title: str = "OvenMediaEngine Fleet Report"
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    concurrency: int
    wall_ms: float
    targets: list[TargetSection]
    issues: list[FleetIssue] = Field(default_factory=list)
    delivery: list[Delivery] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        """Names of nodes that failed (their own checks, or an ERROR issue naming them)."""
        names = [s.row.name for s in self.targets if s.row.status is Status.ERROR]
        names += [n for i in self.issues if i.severity == "ERROR" for n in i.targets if n not in names]
        names += [d.edge for d in self.delivery if d.status is Status.ERROR and d.edge not in names]
        return names

    @property
    def status(self) -> Status:
        if self.failed:
            return Status.ERROR
        return (
            Status.WARN
            if self.issues or any(s.row.status is Status.WARN for s in self.targets)
            or any(d.status is Status.WARN for d in self.delivery)
            else Status.OK
        )

    @property
    def exit_code(self) -> int:
        """0 all nodes fine (drift is a warning), 1 a node failed; 2 (bad input) is raised earlier."""
        return 1 if self.failed else 0
