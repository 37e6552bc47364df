"""Write a Report in every format registered for its kind; every file passes the secret redactor on its way
out.

Renderers are registered by name (goss's `Outputer` map): a new format is one function and one
`@renderer(...)` line, and `write_report` never changes.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
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
from ome_harness.results import CheckResult, Evidence, Finding, NextStep, Report, Status, TargetInfo

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


@dataclass(frozen=True)
class Renderer:
    name: str
    kinds: tuple[str, ...]
    filename: Callable[[Report], str]
    render: Callable[[Report, Path | None], str | None]  # None: nothing to write for this report


RENDERERS: dict[str, Renderer] = {}


def renderer(name: str, *, kinds: tuple[str, ...], filename: Callable[[Report], str] | str):
    """Register `fn(report, template_dir) -> text` as the format `name` for reports of `kinds`."""
    named = filename if callable(filename) else (lambda _report: filename)

    def register(
        fn: Callable[[Report, Path | None], str | None],
    ) -> Callable[[Report, Path | None], str | None]:
        RENDERERS[name] = Renderer(name, kinds, named, fn)
        return fn

    return register


class TemplateProblem(ValueError):
    """A user's report template that cannot be compiled or rendered; the message names file and line."""


def check_templates(template_dir: Path) -> None:
    """Compile every *.j2 of a user's template folder, and render the report templates it overrides
    with a sample report, now — before any work is done, so a broken override never costs a diagnosis."""
    env = environment(template_dir)
    for path in sorted(template_dir.glob("*.j2")):
        try:
            env.get_template(path.name)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(f"--template-dir: {path}, line {exc.lineno}: {exc.message}") from None
        except (UnicodeDecodeError, TemplateError) as exc:
            raise TemplateProblem(f"--template-dir: {path}: cannot be used as a template: {exc}") from None
    for sample in _sample_reports():
        render_markdown(sample, template_dir)


def _sample_reports() -> list[Report]:
    """One report of each kind with a result of every status, for rendering a user's templates once."""
    results = [CheckResult(id=f"sample.{status.value.lower()}", title=f"Sample {status.value}", status=status,
                           summary="sample", evidence=[Evidence(what="sample", outcome="sample")],
                           remediation="sample")
               for status in Status]
    target = TargetInfo(api_url="http://127.0.0.1:8081", key="Configured (sample)")
    return [
        Report(
            kind=kind,
            title="Sample",
            domain="localhost",
            target=target,
            results=results,
            issues=[Finding(key="sample", title="Sample", details=["sample"])],
            next_steps=[NextStep(title="Sample", details=["sample"], commands=["true"])],
            notes=["sample"],
        )
        for kind in ("connection", "run")
    ]


def render_template(env: Environment, name: str, **context: object) -> str:
    """Render one template; a render error of a user's override is a TemplateProblem naming file and line."""
    template = env.get_template(name)
    try:
        return template.render(**context)
    except TemplateError as exc:
        # Ours are tested; a user's override can name something a report does not have.
        raise TemplateProblem(f"template {template.filename}{_template_line(exc)}: {exc}") from None


def _template_line(exc: BaseException) -> str:
    """The template line of a render error, from the traceback jinja2 rewrites to point into the template."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f", line {line}" if line else ""


def environment(template_dir: Path | None) -> Environment:
    # A user's folder comes first; templates it does not override fall back to ours.
    loaders = [FileSystemLoader(str(template_dir))] if template_dir else []
    loaders.append(FileSystemLoader(str(resource_dir("templates"))))
    return Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)


MARKDOWN_TEMPLATES = {"connection": "connection-report", "scenarios": "test-report", "run": "test-report"}


@renderer("markdown", kinds=("connection", "run"), filename=lambda r: f"{MARKDOWN_TEMPLATES[r.kind]}.md")
def render_markdown(report: Report, template_dir: Path | None = None) -> str:
    text = render_template(
        environment(template_dir), f"{MARKDOWN_TEMPLATES[report.kind]}.md.j2", report=report
    )
    # Collapse the blank runs the macros leave behind; keep Markdown's two-space line breaks.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@renderer("json", kinds=("connection", "run"),
          filename=lambda r: "results.json" if r.kind == "run" else "connection-report.json")
def render_json(report: Report, template_dir: Path | None = None) -> str:
    data = report.model_dump(mode="json")
    data["status"] = report.status.value
    data["exit_code"] = report.exit_code
    data["counts"] = report.counts()
    # A run report holds the diagnosis's checks and the scenarios: each counted apart as well.
    data["check_counts"] = report.counts("check")
    data["scenario_counts"] = report.counts("scenario")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# The other formats live in their own modules and register themselves on import: a new format is its
# module plus one line here. Loaded by name when a report is written, so that no renderer module and
# this one import each other (tests/test_package_structure.py).
RENDERER_MODULES: tuple[str, ...] = (
    "ome_harness.report.charts",
    "ome_harness.report.cucumber",
    "ome_harness.report.html",
    "ome_harness.report.junit",
)


def _import_renderers() -> None:
    for module in RENDERER_MODULES:
        importlib.import_module(module)


def write_report(report: Report, out: Path, *, secrets: list[str], template_dir: Path | None = None,
                 junit: bool = True, formats: list[str] | None = None) -> dict[str, Path]:
    """Write every format registered for the report's kind (or only `formats`); returns the paths by
    format."""
    _import_renderers()
    redact = Redactor(secrets)
    out.mkdir(parents=True, exist_ok=True)
    chosen = [
        r
        for r in RENDERERS.values()
        if report.kind in r.kinds and (formats is None or r.name in formats) and (junit or r.name != "junit")
    ]
    written: dict[str, Path] = {}
    for fmt in chosen:
        text = fmt.render(report, template_dir)
        if text is None:
            continue
        path = out / fmt.filename(report)
        path.write_text(redact(text), encoding="utf-8")
        written[fmt.name] = path
    summary = os.environ.get(STEP_SUMMARY_ENV)
    if summary and report.kind == "run":
        # GitHub Actions shows this file on the run's page; append, as other steps may have written to it.
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(redact(render_markdown(report, template_dir)) + "\n")
    return written
