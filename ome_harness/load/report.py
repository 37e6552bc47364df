"""Write a load run's load-report.md, load.json and load-chart.svg (Locust's CSV/HTML sit beside them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ome_harness.load.chart import load_chart_svg
from ome_harness.load.results import P95_JUDGED_KINDS, LoadResult, Verdict
from ome_harness.load.settings import LoadSettings
from ome_harness.redaction import Redactor
from ome_harness.target.base import OmeTarget


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _target_lines(target: OmeTarget, redactor: Redactor) -> list[str]:
    lines = [f"**API URL:** `{redactor(target.api_url)}`  ",
             f"**LL-HLS:** `{redactor(target.llhls_base or '-')}`  ",
             f"**Target:** {target.kind}{' (launched by the harness)' if target.launched else ''}"]
    if target.image:
        lines[-1] += "  "
        lines.append(f"**Image:** `{target.image}`")
    return lines


def render_markdown(target: OmeTarget, settings: LoadSettings, result: LoadResult, verdict: Verdict,
                    *, emulated: bool, redactor: Redactor) -> str:
    status = "PASS" if verdict.passed else "FAIL"
    limits = settings.thresholds
    lines = ["# OME Load Report", "",
             f"**Date:** {datetime.now(UTC).strftime('%B %d, %Y %H:%M UTC')}  ",
             f"**Stream:** {settings.stream}"]
    if emulated:
        lines += [
            "",
            "> **Target: OME emulator — not a real OvenMediaEngine.** A test double on this machine: "
            "these numbers say nothing about what a real OME holds.",
        ]
    lines += ["", "## Verdict", "", f"**Status:** [{status}] "
              + ("every threshold held" if verdict.passed else "; ".join(verdict.reasons)), ""]
    if result.interrupted_by:
        lines += [
            f"> The run was stopped early by {result.interrupted_by}; the figures cover the time it ran.",
            "",
        ]
    lines += [
        "## Target",
        "",
        *_target_lines(target, redactor),
        "",
        "## Settings",
        "",
        f"- viewers: {settings.viewers} (spawn rate {settings.spawn_rate:g}/s), duration "
        f"{settings.duration_s} s, "
        + (
            f"a Locust master and {settings.workers} workers on this machine"
            if settings.workers
            else "one local Locust process"
        ),
        f"- thresholds: p95 ≤ {limits.max_p95_ms:g} ms ({', '.join(P95_JUDGED_KINDS)}), "
        f"error rate ≤ {limits.max_error_rate:g}, stall rate ≤ {limits.max_stall_rate:g}",
        f"- request timeout {settings.request_timeout_s:g} s",
        "",
        "## Requests",
        "",
        "| kind | requests | failures | p50 ms | p95 ms | p99 ms | bytes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for stats in result.kinds.values():
        lines.append(f"| {stats.kind} | {stats.requests} | {stats.failures} | {_ms(stats.p50_ms)} | "
                     f"{_ms(stats.p95_ms)} | {_ms(stats.p99_ms)} | {stats.bytes} |")
    counts = result.viewer_counts
    firsts = result.first_summary()
    labels = {"time_to_first_playlist_s": "first media playlist", "time_to_first_part_s": "first part"}
    for key, label in labels.items():
        if key in firsts:
            got = firsts[key]
            lines += ["", f"Time to {label}: median {got['p50']:.2f} s, slowest {got['max']:.2f} s "
                          f"({got['viewers']} viewers; `first_playlist` takes a young stream's 404, 201 and "
                          "held answers as \"not yet\")."]
    lines += ["", f"Error rate {result.error_rate:.2%} of {result.requests} requests; "
              f"{result.bytes} bytes received; peak {result.peak_viewers} viewers.", "",
              "## Errors by cause", ""]
    lines += [f"- {cause}: {n}" for cause, n in sorted(result.errors.items(), key=lambda e: -e[1])] or [
        "- none"
    ]
    lines += [
        "",
        "## Stalls",
        "",
        f"{counts.get('stalls', 0)} stalls in {counts.get('parts', 0)} parts "
        f"(stall rate {result.stall_rate:.2%}); {counts.get('viewers_stalled', 0)} of "
        f"{counts.get('viewers_started', 0)} viewers stalled at least once; "
        f"{counts.get('resyncs', 0)} resyncs to the live edge. A stall: a part arrived later than the "
        "media before it lasts plus the playlist's PART-HOLD-BACK.",
        "",
        "## OME's view",
        "",
        "| time (s) | viewers in the run | OME LL-HLS connections |",
        "|---:|---:|---:|",
    ]
    start = result.timeline[0].at if result.timeline else 0
    rows = result.ome_vs_run()
    lines += [f"| {at - start:.0f} | {'-' if run is None else run} | {'-' if ome is None else ome} |"
              for at, run, ome in rows] or ["| - | - | - |"]
    failed_polls = [s.error for s in result.ome_samples if s.error]
    if failed_polls:
        lines += ["", f"{len(failed_polls)} stats polls failed; last: {redactor(failed_polls[-1])}"]
    lines += ["", "## Files", "", "- `load.json`, `load-chart.svg` (viewers vs p95 and failures/s)",
              "- Locust's own: `locust.html`, `locust_stats.csv`, `locust_failures.csv`, "
              "`locust_stats_history.csv`", ""]
    return "\n".join(lines)


def write_load_report(out: Path, target: OmeTarget, settings: LoadSettings, result: LoadResult,
                      verdict: Verdict, *, emulated: bool, secrets: list[str]) -> dict[str, Path]:
    redactor = Redactor(secrets)
    files = {"markdown": out / "load-report.md", "json": out / "load.json", "chart": out / "load-chart.svg"}
    files["markdown"].write_text(redactor(render_markdown(target, settings, result, verdict,
                                                                 emulated=emulated, redactor=redactor)))
    document = {"status": "PASS" if verdict.passed else "FAIL", "reasons": verdict.reasons,
                "emulated": emulated, "target": {"kind": target.kind, "api_url": target.api_url,
                                                 "llhls": target.llhls_base, "launched": target.launched},
                "settings": {"stream": settings.stream, "viewers": settings.viewers,
                             "spawn_rate": settings.spawn_rate, "duration_s": settings.duration_s,
                             "workers": settings.workers, "max_p95_ms": settings.thresholds.max_p95_ms,
                             "max_error_rate": settings.thresholds.max_error_rate,
                             "max_stall_rate": settings.thresholds.max_stall_rate},
                "result": result.to_json()}
    files["json"].write_text(redactor(json.dumps(document, indent=2)) + "\n")
    files["chart"].write_text(
        load_chart_svg(result.timeline, f"{settings.stream}: viewers vs p95 and errors")
    )
    return files
