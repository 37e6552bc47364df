"""A small SVG chart of a load run: viewers over time against p95 latency and errors per second.

Kept here, apart from the run reports' renderers, until a shared chart renderer exists in ome_harness/report/.
"""

from __future__ import annotations

from html import escape

from ome_harness.load.results import TimePoint

WIDTH, HEIGHT, PAD = 720, 300, 50


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def load_chart_svg(timeline: list[TimePoint], title: str) -> str:
    """Viewers (blue, left axis), p95 ms (orange, right axis), failures/s (red, right axis scaled)."""
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    start = timeline[0].at if timeline else 0
    span = max(1, (timeline[-1].at - start) if timeline else 1)
    top_viewers = max([p.viewers for p in timeline] + [1])
    top_ms = max([p.p95_ms or 0 for p in timeline] + [1.0])
    top_fail = max([p.failures_per_s for p in timeline] + [1.0])

    def x(at: int) -> float:
        return PAD + inner_w * (at - start) / span

    def y(value: float, top: float) -> float:
        return PAD + inner_h * (1 - value / top)

    viewers = _path([(x(p.at), y(p.viewers, top_viewers)) for p in timeline])
    p95 = _path([(x(p.at), y(p.p95_ms, top_ms)) for p in timeline if p.p95_ms is not None])
    failures = _path([(x(p.at), y(p.failures_per_s, top_fail)) for p in timeline])
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{PAD}" y="20" font-size="13">{escape(title)}</text>',
        f'<rect x="{PAD}" y="{PAD}" width="{inner_w}" height="{inner_h}" fill="none" stroke="#999"/>',
        f'<path d="{viewers}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
        f'<path d="{p95}" fill="none" stroke="#ff7f0e" stroke-width="1.5"/>',
        f'<path d="{failures}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 2"/>',
        f'<text x="{PAD}" y="{HEIGHT - 15}" fill="#1f77b4">viewers (max {top_viewers})</text>',
        f'<text x="{PAD + 170}" y="{HEIGHT - 15}" fill="#ff7f0e">p95 ms (max {top_ms:.0f})</text>',
        f'<text x="{PAD + 330}" y="{HEIGHT - 15}" fill="#d62728">failures/s (max {top_fail:.1f})</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 15}" text-anchor="end">{span} s</text>',
        "</svg>", ""])
