"""Write a Report as Markdown, JSON and JUnit; every file passes the secret redactor on its way out."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)

from ome_harness.redaction import Redactor
from ome_harness.resources import resource_dir
from ome_harness.results import OBSERVED, Report, Status

BASENAMES = {"connection": "connection-report", "scenarios": "test-report"}


class TemplateProblem(ValueError):
    """A user's report template that cannot be compiled or rendered; the message names file and line."""


def check_templates(template_dir: Path) -> None:
    """Compile every *.j2 of a user's template folder now, before any work is done."""
    env = _environment(template_dir)
    for path in sorted(template_dir.glob("*.j2")):
        try:
            env.get_template(path.name)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(f"--template-dir: {path}, line {exc.lineno}: {exc.message}") from None
        except (UnicodeDecodeError, TemplateError) as exc:
            raise TemplateProblem(f"--template-dir: {path}: cannot be used as a template: {exc}") from None


def _environment(template_dir: Path | None) -> Environment:
    # A user's folder comes first; templates it does not override fall back to ours.
    loaders = [FileSystemLoader(str(template_dir))] if template_dir else []
    loaders.append(FileSystemLoader(str(resource_dir("templates"))))
    return Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)


def render_markdown(report: Report, template_dir: Path | None = None) -> str:
    name = f"{BASENAMES[report.kind]}.md.j2"
    template = _environment(template_dir).get_template(name)
    try:
        text = template.render(report=report)
    except TemplateError as exc:
        # Ours are tested; a user's override can name something a report does not have.
        line = _template_line(exc)
        raise TemplateProblem(f"template {template.filename}{line}: {exc}") from None
    # Collapse the blank runs the macros leave behind; keep Markdown's two-space line breaks.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _template_line(exc: BaseException) -> str:
    """The template line of a render error, from the traceback jinja2 rewrites to point into the template."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f", line {line}" if line else ""


def render_json(report: Report) -> str:
    data = report.model_dump(mode="json")
    data["status"] = report.status.value
    data["exit_code"] = report.exit_code
    data["counts"] = report.counts()
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_junit(report: Report) -> str:
    suite = ET.Element("testsuite", name=f"ome-harness {report.kind}", tests=str(len(report.results)),
                       failures=str(report.counts()["ERROR"]), skipped=str(report.counts()["SKIP"]),
                       errors="0", timestamp=report.generated_at.isoformat(timespec="seconds"),
                       time=f"{sum(r.duration_ms for r in report.results) / 1000:.3f}")
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname=f"ome_harness.{report.kind}", name=result.title,
                             time=f"{result.duration_ms / 1000:.3f}")
        evidence = "\n".join(f"{e.what} -> {e.outcome}" + (f" [{e.obtained}]" if e.obtained != OBSERVED else "")
                             for e in result.evidence)
        if result.status is Status.ERROR:
            failure = ET.SubElement(case, "failure", message=result.summary, type="ERROR")
            failure.text = "\n".join(filter(None, [evidence, result.remediation]))
        elif result.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=result.summary)
        else:
            ET.SubElement(case, "system-out").text = f"{result.status.value}: {result.summary}\n{evidence}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_report(report: Report, out: Path, *, secrets: list[str], template_dir: Path | None = None,
                 junit: bool = True) -> dict[str, Path]:
    """Write the Markdown, JSON (and JUnit) files; returns their paths by format."""
    redact = Redactor(secrets)
    out.mkdir(parents=True, exist_ok=True)
    base = BASENAMES[report.kind]
    contents = {"markdown": (out / f"{base}.md", render_markdown(report, template_dir)),
                "json": (out / f"{base}.json", render_json(report))}
    if junit:
        contents["junit"] = (out / f"{base}.junit.xml", render_junit(report))
    for path, text in contents.values():
        path.write_text(redact(text), encoding="utf-8")
    return {kind: path for kind, (path, _) in contents.items()}
