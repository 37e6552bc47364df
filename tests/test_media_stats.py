"""Stream stats while real ffmpeg publishes: growth, moving clocks, bitrate, and what happens after stop."""

from __future__ import annotations

import pytest
from media_support import rtmp_url

from ome_harness.media.encoder import EncoderSettings, publish
from ome_harness.media.metrics import (
    assess_ingest,
    bitrate_tolerance,
    sample_stream_stats,
    stats_after_stop,
)
from ome_harness.results import Status

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media, pytest.mark.metrics]
WINDOW_S = 4.0


def test_stats_grow_and_the_incoming_bitrate_matches_the_encoder(
    ffmpeg, emulator_v020, client_of, stream_name
):
    client = client_of(emulator_v020)
    settings = EncoderSettings(video_bitrate=800_000, audio_bitrate=64_000)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name,
                 settings=settings) as pub:
        samples = sample_stream_stats(
            client, "default", "app", stream_name, window_s=WINDOW_S, interval_s=1.0
        )
    metrics = assess_ingest(samples, expected_bitrate=settings.total_bitrate,
                            tolerance=bitrate_tolerance(WINDOW_S, settings.vbv_s),
                            publisher=pub.listed.input.source_url)
    assert metrics.ok, metrics.problems
    assert len(samples) >= 4
    assert all(b.bytes_in > a.bytes_in for a, b in zip(samples, samples[1:], strict=False))
    assert samples[-1].last_recv > samples[0].last_recv
    assert metrics.derived_bitrate is not None
    assert abs(metrics.derived_bitrate / settings.total_bitrate - 1) <= metrics.tolerance
    result = metrics.to_check_result()
    assert result.status is Status.OK
    assert (
        "publisher connection" in result.evidence[-1].what
        and "TCP://127.0.0.1:" in result.evidence[-1].outcome
    )


def test_stats_that_stop_growing_are_caught(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        emulator_v020.state.faults.stale_metrics = True
        samples = sample_stream_stats(client, "default", "app", stream_name, window_s=3.0)
        assert pub.encoder.running, "the encoder kept publishing: only the stats are stuck"
    metrics = assess_ingest(samples, expected_bitrate=pub.encoder.settings.total_bitrate, tolerance=0.2)
    assert not metrics.ok
    assert any("totalBytesIn stopped growing" in p and "while the encoder was publishing" in p
               for p in metrics.problems)
    assert any("lastRecvTime did not move" in p for p in metrics.problems)
    assert metrics.to_check_result().status is Status.ERROR


def test_a_bitrate_far_from_the_encoders_is_caught(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        samples = sample_stream_stats(client, "default", "app", stream_name, window_s=3.0)
    # Judged against twice the configured rate: what a dropped track or a wrong encoder profile looks like.
    metrics = assess_ingest(samples, expected_bitrate=2 * pub.encoder.settings.total_bitrate, tolerance=0.2)
    assert any("differs from the encoder's" in p and "tolerance ±20%" in p for p in metrics.problems)


def test_stream_stats_are_gone_after_the_encoder_stops(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        pub.encoder.stop()
        assert stats_after_stop(client, "default", "app", stream_name) == "gone"


def test_tolerance_follows_the_window_and_the_vbv():
    assert bitrate_tolerance(5.0, 0.5) == pytest.approx(0.18)
    assert bitrate_tolerance(10.0, 0.5) < bitrate_tolerance(2.0, 0.5)


def test_fewer_than_two_samples_cannot_prove_growth():
    metrics = assess_ingest([], expected_bitrate=None, tolerance=0.2)
    assert metrics.problems == ["fewer than two stats samples: cannot tell whether the counters grow"]
