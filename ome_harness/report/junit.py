"""JUnit XML: one testsuite for the diagnosis's checks and one per feature, one testcase per check/scenario.

The target and the OME version are suite properties, so a CI's test view shows what was tested.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ome_harness.report.render import renderer
from ome_harness.results import OBSERVED, CheckResult, Report, Status


def _suites(report: Report) -> dict[str, list[CheckResult]]:
    suites: dict[str, list[CheckResult]] = {}
    if report.checks:
        suites["diagnosis" if report.kind == "run" else f"ome-harness {report.kind}"] = report.checks
    suites.update(report.scenarios_by_feature())
    return suites


def _properties(report: Report) -> dict[str, str]:
    target = report.target
    where = target.api_url + (f" (image {target.image})" if target.image else "")
    props = {"target": f"{target.kind}: {where}", "ome_version": target.version or "unknown"}
    if target.emulator:
        props["emulator"] = "OME API emulator — not a real OvenMediaEngine"
    if report.harness_version:
        props["harness_version"] = report.harness_version
    if report.mode:
        props["mode"] = report.mode
    return props


def _counts(results: list[CheckResult]) -> dict[str, str]:
    return {"tests": str(len(results)), "failures": str(sum(r.status is Status.ERROR for r in results)),
            "skipped": str(sum(r.status is Status.SKIP for r in results)), "errors": "0",
            "time": f"{sum(r.duration_ms for r in results) / 1000:.3f}"}


def junit_case(suite: ET.Element, classname: str, result: CheckResult) -> None:
    """One <testcase> for a check or scenario result (the fleet report's node suites use it too)."""
    name = result.scenario.scenario if result.scenario else result.title
    case = ET.SubElement(
        suite, "testcase", classname=classname, name=name, time=f"{result.duration_ms / 1000:.3f}"
    )
    # Evidence inferred rather than tried says so (results.OBSERVED is the default).
    evidence = "\n".join(f"{e.what} -> {e.outcome}" + (f" [{e.obtained}]" if e.obtained != OBSERVED else "")
                         for e in result.evidence)
    if result.status is Status.ERROR:
        failure = ET.SubElement(case, "failure", message=result.summary, type="ERROR")
        failure.text = "\n".join(filter(None, [evidence, result.remediation]))
    elif result.status is Status.SKIP:
        ET.SubElement(case, "skipped", message=result.summary)
    else:
        ET.SubElement(case, "system-out").text = f"{result.status.value}: {result.summary}\n{evidence}"


@renderer("junit", kinds=("connection", "run"),
          filename=lambda r: "junit.xml" if r.kind == "run" else "connection-report.junit.xml")
def render_junit(report: Report, template_dir: Path | None = None) -> str:
    root = ET.Element("testsuites", name=f"ome-harness {report.kind}", **_counts(report.results))
    for name, results in _suites(report).items():
        suite = ET.SubElement(root, "testsuite", name=name, **_counts(results),
                              timestamp=report.generated_at.isoformat(timespec="seconds"))
        props = ET.SubElement(suite, "properties")
        for key, value in _properties(report).items():
            ET.SubElement(props, "property", name=key, value=value)
        for result in results:
            junit_case(suite, "diagnosis" if result.kind == "check" else name, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
