"""The run report: the diagnosis made first plus the scenarios, in the example report's shape, from evidence.

Endpoint verdicts and checklist ticks come from the scenarios mapped to them by tag
(`report/coverage.py`); issues from the diagnosis's findings and the failed scenarios, grouped
by cause: when the diagnosis finds OME unusable, every failed scenario that needed OME is
evidence of that one issue, not an issue of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ome_harness.report.charts import chart_names
from ome_harness.report.coverage import CHECKLIST, ENDPOINTS, Endpoint
from ome_harness.results import (
    Behaviour,
    ChecklistItem,
    CheckResult,
    EndpointVerdict,
    Finding,
    LogTail,
    NextStep,
    Report,
    Status,
    TargetInfo,
)

TITLE = "OvenMediaEngine Test Report"
# A failure of any of these means OME itself is unusable for this run (see checks/api.py, checks/network.py).
CONNECTION_CHECKS = ("tcp", "api", "auth")
# What an interrupted run has done before it stopped (the unwinding is the signal handling's promise).
INTERRUPTED_DETAIL = ("Scenarios after the signal did not run; whatever the harness had started for them "
                      "(containers, ffmpeg, emulators, the reference backend, temporary files) was removed.")
ROOT_CAUSES = {
    "ome_unreachable": "OME Became Unreachable During the Scenarios",
    "ome_timeout": "OME Stopped Answering in Time During the Scenarios",
    "ome_unauthorized": "OME Refused the Access Token During the Scenarios",
    "ome_bad_response": "OME Answered With Something That Is Not Its API",
    "backend_unreachable": "The Stream Backend Cannot Be Reached",
    "database_unreachable": "The Backend's Database Cannot Be Reached",
}


def harness_version() -> str:
    try:
        return version("ome-harness")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def run_report(scenarios: list[CheckResult], facts: dict[str, Any]) -> Report:
    """Build the one report of `ome-harness run` from the scenario results and the session's facts."""
    diagnosis = Report.model_validate(facts["diagnosis"]) if facts.get("diagnosis") else None
    target = diagnosis.target if diagnosis else TargetInfo.model_validate(
        facts.get("target") or {"api_url": "-", "key": "Not configured"})
    checks = diagnosis.results if diagnosis else []
    report = Report(kind="run", title=TITLE, domain=diagnosis.domain if diagnosis else None, target=target,
                    results=[*checks, *scenarios], harness_version=harness_version(),
                    fail_on=facts.get("fail_on", "error"), mode=_mode(scenarios))
    report.headline = diagnosis.headline if diagnosis else "OME could not be started"
    report.error = diagnosis.error if diagnosis else facts.get("launch_error")
    report.endpoints = [_endpoint(e, scenarios) for e in ENDPOINTS]
    report.checklist = [_item(item.title, [s for s in scenarios if _tags(s) & item.tags]) for item in CHECKLIST]
    report.issues = _issues(diagnosis, scenarios, facts)
    report.next_steps = _next_steps(report, diagnosis, facts)
    report.notes = _notes(report, diagnosis, facts)
    report.charts = chart_names(report)
    if facts.get("interrupted_by"):
        report.mark_interrupted(facts["interrupted_by"], INTERRUPTED_DETAIL)
    if facts.get("container_log") and (report.exit_code or facts.get("launch_error")):
        report.container_log = LogTail.model_validate(facts["container_log"])
    return report


def _tags(result: CheckResult) -> set[str]:
    return set(result.scenario.tags) if result.scenario else set()


def _mode(scenarios: list[CheckResult]) -> str:
    ran = [s for s in scenarios if s.status is not Status.SKIP and "mutating" in _tags(s)]
    return "mutating" if ran else "read-only"


def _behaviours(scenarios: Iterable[CheckResult]) -> list[Behaviour]:
    return [Behaviour(title=s.scenario.scenario if s.scenario else s.title, status=s.status, scenario_id=s.id)
            for s in scenarios]


