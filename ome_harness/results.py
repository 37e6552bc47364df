"""The one result model: checks and scenarios both produce these; every renderer reads them."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

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


class CheckResult(BaseModel):
    """A check = what is looked at + what is expected + what was found."""

    id: str
    title: str
    status: Status
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)
    remediation: str | None = None
    duration_ms: float = 0.0
    facts: dict[str, Any] = Field(default_factory=dict)


class Finding(BaseModel):
    """An issue found, derived from failed checks, in the words of the report's 'Issues Found'."""

    key: str
    title: str
    details: list[str] = Field(default_factory=list)


class NextStep(BaseModel):
    title: str
    details: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)


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
    kind: Literal["connection", "scenarios"]
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
        """Part of the interface: 0 nothing failed, 1 a check failed, 130/143 interrupted by SIGINT/SIGTERM.

        2 (bad input) and 3 (a bug of the harness) end a command before any report exists.
        """
        if self.interrupted_by:
            return 128 + signal.Signals[self.interrupted_by].value
        return 1 if any(r.status is Status.ERROR for r in self.results) else 0

    def mark_interrupted(self, signal_name: str, detail: str) -> None:
        """Say in the headline and the issues that a signal stopped the run, and what was cleaned up."""
        self.interrupted_by = signal_name
        self.headline = f"INTERRUPTED by {signal_name}" + (f" — {self.headline}" if self.headline else "")
        self.issues.insert(0, Finding(key="interrupted", title=f"The run was interrupted by {signal_name}",
                                      details=[detail]))

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status is s) for s in Status}
