"""The scenario run's test-report.md/json: same look as the connection report, one line per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ome_harness.checks.diagnosis import EMULATOR_NOTE
from ome_harness.redaction import describe_secret
from ome_harness.report.render import write_report
from ome_harness.results import CheckResult, Finding, Report, TargetInfo

# What an interrupted run has done before it stopped (the unwinding is the signal handling's promise).
INTERRUPTED_DETAIL = ("Scenarios after the signal did not run; whatever the harness had started for them "
                      "(containers, ffmpeg, emulators, the reference backend, temporary files) was removed.")


def scenario_report(results: list[CheckResult], target: Any, notes: list[str] | None = None, *,
                    interrupted_by: str | None = None) -> Report:
    if target is not None:
        info = TargetInfo(kind=target.kind, api_url=target.api_url, key=describe_secret(target.token),
                          vhost=target.vhost, app=target.app, image=target.image, image_digest=target.image_digest,
                          emulator="ome-harness emulator" if target.kind == "emulator" else None)
    else:
        info = TargetInfo(api_url="-", key="Not configured")
    report = Report(kind="scenarios", title="OvenMediaEngine Scenario Report",
                    domain=urlsplit(info.api_url).hostname or "-", target=info, results=results,
                    issues=[Finding(key="scenario_failed", title=r.title, details=[r.summary])
                            for r in results if r.status.value == "ERROR"])
    counts = report.counts()
    report.headline = f"{counts['OK']} passed, {counts['ERROR']} failed, {counts['SKIP']} skipped"
    if info.emulator:
        report.notes.append(EMULATOR_NOTE)
    if target is not None and hasattr(target, "media_addresses"):
        # Where media went (or would have): a real deployment's addresses are configured, never guessed.
        report.notes.append(f"Media addresses: {target.media_addresses().described()}.")
    report.notes.extend(notes or [])
    if interrupted_by:
        report.mark_interrupted(interrupted_by, INTERRUPTED_DETAIL)
    return report


def write_scenario_report(results: list[CheckResult], target: Any, out: Path,
                          secrets: list[str] | None = None, notes: list[str] | None = None, *,
                          interrupted_by: str | None = None) -> dict[str, Path]:
    tokens = list(secrets or [])
    if target is not None and target.token:
        tokens.append(target.token)
    report = scenario_report(results, target, notes, interrupted_by=interrupted_by)
    # pytest writes junit.xml for a scenario run itself.
    return write_report(report, out, secrets=tokens, junit=False)
