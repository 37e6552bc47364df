"""What the playback steps call: each step is one line over these."""

from __future__ import annotations

from ome_harness.media.encoder import Publication
from ome_harness.playback import webrtc
from ome_harness.playback.check import ExpectedMedia, PlaybackOutcome, app_segment_s, watch_llhls
from ome_harness.playback.media_truth import wall_clock_of
from ome_harness.target import OmeTarget


def watch_publication(target: OmeTarget, publication: Publication, *, window_s: float) -> PlaybackOutcome:
    """Watch a live publication over LL-HLS, holding it against the encoder's own settings and clock."""
    settings = getattr(publication.encoder, "settings", None)
    expected = (
        ExpectedMedia(width=settings.width, height=settings.height, framerate=float(settings.framerate))
        if settings is not None
        else None
    )
    started = getattr(publication.encoder, "started_at", None)
    return watch_llhls(
        target.llhls_url(publication.name, publication.app),
        window_s=window_s,
        expected=expected,
        encoder_start_wall=wall_clock_of(started) if started is not None else None,
        probe_far_ahead=False,
        segment_s=app_segment_s(target, publication.app),
    )


def expect_clean_playback(outcome: PlaybackOutcome) -> None:
    assert outcome.error is None, outcome.error
    rules = [f for f in outcome.findings if f.rule not in ("media-truth", "timestamp-gap")]
    assert not rules, "; ".join(str(f) for f in rules)
    parts = [e for e in outcome.events if e.kind == "part"]
    assert parts and all(e.ok for e in parts), f"{sum(e.ok for e in parts)} of {len(parts)} parts played"


def expect_media_truth(outcome: PlaybackOutcome) -> None:
    assert outcome.media is not None, "nothing fetched could be decoded"
    wrong = [f for f in outcome.findings if f.rule in ("media-truth", "timestamp-gap")]
    assert not wrong, "; ".join(str(f) for f in wrong)


def expect_latency_under(outcome: PlaybackOutcome, limit_s: float) -> None:
    assert outcome.live_edge is not None, "no part carried a frame whose send time is known"
    assert outcome.live_edge.p95 < limit_s, f"live edge latency {outcome.live_edge}, limit {limit_s:g} s"


def webrtc_absent_reason(target: OmeTarget) -> str | None:
    return webrtc.absent_reason(target.emulated())


def webrtc_view(target: OmeTarget, publication: Publication) -> webrtc.WebrtcViewing:
    return webrtc.view(target.webrtc_url(publication.name, publication.app))
