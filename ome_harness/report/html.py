"""test-report.html: the run report as one self-contained page (styles and charts inline) for sharing."""

from __future__ import annotations

from pathlib import Path

from jinja2 import select_autoescape

from ome_harness.report.charts import chart_svgs, screenshots
from ome_harness.report.render import environment, render_template, renderer
from ome_harness.results import Report


@renderer("html", kinds=("run", "connection"),
          filename=lambda r: "test-report.html" if r.kind == "run" else "connection-report.html")
def render_html(report: Report, template_dir: Path | None = None) -> str | None:
    # A diagnosis has its HTML page only when it holds something to look at (a browser's screenshot).
    shots = screenshots(report)
    if report.kind == "connection" and not shots:
        return None
    env = environment(template_dir)
    env.autoescape = select_autoescape(default=True)  # everything from the target is text, never markup
    return render_template(env, "test-report.html.j2", report=report, charts=chart_svgs(report),
                           screenshots=shots)
