"""test-report.html: the run report as one self-contained page (styles and charts inline) for sharing."""

from __future__ import annotations

from pathlib import Path

from jinja2 import select_autoescape

from ome_harness.report.charts import chart_svgs
from ome_harness.report.render import environment, render_template, renderer
from ome_harness.results import Report


@renderer("html", kinds=("run",), filename="test-report.html")
def render_html(report: Report, template_dir: Path | None = None) -> str:
    env = environment(template_dir)
    env.autoescape = select_autoescape(default=True)  # everything from the target is text, never markup
    return render_template(env, "test-report.html.j2", report=report, charts=chart_svgs(report))
