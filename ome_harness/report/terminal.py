"""The rich summary table on the terminal (stderr, so stdout stays clean for pipes)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ome_harness.redaction import Redactor
from ome_harness.results import Report, Status

STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.ERROR: "bold red", Status.SKIP: "dim"}


def print_summary(
    report: Report, files: dict[str, object], redact: Redactor, console: Console | None = None
) -> None:
    console = console or Console(stderr=True, highlight=False)
    if report.target.emulator:
        console.print("[bold yellow]Target: OME API emulator — not a real OvenMediaEngine[/]")
    # Everything that comes from the target or the user is data, not rich markup ("[scte35]" must survive).
    table = Table(title=escape(redact(f"{report.title} — {report.target.api_url}")), title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Check")
    table.add_column("Status")
    table.add_column("Detail", overflow="fold")
    for index, result in enumerate(report.results, 1):
        table.add_row(str(index), escape(result.title), f"[{STYLES[result.status]}]{result.status.value}[/]",
                      escape(redact(result.summary)))
    console.print(table)
    for issue in report.issues:
        console.print(f"[bold red]Issue:[/] {escape(redact(issue.title))}")
    console.print(f"[{STYLES[report.status]}]{report.status.value}[/] {escape(redact(report.headline))}")
    for kind, path in files.items():
        console.print(escape(f"{kind}: {path}"), soft_wrap=True)
