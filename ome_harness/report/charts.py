"""Charts where people would rather look than read: incoming bitrate vs the encoder's rate, the cue timeline.

A step keeps a measurement with the `keep_for_report` fixture; `chart_data` turns it into plain
data that travels with the scenario's result (also from an xdist worker); the chart renderers
draw SVG from that data with `leather` (a 30 kB pure-Python SVG charting library, no
dependencies: matplotlib would add tens of MB and a second of import time to every run).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from ome_harness.report.render import renderer
from ome_harness.results import Report
from ome_harness.scte35.verify import segment_cuts

BITRATE = "bitrate"
CUE_TIMELINE = "cue_timeline"
BROWSER_SCREENSHOT = "browser_screenshot"  # not a chart file: a JPEG the HTML report shows inline
SCREENSHOT_FACT = "screenshot_jpeg_base64"  # a check result's screenshot (playback/browser_check.py)
CHART_FILES = {BITRATE: "chart-bitrate.svg", CUE_TIMELINE: "chart-cue-timeline.svg"}
CAPTIONS = {BITRATE: "Incoming bitrate over the measured window (solid) against the encoder's configured "
                     "rate (dashed), kbit/s",
            CUE_TIMELINE: "LL-HLS segments per rendition (dots: segment starts, height: duration in s), "
                          "the cue time (vertical line) and the cuts found (low dots)"}


def chart_data(name: str, value: Any) -> dict[str, Any]:
    """Plain data for chart `name` from what a step measured (IngestMetrics, CueVerification)."""
    if name == BITRATE:
        return _bitrate_data(value)
    if name == CUE_TIMELINE:
        return _timeline_data(value)
    if name == BROWSER_SCREENSHOT:
        return _screenshot_data(value)
    raise ValueError(f"no chart named {name!r}; known: {sorted(CHART_FILES)}")


def _bitrate_data(metrics: Any) -> dict[str, Any]:
    samples = metrics.samples
    points = []
    for before, after in zip(samples, samples[1:], strict=False):
        span = after.taken_at - before.taken_at
        if span > 0:
            kbps = (after.bytes_in - before.bytes_in) * 8 / span / 1000
            points.append([round(after.taken_at - samples[0].taken_at, 3), round(kbps, 1)])
    configured = metrics.expected_bitrate / 1000 if metrics.expected_bitrate else None
    return {"points": points, "configured_kbps": configured}


def _timeline_data(verification: Any) -> dict[str, Any]:
    renditions = verification.renditions
    starts = [s.start for r in renditions for s in r.segments]
    if not starts:
        return {"renditions": [], "cue_at": None, "cuts": []}
    origin = min(starts)

    def at(moment: Any) -> float:
        return round((moment - origin).total_seconds(), 3)

    rows = [{"name": _short(r.name), "segments": [[at(s.start), round(s.duration, 3)] for s in r.segments]}
            for r in renditions]
    # The same rule the verifier judges cuts by (a segment ended shorter than the target duration).
    cuts = sorted({at(start) for r in renditions for start, _ in segment_cuts(r)})
    return {"renditions": rows, "cue_at": at(verification.sent.at), "cuts": cuts,
            "duration_s": verification.sent.duration_s}


def _screenshot_data(viewing: Any) -> dict[str, Any]:
    """A browser viewing (playback/browser.py): its JPEG of the player, and its figures as the caption."""
    shot = viewing.screenshot
    return {"jpeg_base64": base64.b64encode(shot).decode() if shot else None,
            "caption": f"{viewing.path}: {viewing.figures()}"}


def screenshots(report: Report) -> list[dict[str, str]]:
    """Every screenshot of a playing video in the report (browser scenarios and `diagnose --browser`)."""
    found = [data for data in _series(report, BROWSER_SCREENSHOT) if data.get("jpeg_base64")]
    found += [{"jpeg_base64": r.facts[SCREENSHOT_FACT], "caption": r.facts.get("screenshot_caption", r.title)}
              for r in report.results if r.facts.get(SCREENSHOT_FACT)]
    return found


def _short(playlist: str) -> str:
    # OME names media playlists chunklist_<n>_<video|audio>_<session>_llhls.m3u8.
    match = re.match(r"chunklist_\d+_([a-z]+)_", playlist)
    return match.group(1) if match else playlist


def _series(report: Report, name: str) -> list[dict[str, Any]]:
    return [r.scenario.charts[name] for r in report.scenarios if r.scenario and name in r.scenario.charts]


def chart_names(report: Report) -> list[str]:
    """The chart files this report has data for (the Markdown links them, the HTML inlines them)."""
    return [CHART_FILES[name] for name in CHART_FILES if _series(report, name)]


def _bitrate_svg(data: dict[str, Any]) -> str:
    import leather

    chart = leather.Chart("Incoming bitrate (kbit/s) over the measured window (s)")
    points = [tuple(p) for p in data["points"]] or [(0.0, 0.0)]
    top = max([p[1] for p in points] + [data.get("configured_kbps") or 0])
    chart.add_y_scale(0, top * 1.15 or 1)  # from zero: a 5 % wobble should look like one
    chart.add_line(points, name="measured", stroke_color="#2c6fbb")
    if data.get("configured_kbps"):
        chart.add_line([(points[0][0], data["configured_kbps"]), (points[-1][0], data["configured_kbps"])],
                       name="configured", stroke_dasharray="6 4", stroke_color="#cf222e")
    return chart.to_svg(width=760, height=320)


def _timeline_svg(data: dict[str, Any]) -> str:
    import leather

    chart = leather.Chart("LL-HLS segments and the cue (seconds)")
    height = max([d for r in data["renditions"] for _, d in r["segments"]] or [1.0])
    for rendition in data["renditions"]:
        chart.add_dots([tuple(s) for s in rendition["segments"]] or [(0.0, 0.0)], name=rendition["name"])
    if data.get("cue_at") is not None:
        chart.add_line([(data["cue_at"], 0.0), (data["cue_at"], height)], name="cue", stroke_color="#cf222e")
    if data.get("cuts"):
        chart.add_dots([(c, 0.0) for c in data["cuts"]], name="cuts", fill_color="#bf8700")
    return chart.to_svg(width=760, height=320)


DRAW = {BITRATE: _bitrate_svg, CUE_TIMELINE: _timeline_svg}


def chart_svgs(report: Report) -> list[dict[str, str]]:
    """Each chart with data in this report: file name, caption and the SVG text (the first scenario's
    data)."""
    return [{"name": CHART_FILES[name], "caption": CAPTIONS[name], "svg": DRAW[name](series[0])}
            for name in CHART_FILES if (series := _series(report, name))]


def _chart_renderer(name: str) -> None:
    @renderer(CHART_FILES[name].removesuffix(".svg"), kinds=("run",), filename=CHART_FILES[name])
    def render(report: Report, template_dir: Path | None = None) -> str | None:  # None: no data, no file
        series = _series(report, name)
        return DRAW[name](series[0]) if series else None


for _name in CHART_FILES:
    _chart_renderer(_name)
