"""Watch one stream over LL-HLS for a window and turn what was seen into a `CheckResult` (read-only).

The result goes through the one result model (`ome_harness.results`), so every renderer shows the
playback section: numbers in `facts`, each conformance/media finding as an `Evidence` line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ome_harness.ome.errors import OmeError
from ome_harness.playback import media_truth
from ome_harness.playback.conformance import PlaylistFinding, check_viewing, probe_far_ahead_reload
from ome_harness.playback.llhls_viewer import FetchEvent, LlhlsViewer, ViewerError
from ome_harness.redaction import mask_userinfo
from ome_harness.results import CheckResult, Evidence, Status
from ome_harness.scte35.break_rule import read_segment_duration
from ome_harness.target.base import OmeTarget

_FIRST_NAMES = {"time_to_first_master_s": "master", "time_to_first_playlist_s": "media playlist",
                "time_to_first_part_s": "part"}
# Findings real OME v0.20/v0.21 earns too (captured): shown, but only a warning.
KNOWN_OME_FINDINGS = {"blocking-reload-far-ahead"}


@dataclass(frozen=True)
class ExpectedMedia:
    """What the encoder sends (the media truth is held against it)."""

    codec: str = "h264"
    width: int = 640
    height: int = 360
    framerate: float = 30.0


@dataclass
class PlaybackOutcome:
    events: list[FetchEvent] = field(default_factory=list)
    findings: list[PlaylistFinding] = field(default_factory=list)
    media: media_truth.MediaFacts | None = None
    live_edge: media_truth.Percentiles | None = None
    reload_wait: media_truth.Percentiles | None = None
    error: str | None = None
    # Seconds from the viewer's start to its first master, media playlist and part (a young stream's wait).
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def failing(self) -> list[PlaylistFinding]:
        return [f for f in self.findings if f.rule not in KNOWN_OME_FINDINGS]


def stalls(events: list[FetchEvent], part_target_s: float) -> list[PlaylistFinding]:
    """A hole of more than 3 part targets between two parts downloaded (the stream stopped moving)."""
    times = [e.at for e in events if e.kind == "part" and e.ok]
    limit = 3 * part_target_s
    found = []
    for before, after in zip(times, times[1:], strict=False):
        if after - before > limit:
            found.append(
                PlaylistFinding(
                    "stall",
                    f"no new part for {after - before:.1f} s (limit {limit:g} s)",
                    "(between two part downloads)",
                )
            )
    failed = [e for e in events if e.kind == "blocking_reload" and not e.ok]
    if times and failed and failed[-1].at > times[-1] + limit:
        found.append(PlaylistFinding("stall", f"no new part for the last {failed[-1].at - times[-1]:.1f} s "
                                              f"of the window", f"GET {failed[-1].uri}"))
    return found


def _master_size(viewer: LlhlsViewer, media: media_truth.MediaFacts) -> list[PlaylistFinding]:
    """The master's RESOLUTION for the variant played is the size the parts decode to."""
    for line in viewer.master_text.splitlines():
        if line.startswith("#EXT-X-STREAM-INF:") and "RESOLUTION=" in line:
            said = line.split("RESOLUTION=", 1)[1].split(",", 1)[0]
            if said != f"{media.width}x{media.height}":
                return [PlaylistFinding("master-resolution", f"the master says {said}, the parts decode to "
                                                             f"{media.width}x{media.height}", line)]
            return []
    return []


def watch_llhls(master_url: str, *, window_s: float = 6.0, expected: ExpectedMedia | None = None,
                encoder_start_wall: float | None = None, probe_far_ahead: bool = True,
                timeout_s: float = 5.0, segment_s: float | None = None) -> PlaybackOutcome:
    """Follow the stream for `window_s`, then check conformance, media truth and latency.

    `segment_s` (the app's LL-HLS segment duration, where known) sets how long a young stream's first
    playlists may take: two segment durations + 2 s, as real OME holds them."""
    outcome = PlaybackOutcome()
    with LlhlsViewer(master_url, keep_media=True, timeout_s=timeout_s, segment_s=segment_s) as viewer:
        try:
            outcome.events = viewer.watch(window_s)
        except ViewerError as exc:
            outcome.events, outcome.error, outcome.figures = viewer.events, str(exc), viewer.figures()
            return outcome
        outcome.figures = viewer.figures()
        outcome.findings = check_viewing(viewer) + stalls(viewer.events, viewer.part_target_s)
        failed_parts = [
            e for e in outcome.events if e.kind in ("part", "segment") and e.status not in (200, None)
        ]
        outcome.findings += [PlaylistFinding("media-fetch", f"a {e.kind} answered {e.status}", f"GET {e.uri}")
                             for e in failed_parts[:3]]
        if probe_far_ahead:
            outcome.findings += probe_far_ahead_reload(viewer, deadline_s=min(2.0, viewer.reload_deadline_s))
        reloads = [e.latency_s for e in outcome.events if e.kind == "blocking_reload" and e.ok]
        outcome.reload_wait = media_truth.percentiles(reloads, "blocking reload held time")
    media = media_truth.contiguous_media(outcome.events)
    if media:
        try:
            outcome.media = media_truth.probe(media)
        except (ValueError, OSError) as exc:
            outcome.findings.append(PlaylistFinding("media-truth", str(exc), "(init + parts)"))
        else:
            if expected is not None:
                outcome.findings += [PlaylistFinding("media-truth", m, "(ffprobe of init + parts)")
                                     for m in media_truth.mismatches(outcome.media, **vars(expected))]
            outcome.findings += _master_size(viewer, outcome.media)
            outcome.findings += [PlaylistFinding("timestamp-gap", g, "(ffprobe packets)")
                                 for g in outcome.media.gaps[:3]]
    if encoder_start_wall is not None:
        outcome.live_edge = media_truth.percentiles(
            media_truth.live_edge_latencies(outcome.events, encoder_start_wall),
            "encoder media clock: part downloaded − its newest frame's send time")
    return outcome