def _why_not(scenarios: list[CheckResult]) -> str | None:
    if not scenarios:
        return "no scenario of this run exercises it (deselected, or not among the features run)"
    failed = [s for s in scenarios if s.status is Status.ERROR]
    if failed:
        return f"{len(failed)} of {len(scenarios)} scenario(s) failed"
    skipped = [s for s in scenarios if s.status is Status.SKIP]
    if skipped:
        return f"skipped: {skipped[0].summary}"
    return None


def _endpoint(endpoint: Endpoint, scenarios: list[CheckResult]) -> EndpointVerdict:
    mine = [s for s in scenarios if endpoint.tag in _tags(s)]
    ran = [s for s in mine if s.status is not Status.SKIP]
    if any(s.status is Status.ERROR for s in mine):
        status = "FAILED"
    elif ran:
        status = "VERIFIED"
    else:
        status = "NOT TESTED"
    reason = _why_not(mine) if status != "VERIFIED" else None
    return EndpointVerdict(key=endpoint.key, title=endpoint.title, route=endpoint.route, status=status,
                           reason=reason, behaviours=_behaviours(mine))


def _item(title: str, scenarios: list[CheckResult]) -> ChecklistItem:
    done = bool(scenarios) and all(s.status is Status.OK for s in scenarios)
    return ChecklistItem(title=title, done=done, reason=None if done else _why_not(scenarios),
                         behaviours=_behaviours(scenarios))


def _endpoint_of(result: CheckResult) -> Endpoint | None:
    return next((e for e in ENDPOINTS if e.tag in _tags(result)), None)


def _issues(diagnosis: Report | None, scenarios: list[CheckResult], facts: dict[str, Any]) -> list[Finding]:
    issues: list[Finding] = []
    failed = [s for s in scenarios if s.status is Status.ERROR]
    if facts.get("launch_error"):
        issues.append(Finding(key="container_did_not_start", title="The OME Container Did Not Start",
                              details=[facts["launch_error"], "No scenario could run against it."]))
    if diagnosis and diagnosis.issues:
        root = diagnosis.issues[0].model_copy(deep=True)
        issues += [root, *(finding.model_copy(deep=True) for finding in diagnosis.issues[1:])]
        if any(r.id in CONNECTION_CHECKS and r.status is Status.ERROR for r in diagnosis.results):
            # One cause, one issue: the failed scenarios that needed OME are its evidence.
            covered = [s for s in failed if s.scenario is None or s.scenario.uses_target]
            if covered:
                root.details.append(f"{len(covered)} scenario(s) that need OME failed with it: {_names(covered)}")
            failed = [s for s in failed if s not in covered]
    groups: dict[tuple[str, ...], list[CheckResult]] = {}
    for result in failed:
        groups.setdefault(_cause_key(result), []).append(result)
    issues.extend(_scenario_issue(key, results) for key, results in groups.items())
    return issues


def _cause_key(result: CheckResult) -> tuple[str, ...]:
    run = result.scenario
    if run is not None and run.cause:
        return ("cause", run.cause)
    if run is None or run.failed_step is None:
        return ("setup", result.summary)  # same words = same cause (a fixture every scenario needs)
    if run.failed_step.startswith("Given"):
        # Preconditions failing with the same words have one cause, whichever Given said them.
        error = next((s.error for s in run.steps if s.status == "failed" and s.error), result.summary)
        return ("given", error)
    endpoint = _endpoint_of(result)
    return ("step", endpoint.key if endpoint else run.feature, run.failed_step)


def _scenario_issue(key: tuple[str, ...], results: list[CheckResult]) -> Finding:
    first = results[0]
    run = first.scenario
    endpoint = _endpoint_of(first)
    if key[0] == "cause":
        title = ROOT_CAUSES.get(key[1], key[1])
    elif key[0] in ("setup", "given"):
        title = "Scenarios Could Not Be Set Up"
    elif endpoint is not None and key[0] == "step":
        title = f"{endpoint.title}: “{run.failed_step.split(' ', 1)[1]}” Does Not Hold"  # type: ignore[union-attr]
    else:
        title = f"{run.feature if run else 'Scenarios'}: “{run.failed_step if run else first.title}” Failed"
    details = [f"Endpoint: `{endpoint.route}`"] if endpoint else []
    if run is not None and run.failed_step:
        details.append(f"Failed step: {run.failed_step}")
    details.append(f"Found: {first.summary}")
    details.append(f"Scenario(s): {_names(results)}")
    return Finding(key="scenario:" + ":".join(key[:2]), title=title, details=details)


