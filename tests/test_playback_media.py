"""Media truth and latency of what the viewer fetched, and the playback check's verdicts."""

from __future__ import annotations

from media_support import TOKEN, llhls_url, rtmp_url

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.media.encoder import FfmpegEncoder
from ome_harness.playback.check import ExpectedMedia, playback_result, watch_llhls
from ome_harness.playback.media_truth import wall_clock_of
from ome_harness.polling import Ready, poll_until
from ome_harness.results import Status

pytest_plugins = ["playback_fixtures", "media_fixtures"]


def test_parts_decode_to_what_the_encoder_sent_with_no_timestamp_gap(playback):
    outcome = watch_llhls(
        playback.master_url,
        window_s=3.0,
        expected=ExpectedMedia(),
        encoder_start_wall=wall_clock_of(playback.encoder.started_at),
        probe_far_ahead=False,
    )
    assert outcome.findings == [] and outcome.error is None
    assert outcome.media is not None
    assert (outcome.media.codec, outcome.media.width, outcome.media.height, outcome.media.framerate) == \
        ("h264", 640, 360, 30.0)
    assert outcome.media.frames >= 60 and outcome.media.gaps == []
    # Live edge from the encoder's media clock: a part is downloadable within about a part + slack.
    assert outcome.live_edge is not None and outcome.live_edge.count >= 4
    assert 0.0 < outcome.live_edge.p50 < 2.0, outcome.live_edge


def test_media_whose_resolution_differs_from_the_encoders_is_a_finding(playback):
    outcome = watch_llhls(playback.master_url, window_s=1.5, expected=ExpectedMedia(width=1280, height=720),
                          probe_far_ahead=False)
    assert [(f.rule, f.message) for f in outcome.findings] == [
        ("media-truth", "640x360, the encoder sent 1280x720")]


def test_the_playback_result_names_the_failing_rule_and_says_it_was_the_emulator(playback):
    playback.server.llhls.faults.parts_missing = True
    outcome = watch_llhls(playback.master_url, window_s=1.5, probe_far_ahead=False)
    result = playback_result("cam", playback.master_url, outcome, started=0.0, emulated=True)
    assert result.status is Status.ERROR and "media-fetch" in result.summary
    assert result.summary.endswith("(against the emulator)")
    assert any("answered 404" in e.outcome for e in result.evidence)


def test_a_healthy_stream_gives_an_ok_playback_result_except_the_far_ahead_quirk(playback):
    import time

    started = time.monotonic()
    outcome = watch_llhls(playback.master_url, window_s=2.0, expected=ExpectedMedia())
    result = playback_result("cam", playback.master_url, outcome, started=started, emulated=True)
    # The emulator earns what real OME earns (no answer to a reload asked 50 segments ahead): a warning.
    assert result.status is Status.WARN, result
    assert [f.rule for f in outcome.findings] == ["blocking-reload-far-ahead"]
    assert result.facts["parts_ok"] >= 3 and "blocking_reload_p50_s" in result.facts


def _listed(url: str) -> Ready[bool] | str:
    import httpx

    try:
        return Ready(True) if httpx.get(url, timeout=2).status_code == 200 else "not yet"
    except httpx.HTTPError as exc:
        return str(exc)


def test_a_stream_that_stalls_mid_window_is_caught(ffmpeg):
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    with EmulatorServer(settings) as server, FfmpegEncoder(rtmp_url(server, "short"), duration_s=5.0):
        url = llhls_url(server, "short")
        poll_until(lambda: _listed(url), deadline_s=10, what="the stream's LL-HLS")
        outcome = watch_llhls(url, window_s=6.0, probe_far_ahead=False)
    assert "stall" in {f.rule for f in outcome.findings}, outcome.findings
