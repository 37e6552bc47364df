"""The load run's chart: viewers over time beside p95 latency and failures per second (same time axis).

Drawn with `leather`, the library of the run report's charts (ome_harness/report/charts.py); those
renderers take a scenario Report, so this one stays beside the load results it draws.
"""

from __future__ import annotations

from ome_harness.load.results import TimePoint


def load_chart_svg(timeline: list[TimePoint], title: str) -> str:
    """Three stacked line charts sharing the run's seconds: viewers, p95 ms, failures/s."""
    import leather

    start = timeline[0].at if timeline else 0
    series = [
        ("viewers", [(p.at - start, p.viewers) for p in timeline], "#2c6fbb"),
        (
            "p95 latency (ms), all requests",
            [(p.at - start, p.p95_ms) for p in timeline if p.p95_ms is not None],
            "#bf8700",
        ),
        ("failures per second", [(p.at - start, p.failures_per_s) for p in timeline], "#cf222e"),
    ]
    grid = leather.Grid()
    for name, points, color in series:
        chart = leather.Chart(f"{title}: {name} over the run (s)" if name == "viewers" else f"{name} (s)")
        points = points or [(0, 0)]
        chart.add_y_scale(0, max(max(y for _x, y in points) * 1.15, 1))
        chart.add_line(points, name=name, stroke_color=color)
        grid.add_one(chart)
    return grid.to_svg(width=760, height=720)
