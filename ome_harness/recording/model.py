"""What a recording holds: observations (one per file) and the manifest that describes them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ObservationKind = Literal["http", "timeline", "text"]
FORMAT_VERSION = 1


@dataclass
class TimelineEntry:
    """One request of a series sent over time (the young stream's master, its first chunklist)."""

    series: str
    sent_s: float
    answered_s: float | None  # None: no answer before the request's own timeout
    status: int | None
    extra: str = ""  # what else was seen ("segments=2 parts=25", "listed=yes")


@dataclass
class Observation:
    """One thing seen: an answer (kind http), a series over time (timeline) or a text (a log, a reply).

    `key` is `<procedure>/<step>`: the same key in two recordings is the same question asked.
    """

    key: str
    kind: ObservationKind = "http"
    request: str = ""  # "GET /v1/version" (the target's path, tokens removed)
    auth: str = ""  # which credential was sent: "the recording's token", "a wrong token", "none"
    sent_body: str | None = None
    status: int | None = None  # None: no answer within the deadline (see `notes`)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""  # as received (decoded); binary bodies as "<N bytes of TYPE>"
    elapsed_s: float | None = None
    notes: list[str] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    text: str = ""
    file: str = ""  # the file it lives in, relative to the recording folder

    @property
    def procedure(self) -> str:
        return self.key.split("/", 1)[0]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class ProcedureRun:
    """How one procedure went: done, stopped (deadline, an error of the target), or not run and why."""

    name: str
    version: int
    outcome: Literal["done", "stopped", "not run"]
    elapsed_s: float = 0.0
    reason: str = ""


@dataclass
class Manifest:
    """recording.json: what was recorded, from which OME, how, and what was removed."""

    ome_version: str | None
    version_source: str  # how the version is known ("GET /v1/version", "inferred from the folder name")
    captured: str | None = None
    tool: str = ""
    emulated: bool = False  # the target answered as the built-in emulator
    vhost: str = "default"
    app: str = "app"
    ports: dict[str, int | None] = field(default_factory=dict)
    llhls: dict[str, float | None] = field(default_factory=dict)  # segment_s, part_s from the app's config
    procedures: list[ProcedureRun] = field(default_factory=list)
    redaction: dict[str, Any] = field(default_factory=dict)
    not_reachable: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)  # what a hand-made folder's reader had to guess
    interrupted_by: str | None = None
    # The edge recorded with --edge (its name and ports), empty when none was.
    edge: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "procedures"}
        runs = [ProcedureRun(**run) for run in data.get("procedures", [])]
        return cls(**known, procedures=runs)


@dataclass
class Recording:
    """A recording folder in memory: its manifest and its observations by key."""

    manifest: Manifest
    observations: dict[str, Observation] = field(default_factory=dict)
    # Files of a hand-made folder no procedure asks for (named, so a report can say so).
    unmapped: list[str] = field(default_factory=list)
    folder: str = ""

    def add(self, observation: Observation) -> Observation:
        self.observations[observation.key] = observation
        return observation

    def procedures(self) -> list[str]:
        return list(dict.fromkeys(o.procedure for o in self.observations.values()))
