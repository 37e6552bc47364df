"""The fleet report's renderers: fleet-report.md, .json (schema shipped beside) and .junit.xml.

Each node's section is the single-target connection report itself, its headings moved one level
down, so a node reads the same in the fleet report as when diagnosed alone.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ome_harness.fleet.model import FleetReport
from ome_harness.redaction import Redactor
from ome_harness.report.junit import junit_case
from ome_harness.report.render import environment, render_markdown, render_template
from ome_harness.results import Report, Status

BASENAME = "fleet-report"


def _demoted(markdown: str, name: str) -> str:
    text = re.sub(r"^(#{1,5}) ", r"#\1 ", markdown, flags=re.MULTILINE)
    return re.sub(r"\A## ", f"## {name} — ", text)


def _node_suite(report: Report, name: str, api_url: str) -> ET.Element:
    """One node's checks as a <testsuite>, one <testcase> per check."""
    suite = ET.Element("testsuite", name=name, hostname=api_url,
                       timestamp=report.generated_at.isoformat(timespec="seconds"))
    for result in report.results:
        junit_case(suite, "ome_harness.connection", result)
    _count(suite)
    return suite


def render_fleet_markdown(report: FleetReport, template_dir: Path | None = None) -> str:
    sections = [
        (s.row.name, _demoted(render_markdown(s.report, template_dir), s.row.name)) for s in report.targets
    ]
    emulated = [s.row.name for s in report.targets if s.row.emulator]
    # As the single-target report: a user's template folder first, ours behind it; a broken override
    # is named with its file and line.
    text = render_template(environment(template_dir), f"{BASENAME}.md.j2", report=report, sections=sections,
                           emulated=emulated)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_fleet_json(report: FleetReport, template_dir: Path | None = None) -> str:
    data = report.model_dump(mode="json")
    data["status"] = report.status.value
    data["exit_code"] = report.exit_code
    data["failed"] = report.failed
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_fleet_junit(report: FleetReport, template_dir: Path | None = None) -> str:
    """One <testsuite> per node (its checks), and one for the fleet (drift, delivery)."""
    suites = ET.Element("testsuites", name="ome-harness fleet", tests="0", failures="0")
    for section in report.targets:
        name = f"{section.row.name} ({section.row.role})"
        suites.append(_node_suite(section.report, name, section.row.api_url))
    fleet = ET.SubElement(
        suites, "testsuite", name="fleet", timestamp=report.generated_at.isoformat(timespec="seconds")
    )
    for issue in report.issues:
        case = ET.SubElement(
            fleet, "testcase", classname="ome_harness.fleet", name=f"{issue.key}: {issue.title}"
        )
        kind = "failure" if issue.severity == "ERROR" else "system-out"
        element = ET.SubElement(
            case, kind, **({"message": issue.title, "type": "ERROR"} if kind == "failure" else {})
        )
        element.text = "\n".join(issue.details)
    for delivery in report.delivery:
        case = ET.SubElement(
            fleet,
            "testcase",
            classname="ome_harness.fleet.delivery",
            name=f"delivery {delivery.origin} -> {delivery.edge}",
            time=f"{delivery.waited_ms / 1000:.3f}",
        )
        if delivery.status is Status.ERROR:
            ET.SubElement(case, "failure", message=delivery.summary, type="ERROR")
        elif delivery.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=delivery.summary)
    _count(fleet)
    suites.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    suites.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("errors", "0")


FLEET_RENDERERS = {
    "markdown": (f"{BASENAME}.md", render_fleet_markdown),
    "json": (f"{BASENAME}.json", render_fleet_json),
    "junit": (f"{BASENAME}.junit.xml", render_fleet_junit),
}


def write_fleet_report(
    report: FleetReport, out: Path, *, secrets: list[str], template_dir: Path | None = None
) -> dict[str, Path]:
    """Write every fleet format through the secret redactor; returns the paths by format."""
    redact = Redactor(secrets)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (filename, render) in FLEET_RENDERERS.items():
        path = out / filename
        path.write_text(redact(render(report, template_dir)), encoding="utf-8")
        written[name] = path
    return written
