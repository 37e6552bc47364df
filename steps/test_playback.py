"""Steps of features/playback.feature."""

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from ome_harness.playback.scenario_support import (
    expect_clean_playback,
    expect_latency_under,
    expect_media_truth,
    watch_publication,
    webrtc_absent_reason,
    webrtc_view,
)

scenarios("playback.feature")


@when(
    parsers.parse("a viewer watches the stream over LL-HLS for {seconds:d} seconds"),
    target_fixture="playback",
)
def a_viewer_watches(target, publication, seconds):
    return watch_publication(target, publication, window_s=seconds)


@then("the viewer played each part as it appeared, breaking no LL-HLS rule")
def played_cleanly(playback):
    expect_clean_playback(playback)


@then("the parts decode to the encoder's codec, size and frame rate with no timestamp gap")
def decodes_truly(playback):
    expect_media_truth(playback)


@then("the live edge latency p95 stays under the configured limit")
def latency_under_limit(playback, harness_config):
    expect_latency_under(playback, harness_config.media.max_live_latency_s)


@given("the target offers WebRTC")
def the_target_offers_webrtc(target):
    if (reason := webrtc_absent_reason(target)) is not None:
        pytest.skip(reason)  # the one allowed skip: the emulator says plainly it has no WebRTC


@when("a viewer asks for the stream over WebRTC", target_fixture="webrtc_viewing")
def asks_over_webrtc(target, publication):
    return webrtc_view(target, publication)


@then("the viewer receives video frames")
def receives_frames(webrtc_viewing):
    assert webrtc_viewing.frames > 0, webrtc_viewing.failure
