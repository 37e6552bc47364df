"""Steps shared by the media features (shared with every steps/ module through steps/conftest.py)."""

import shutil
from contextlib import ExitStack

import pytest
from pytest_bdd import given, parsers, then, when

from ome_harness.media.encoder import EncoderSettings
from ome_harness.media.publishing import (
    expect_live,
    publish_in,
    srt_unavailable,
    test_stream_name,
    wait_stream_gone,
)
from ome_harness.testing import require


@pytest.fixture
def publications():
    """Every encoder a scenario starts; all are stopped when the scenario ends."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def publish(publications, target, ome_client, harness_config):
    """Start the test signal for a fresh stream name; returns the Publication or the encoder's error."""
    media = harness_config.media
    settings = EncoderSettings(video_bitrate=media.video_bitrate, audio_bitrate=media.audio_bitrate)
    return lambda **options: publish_in(publications, target, ome_client,
                                        test_stream_name(media.stream_prefix), settings=settings,
                                        deadline_s=media.listed_deadline_s, **options)


@given("a test encoder")
def a_test_encoder():
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg as the test encoder (apt-get install -y ffmpeg)")


@given("the target takes SRT publishing")
def the_target_takes_srt(target):
    reason = srt_unavailable(target)
    require(reason is None, f"the emulator's SRT ingest is not running: {reason}")


@when("the test signal is published over RTMP", target_fixture="publication")
def published_over_rtmp(publish):
    return publish()


@when("the test signal is published over SRT", target_fixture="publication")
def published_over_srt(publish):
    return publish(protocol="srt")


@given("a live stream published over RTMP", target_fixture="publication")
def a_live_stream_over_rtmp(publish):
    return expect_live(publish())


@when("the encoder stops")
def the_encoder_stops(publication):
    expect_live(publication).encoder.stop()


@then(parsers.parse("the stream is gone within {seconds:d} seconds"))
def the_stream_is_gone(ome_client, publication, seconds):
    pub = expect_live(publication)
    wait_stream_gone(ome_client, pub.vhost, pub.app, pub.name, deadline_s=seconds)
