"""Stream-level stats while a real encoder publishes: counters grow, clocks move, the rate adds up.

Tolerance of the bitrate comparison, and why: the test encoder runs x264 in CBR with an HRD
buffer of `vbv_s` seconds, so over a window of W seconds the video bytes can differ from the
configured rate by at most one buffer, i.e. a fraction vbv_s / W; on top of that the container
and transport add overhead (FLV tag headers and RTMP chunk headers for RTMP, 188-byte packets
with PES headers for MPEG-TS), a few percent; measured here over RTMP: +3 to +6 %.
So the default tolerance is vbv_s / W + 8 %.

OME's `totalConnections` counts viewers (egress sessions), not the publisher: a live RTMP
stream with no player shows 0 (see samples/34). The publisher's connection shows in the
stream's `input.sourceUrl` (`TCP://ip:port` for RTMP, `SRT://ip:port` for SRT) instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError, OmeNotFound
from ome_harness.polling import Ready, WaitTimedOut, poll_until
from ome_harness.results import CheckResult, Evidence, Status

OVERHEAD_ALLOWANCE = 0.08


@dataclass(frozen=True)
class StatsSample:
    """One reading of a stream's stats, with the harness's own monotonic clock."""

    taken_at: float
    bytes_in: int
    last_recv: datetime
    last_updated: datetime
    connections: int


@dataclass
class IngestMetrics:
    """What the samples show; `problems` lists every way they fall short (empty = healthy)."""

    samples: list[StatsSample]
    expected_bitrate: int | None
    tolerance: float
    derived_bitrate: int | None = None
    publisher: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if not self.samples:
            return "no stats samples"
        first, last = self.samples[0], self.samples[-1]
        span = last.taken_at - first.taken_at
        text = f"totalBytesIn {first.bytes_in} → {last.bytes_in} over {span:.1f}s"
        if self.derived_bitrate is not None:
            text += f", incoming ≈ {self.derived_bitrate / 1000:.0f} kbit/s"
        if self.expected_bitrate:
            text += (
                f" (encoder sends {self.expected_bitrate / 1000:.0f} kbit/s, tolerance ±{self.tolerance:.0%})"
            )
        return text

    def to_check_result(self, check_id: str = "media.metrics", title: str = "Stream stats while publishing"
                        ) -> CheckResult:
        evidence = [Evidence(what=f"stats sample {i + 1}", outcome=f"totalBytesIn={s.bytes_in}, "
                             f"lastRecvTime={s.last_recv.isoformat()}, totalConnections={s.connections}")
                    for i, s in enumerate(self.samples)]
        if self.publisher:
            evidence.append(Evidence(what="publisher connection (input.sourceUrl)", outcome=self.publisher))
        return CheckResult(
            id=check_id,
            title=title,
            status=Status.OK if self.ok else Status.ERROR,
            summary=self.summary() if self.ok else "; ".join(self.problems),
            evidence=evidence,
            remediation=None
            if self.ok
            else "OME's stats stopped following the ingest: check OME's log for the "
            "stream and whether the encoder is still connected.",
            facts={
                "derived_bitrate": self.derived_bitrate,
                "expected_bitrate": self.expected_bitrate,
                "tolerance": self.tolerance,
            },
        )


def sample_stream_stats(client: OmeClient, vhost: str, app: str, stream: str, *, window_s: float = 5.0,
                        interval_s: float = 1.0) -> list[StatsSample]:
    """Read the stream's stats every `interval_s` for `window_s` (first and last reading included)."""
    samples: list[StatsSample] = []
    end = time.monotonic() + window_s
    while True:
        stats = client.stats(vhost, app, stream)
        samples.append(StatsSample(time.monotonic(), stats.total_bytes_in, stats.last_recv_time,
                                   stats.last_updated_time, stats.total_connections))
        remaining = end - time.monotonic()
        if remaining <= 0.01:
            return samples
        # A sampling interval, not a wait: every reading is kept, none ends the loop early.
        time.sleep(min(interval_s, remaining))


def bitrate_tolerance(window_s: float, vbv_s: float) -> float:
    """Allowed relative difference between derived and configured bitrate (see the module docstring)."""
    return round(vbv_s / max(window_s, 0.1) + OVERHEAD_ALLOWANCE, 3)


def assess_ingest(samples: list[StatsSample], *, expected_bitrate: int | None, tolerance: float,
                  publisher: str | None = None) -> IngestMetrics:
    """Judge samples taken while the encoder ran: growth, moving clocks, derived vs configured bitrate."""
    result = IngestMetrics(samples=samples, expected_bitrate=expected_bitrate, tolerance=tolerance,
                           publisher=publisher)
    if len(samples) < 2:
        result.problems.append("fewer than two stats samples: cannot tell whether the counters grow")
        return result
    first, last = samples[0], samples[-1]
    span = last.taken_at - first.taken_at
    stalls = [(a, b) for a, b in zip(samples, samples[1:], strict=False) if b.bytes_in <= a.bytes_in]
    if last.bytes_in <= first.bytes_in:
        result.problems.append(
            f"totalBytesIn stopped growing: {first.bytes_in} → {last.bytes_in} over {span:.1f}s "
            "while the encoder was publishing"
        )
    elif stalls:
        a, b = stalls[0]
        result.problems.append(f"totalBytesIn stood still at {a.bytes_in} for {b.taken_at - a.taken_at:.1f}s "
                               "while the encoder was publishing")
    if last.last_recv <= first.last_recv:
        result.problems.append(f"lastRecvTime did not move ({first.last_recv.isoformat()}) over {span:.1f}s")
    if span > 0 and last.bytes_in > first.bytes_in:
        result.derived_bitrate = int((last.bytes_in - first.bytes_in) * 8 / span)
        if expected_bitrate:
            ratio = result.derived_bitrate / expected_bitrate - 1
            if abs(ratio) > tolerance:
                result.problems.append(
                    f"incoming bitrate {result.derived_bitrate / 1000:.0f} kbit/s differs from the encoder's "
                    f"{expected_bitrate / 1000:.0f} kbit/s by {ratio:+.0%} (tolerance ±{tolerance:.0%})")
    if publisher is not None and "://" not in publisher:
        result.problems.append(f"the stream names no publisher connection (input.sourceUrl={publisher!r})")
    return result


def stats_after_stop(client: OmeClient, vhost: str, app: str, stream: str, *, deadline_s: float = 5.0,
                     settle_s: float = 1.0) -> str:
    """After the publisher left: 'gone' (404, as OME does) or 'frozen'; raises if the counters still grow."""
    readings: list[int] = []

    def probe() -> Ready[str] | str:
        try:
            readings.append(client.stats(vhost, app, stream).total_bytes_in)
        except OmeNotFound:
            return Ready("gone")
        if len(readings) > 1 and readings[-1] == readings[-2]:
            return Ready("frozen")
        return f"{readings[-1]} bytes"

    try:
        return poll_until(probe, deadline_s=deadline_s, what=f"the stats of {vhost}/{app}/{stream} to stop",
                          interval_s=settle_s)
    except WaitTimedOut as exc:
        previous, current = ([None, *readings])[-2:]
        raise StatsStillGrowing(
            f"stats of {vhost}/{app}/{stream} still grow {deadline_s:g}s after the encoder "
            f"stopped ({previous} → {current} bytes): OME still counts an ingest that ended"
        ) from exc


class StatsStillGrowing(OmeError):
    """The stream's byte counter keeps growing after its publisher stopped."""
