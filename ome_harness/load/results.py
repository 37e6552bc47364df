"""A load run's results, read back from Locust's CSVs and the locustfile's summary, and its verdict."""

from __future__ import annotations

import csv
import json
import re
import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ome_harness.load.ome_view import OmeSample
from ome_harness.load.runner import LocustOutputs
from ome_harness.load.settings import LoadSettings
from ome_harness.load.viewer import KINDS

# A blocking reload is held by the server until the next part exists (up to a part target): its latency
# is the stream's cadence, not slowness, so the p95 threshold is not applied to it.
P95_JUDGED_KINDS = ("playlist", "part", "segment")


@dataclass
class KindStats:
    kind: str
    requests: int = 0
    failures: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    bytes: int = 0


@dataclass
class TimePoint:
    at: int  # Unix seconds
    viewers: int
    p95_ms: float | None
    failures_per_s: float


@dataclass
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # one sentence per threshold broken


@dataclass
class LoadResult:
    kinds: dict[str, KindStats]
    errors: dict[str, int]  # cause → occurrences
    timeline: list[TimePoint]
    viewer_counts: dict[str, int]  # parts, stalls, resyncs, viewers_started, viewers_stalled
    ome_samples: list[OmeSample]
    interrupted_by: str | None = None  # SIGINT or SIGTERM when the run was stopped early
    ran: bool = True  # False: Locust produced no statistics at all
    # Each viewer's seconds to its first media playlist / first part (time_to_first_playlist_s, ..._part_s)
    first_figures: dict[str, list[float]] = field(default_factory=dict)

    def first_summary(self) -> dict[str, dict[str, float]]:
        """Median and slowest time to first playlist and first part over the viewers that got one."""
        summary = {}
        for key, values in sorted(self.first_figures.items()):
            if values:
                ordered = sorted(values)
                summary[key] = {"viewers": len(ordered), "p50": round(ordered[len(ordered) // 2], 3),
                                "max": round(ordered[-1], 3)}
        return summary

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.kinds.values())

    @property
    def failures(self) -> int:
        return sum(k.failures for k in self.kinds.values())

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def stall_rate(self) -> float:
        parts = self.viewer_counts.get("parts", 0)
        return self.viewer_counts.get("stalls", 0) / parts if parts else 0.0

    @property
    def bytes(self) -> int:
        return sum(k.bytes for k in self.kinds.values())

    @property
    def peak_viewers(self) -> int:
        return max((p.viewers for p in self.timeline), default=0)

    def ome_vs_run(self) -> list[tuple[float, int | None, int | None]]:
        """(time, viewers the run had, OME's LL-HLS connections) per OME sample."""
        rows = []
        for sample in self.ome_samples:
            before = [p for p in self.timeline if p.at <= sample.at]
            rows.append((sample.at, before[-1].viewers if before else None, sample.connections.get("llhls")))
        return rows

    def to_json(self) -> dict:
        return {"requests": self.requests, "failures": self.failures, "error_rate": self.error_rate,
                "stall_rate": self.stall_rate, "bytes": self.bytes, "peak_viewers": self.peak_viewers,
                "interrupted_by": self.interrupted_by,
                "kinds": {k: asdict(v) for k, v in self.kinds.items()}, "errors": self.errors,
                "viewer_counts": self.viewer_counts, "first_figures": self.first_summary(),
                "timeline": [asdict(p) for p in self.timeline],
                "ome_samples": [asdict(s) for s in self.ome_samples]}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def error_cause(locust_error: str) -> str:
    """The cause the locustfile gave (`CatchResponseError('HTTP 503')` → `HTTP 503`)."""
    found = re.fullmatch(r"\w+\(['\"](.*)['\"]\)", locust_error.strip())
    return found.group(1) if found else locust_error.strip()


def read_results(out: LocustOutputs, ome_samples: list[OmeSample]) -> LoadResult:
    """Per-kind figures and errors from the locustfile's final summary; the timeline from Locust's history."""
    summary = json.loads(out.summary.read_text()) if out.summary.is_file() else {}
    kinds = {kind: KindStats(kind) for kind in KINDS}
    for name, figures in summary.get("kinds", {}).items():
        if name in kinds:
            kinds[name] = KindStats(kind=name, **figures)
    errors: dict[str, int] = {}
    for row in summary.get("errors", []):
        cause = error_cause(row["error"])
        errors[cause] = errors.get(cause, 0) + int(row["occurrences"])
    timeline = [
        TimePoint(
            int(row["Timestamp"]),
            int(row["User Count"]),
            _number(row.get("95%")),
            _number(row.get("Failures/s")) or 0.0,
        )
        for row in _rows(Path(f"{out.csv_prefix}_stats_history.csv"))
        if row.get("Name") == "Aggregated"
    ]
    return LoadResult(kinds=kinds, errors=errors, timeline=timeline,
                      viewer_counts=summary.get("viewer_counts", {}), ome_samples=ome_samples,
                      interrupted_by=signal.Signals(out.stop_signal).name if out.stop_signal else None,
                      ran=bool(summary), first_figures=summary.get("first_figures", {}))


def judge(result: LoadResult, settings: LoadSettings) -> Verdict:
    """Pass when every threshold holds; each broken one is a sentence naming its cause."""
    limits = settings.thresholds
    reasons = []
    if not result.ran or not result.requests:
        reasons.append("no request was made: Locust did not run (see locust-output.txt)")
    for kind in P95_JUDGED_KINDS:
        stats = result.kinds[kind]
        if stats.p95_ms is not None and stats.requests and stats.p95_ms > limits.max_p95_ms:
            reasons.append(f"{kind} p95 {stats.p95_ms:.0f} ms is above --max-p95-ms {limits.max_p95_ms:g}")
    if result.requests and result.error_rate > limits.max_error_rate:
        causes = ", ".join(f"{cause} ×{n}" for cause, n in sorted(result.errors.items(), key=lambda e: -e[1]))
        reasons.append(f"error rate {result.error_rate:.1%} is above --max-error-rate "
                       f"{limits.max_error_rate:g} ({causes or 'no cause recorded'})")
    if result.stall_rate > limits.max_stall_rate:
        counts = result.viewer_counts
        reasons.append(
            f"stall rate {result.stall_rate:.1%} is above --max-stall-rate {limits.max_stall_rate:g} "
            f"({counts.get('stalls', 0)} of {counts.get('parts', 0)} parts arrived after the "
            f"viewer's buffer ran dry; {counts.get('viewers_stalled', 0)} viewers stalled)"
        )
    if result.requests and not result.kinds["part"].requests:
        reasons.append("no part was fetched: the viewers never reached the live edge")
    return Verdict(passed=not reasons, reasons=reasons)