def _names(results: list[CheckResult]) -> str:
    return "; ".join(r.title for r in results)


def _next_steps(report: Report, diagnosis: Report | None, facts: dict[str, Any]) -> list[NextStep]:
    # The diagnosis's own "all healthy, now run the scenarios" advice is what this run just did.
    copied = diagnosis.next_steps if diagnosis and (diagnosis.issues or diagnosis.exit_code) else []
    steps = [s.model_copy(deep=True) for s in copied]
    target = report.target
    if facts.get("launch_error"):
        log = facts.get("container_log", {}).get("path")
        steps.append(NextStep(title="Read why OME did not start",
                              details=[f"The container's full log: {log}" if log else "The container left no log."],
                              commands=[f"tail -n 50 {log}"] if log else []))
    failing = [e for e in report.endpoints if e.status == "FAILED"]
    for endpoint in failing:
        steps.append(NextStep(title=f"Fix the backend's {endpoint.route}",
                              details=[f"{b.title}: failed" for b in endpoint.behaviours
                                       if b.status is Status.ERROR]))
    failed = [s for s in report.scenarios if s.status is Status.ERROR]
    if failed:
        steps.append(NextStep(title="Re-run the failing scenarios after the fix",
                              details=["Only the failures, with every step shown:"],
                              commands=[_rerun(target, failed)]))
    read_only = [e for e in report.endpoints if e.status == "NOT TESTED" and e.reason and "mutating" in e.reason]
    if read_only:
        steps.append(NextStep(title="Exercise the backend's endpoints",
                              details=["They change state, so they were skipped on a target the harness did "
                                       "not launch. Run them against a disposable OME, or allow it here:"],
                              commands=["ome-harness run --target container",
                                        _rerun(target, [], "--allow-mutating")]))
    if not steps:
        steps.append(NextStep(title="Nothing to fix",
                              details=["Every check and scenario passed. Keep this report as the baseline."]))
    return steps


def _rerun(target: TargetInfo, failed: list[CheckResult], extra: str = "") -> str:
    where = f"--target {target.kind}" + (f" --api-url {target.api_url}" if target.kind == "url" else "")
    names = " or ".join(sorted({r.id.rsplit("::", 1)[-1].split("[")[0] for r in failed}))
    select = f' -k "{names}"' if names else ""
    return f"ome-harness run {where}{select} -v {extra}".strip()


def _notes(report: Report, diagnosis: Report | None, facts: dict[str, Any]) -> list[str]:
    notes = list(diagnosis.notes) if diagnosis else []
    notes = [n for n in notes if not n.startswith("Read-only: the diagnosis")]
    notes.append("Read-only: the diagnosis made before the scenarios changed nothing on the target.")
    if report.mode == "mutating":
        notes.append("Mutating: scenarios tagged @mutating created channels and streams on the target "
                     + ("(launched by the harness)." if report.target.kind != "url" else "(allowed explicitly)."))
    degraded = [s for s in report.scenarios if s.scenario and s.scenario.feature_file.endswith(
        "backend_degraded.feature")]
    if degraded and all(s.status is Status.OK for s in degraded):
        notes.append("Degraded mode observed: with its OME stopped, the backend kept start, stop and its "
                     "database working and refused what needs OME with 503.")
    elif degraded:
        notes.append("Degraded mode was not fully verified: see the degraded-mode scenarios above.")
    else:
        notes.append("Degraded mode was not exercised in this run.")
    scte35 = next((c for c in report.checks if c.id == "scte35" and c.status is Status.WARN), None)
    if scte35 is not None:
        notes.append(f"Version caveat: {scte35.summary}")
    if facts.get("media_addresses"):
        notes.append(f"Media addresses: {facts['media_addresses']}.")
    if facts.get("selection"):
        notes.append(facts["selection"])
    return notes