def playback_result(stream: str, master_url: str, outcome: PlaybackOutcome, *, started: float,
                    emulated: bool) -> CheckResult:
    """The playback section of a report."""
    parts = [e for e in outcome.events if e.kind == "part"]
    facts: dict[str, object] = {
        "stream": stream, "master": mask_userinfo(master_url.split("?")[0]), "emulated": emulated,
        "requests": len(outcome.events), "parts_ok": sum(e.ok for e in parts), "parts": len(parts),
        "findings": [str(f) for f in outcome.findings], **outcome.figures,
    }
    if outcome.reload_wait:
        facts["blocking_reload_p50_s"], facts["blocking_reload_p95_s"] = (
            outcome.reload_wait.p50,
            outcome.reload_wait.p95,
        )
    if outcome.live_edge:
        facts["live_edge_p50_s"], facts["live_edge_p95_s"] = outcome.live_edge.p50, outcome.live_edge.p95
        facts["live_edge_method"] = outcome.live_edge.method
    if outcome.media:
        m = outcome.media
        facts["media"] = f"{m.codec} {m.width}x{m.height} {m.framerate:g} fps, {m.frames} frames decoded"
    evidence = [
        Evidence(what=f"LL-HLS rule {f.rule}", outcome=f"{f.message} — `{f.line}`") for f in outcome.findings
    ]
    if outcome.figures:
        firsts = ", ".join(f"{_FIRST_NAMES.get(name, name)} {value:.2f} s"
                           for name, value in outcome.figures.items())
        evidence.append(Evidence(what="time to first (from the viewer's first request)", outcome=firsts))
    if outcome.reload_wait:
        evidence.append(Evidence(what="blocking reloads", outcome=str(outcome.reload_wait)))
    if outcome.live_edge:
        evidence.append(Evidence(what="live edge latency", outcome=str(outcome.live_edge)))
    if outcome.media:
        evidence.append(Evidence(what="media decoded (ffprobe)", outcome=str(facts["media"])))
    if outcome.error:
        status, summary = Status.ERROR, f"{stream}: {outcome.error}"
    elif outcome.failing or not any(e.ok for e in parts):
        names = sorted({f.rule for f in outcome.failing}) or ["no part played"]
        status, summary = Status.ERROR, f"{stream}: LL-HLS playback broken ({', '.join(names)})"
    else:
        status = Status.WARN if outcome.findings else Status.OK
        wait = f"; reloads {outcome.reload_wait}" if outcome.reload_wait else ""
        summary = f"{stream}: {facts['parts_ok']} parts played over LL-HLS{wait}"
        if outcome.findings:
            summary += f"; as real OME: {', '.join(sorted({f.rule for f in outcome.findings}))}"
    if emulated:
        summary += " (against the emulator)"
    return CheckResult(
        id="playback",
        title="Playback (LL-HLS viewer)",
        status=status,
        summary=summary,
        evidence=evidence,
        facts=facts,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def app_segment_s(target: OmeTarget, app: str | None = None) -> float | None:
    """The app's LL-HLS segment duration from its config (one read-only GET), None where the API does not
    say: a young stream's first playlists may take two of them."""
    try:
        with target.client() as client:
            return read_segment_duration(client, target.vhost, app or target.app)
    except OmeError:
        return None


def check_playback(master_url: str, stream: str, *, window_s: float = 6.0, emulated: bool = False,
                   expected: ExpectedMedia | None = None, segment_s: float | None = None) -> CheckResult:
    """Read-only: watches `stream` over LL-HLS and reports (used by `diagnose --playback`)."""
    started = time.monotonic()
    outcome = watch_llhls(master_url, window_s=window_s, expected=expected, segment_s=segment_s)
    return playback_result(stream, master_url, outcome, started=started, emulated=emulated)
