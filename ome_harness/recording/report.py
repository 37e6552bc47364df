"""The fidelity report: Markdown for people, JSON for machines, over the same FidelityReport."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ome_harness.recording.fidelity import FidelityReport

ORDER = ("differ", "cannot run", "agree", "not recorded")


def render_markdown(report: FidelityReport) -> str:
    verdict = "PASS: every observation agrees" if report.passed else "FAIL: not every observation agrees"
    lines = [
        f"# Fidelity report: {verdict}",
        "",
        f"- Recording: `{report.recording}` (OME {report.ome_version or 'unknown'}; version "
        f"{report.version_source})",
        f"- Compared with: {report.against}",
        f"- Comparison: {'deep (every key path and value type)' if report.deep else 'field names and types'}",
        f"- Agree {report.count('agree')}, differ {report.count('differ')}, cannot run "
        f"{report.count('cannot run')}, not recorded {report.count('not recorded')}",
        "",
    ]
    if report.inferred:
        lines += ["## Inferred (the folder has no manifest)", "", *[f"- {i}" for i in report.inferred], ""]
    if report.runs:
        lines += ["## Procedures run", "", *[f"- {r}" for r in report.runs], ""]
    for verdict_name in ORDER:
        findings = [f for f in report.findings if f.verdict == verdict_name]
        if not findings:
            continue
        lines += [f"## {verdict_name.capitalize()} ({len(findings)})", ""]
        if verdict_name == "differ":
            lines += ["| observation | first difference | recording | compared |", "|---|---|---|---|"]
            for f in findings:
                d = f.difference
                assert d is not None
                lines.append(f"| `{f.key}` | {_cell(d.what)} | {_cell(d.expected)} | {_cell(d.got)} |")
        else:
            lines += [f"- `{f.key}`" + (f": {f.reason}" if f.reason else "") for f in findings]
        lines.append("")
    if report.tolerances:
        lines += ["## Tolerances", "", *[f"- {k}: {v}" for k, v in report.tolerances.items()], ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:200]


def render_json(report: FidelityReport) -> str:
    data = asdict(report)
    data["passed"] = report.passed
    data["schema_version"] = "1"
    return json.dumps(data, indent=2)


def write_fidelity_report(report: FidelityReport, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown, machine = out / "fidelity-report.md", out / "fidelity-report.json"
    markdown.write_text(render_markdown(report))
    machine.write_text(render_json(report) + "\n")
    return markdown, machine
