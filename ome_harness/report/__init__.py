"""Renderers over the one result model: Markdown (jinja2), JSON, JUnit XML and the terminal."""

from ome_harness.report.render import write_report

__all__ = ["write_report"]
