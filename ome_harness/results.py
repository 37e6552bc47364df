"""The one result model: checks and scenarios both produce these; every renderer reads them."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    ERROR = "ERROR"
    SKIP = "SKIP"

    @property
    def rank(self) -> int:
        return {"OK": 0, "SKIP": 1, "WARN": 2, "ERROR": 3}[self.value]


OBSERVED = "observed"
BY_VERSION = "by version (not tried: read-only)"


class Evidence(BaseModel):
    """One observation behind a verdict: what was tried and what came back.

    `obtained` says how: "observed" (tried and seen), or how it was inferred without trying,
    e.g. BY_VERSION for what a read-only diagnosis knows of a version but did not ask OME."""

    what: str
    outcome: str
    http_status: int | None = None
    latency_ms: float | None = None
    obtained: str = OBSERVED


class ScenarioStep(BaseModel):
    """One Gherkin step as it ran: what Cucumber JSON and the report's failed-step line need."""

    keyword: str
    name: str
    line: int = 0
    status: Literal["passed", "failed", "skipped", "undefined"] = "skipped"
    duration_ms: float = 0.0
    error: str | None = None


class ScenarioRun(BaseModel):
    """Where a scenario result came from: its feature, its tags (which map it to endpoints) and its steps."""

    feature: str
    feature_file: str = ""
    feature_line: int = 0
    feature_tags: list[str] = Field(default_factory=list)
    scenario: str
    line: int = 0
    tags: list[str] = Field(default_factory=list)
    steps: list[ScenarioStep] = Field(default_factory=list)
    failed_step: str | None = None
    # Measurements a step kept for the report's charts (report/charts.py), as plain data.
    charts: dict[str, Any] = Field(default_factory=dict)
    uses_target: bool = True  # the scenario asked for the run's OME target (so an OME-down cause covers it)
    # Why it failed, when a typed error told us (e.g. "ome_unreachable"); None when only an assertion did.
    cause: str | None = None


class CheckResult(BaseModel):
    """A check = what is looked at + what is expected + what was found.

    What is looked at: `title`; what is expected: `expected`; what was found: `status`, `summary`,
    `evidence` and `facts`; the error that ended it: `error` (text, reported) and `failure` (the
    exception itself, for code that branches on its type; never serialised); timing: `duration_ms`.
    """

    # `failure` holds an exception object, which pydantic can only check with isinstance.
    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    title: str
    status: Status
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)
    remediation: str | None = None
    duration_ms: float = 0.0
    facts: dict[str, Any] = Field(default_factory=dict)
    kind: Literal["check", "scenario"] = "check"
    scenario: ScenarioRun | None = None
    expected: str | None = None
    error: str | None = None
    failure: Exception | None = Field(default=None, exclude=True, repr=False)


class Finding(BaseModel):
    """An issue found, derived from failed checks, in the words of the report's 'Issues Found'."""

    key: str
    title: str
    details: list[str] = Field(default_factory=list)


class NextStep(BaseModel):
    title: str
    details: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)


class Behaviour(BaseModel):
    """A behaviour of an endpoint or a checklist item, and whether the scenario proving it passed."""

    title: str
    status: Status
    scenario_id: str


class EndpointVerdict(BaseModel):
    """One backend endpoint of the contract: VERIFIED, FAILED or NOT TESTED (with why)."""

    key: str
    title: str
    route: str
    status: Literal["VERIFIED", "FAILED", "NOT TESTED"]
    reason: str | None = None
    behaviours: list[Behaviour] = Field(default_factory=list)


class ChecklistItem(BaseModel):
    """An 'Implementation Status' line: done only when every scenario mapped to it passed."""

    title: str
    done: bool
    reason: str | None = None
    behaviours: list[Behaviour] = Field(default_factory=list)


class LogTail(BaseModel):
    """The end of a launched container's log (secrets masked on output) and where the whole log is."""

    lines: str
    path: str | None = None


class TargetInfo(BaseModel):
    """What was examined; `emulator` is set whenever any answer came from the built-in emulator."""

    kind: Literal["url", "emulator", "container"] = "url"
    api_url: str
    key: str
    vhost: str = "default"
    app: str = "app"
    version: str | None = None
    emulator: str | None = None
    image: str | None = None
    image_digest: str | None = None


class Report(BaseModel):
    schema_version: str = SCHEMA_VERSION
    kind: Literal["connection", "scenarios", "run"]
    title: str
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    domain: str | None = None
    target: TargetInfo
    headline: str = ""
    error: str | None = None
    results: list[CheckResult] = Field(default_factory=list)
    issues: list[Finding] = Field(default_factory=list)
    next_steps: list[NextStep] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # The run report (`ome-harness run`): diagnosis checks and scenarios in `results`, plus:
    harness_version: str | None = None
    mode: Literal["read-only", "mutating"] | None = None
    fail_on: Literal["warn", "error"] = "error"
    endpoints: list[EndpointVerdict] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    container_log: LogTail | None = None
    charts: list[str] = Field(default_factory=list)
    # "SIGINT" / "SIGTERM" when a signal stopped the run early: never a success, whatever finished.
    interrupted_by: str | None = None

    @property
    def status(self) -> Status:
        if self.interrupted_by:
            return Status.ERROR
        # A skipped check says why on its own line; it does not colour the verdict.
        ran = [r.status for r in self.results if r.status is not Status.SKIP]
        return max(ran, key=lambda s: s.rank, default=Status.SKIP)

    @property
    def exit_code(self) -> int:
        """Part of the interface: 0 nothing failed, 1 a check failed — or warned, with fail_on "warn" —,
        130/143 interrupted by SIGINT/SIGTERM.

        2 (bad input) and 3 (a bug of the harness) end a command before any report exists.
        """
        if self.interrupted_by:
            return 128 + signal.Signals[self.interrupted_by].value
        failing = {Status.ERROR, Status.WARN} if self.fail_on == "warn" else {Status.ERROR}
        return 1 if any(r.status in failing for r in self.results) else 0

    def mark_interrupted(self, signal_name: str, detail: str) -> None:
        """Say in the headline and the issues that a signal stopped the run, and what was cleaned up."""
        self.interrupted_by = signal_name
        self.headline = f"INTERRUPTED by {signal_name}" + (f" — {self.headline}" if self.headline else "")
        self.issues.insert(0, Finding(key="interrupted", title=f"The run was interrupted by {signal_name}",
                                      details=[detail]))

    def counts(self, kind: Literal["check", "scenario"] | None = None) -> dict[str, int]:
        """Results per status; `kind` counts only checks or only scenarios (a run report holds both)."""
        results = [r for r in self.results if kind is None or r.kind == kind]
        return {s.value: sum(1 for r in results if r.status is s) for s in Status}

    @property
    def checks(self) -> list[CheckResult]:
        return [r for r in self.results if r.kind == "check"]

    @property
    def scenarios(self) -> list[CheckResult]:
        return [r for r in self.results if r.kind == "scenario"]

    def scenarios_by_feature(self) -> dict[str, list[CheckResult]]:
        grouped: dict[str, list[CheckResult]] = {}
        for result in self.scenarios:
            feature = result.scenario.feature if result.scenario else result.title.partition(": ")[0]
            grouped.setdefault(feature, []).append(result)
        return grouped
