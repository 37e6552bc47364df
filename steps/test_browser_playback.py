"""Steps of features/browser_playback.feature."""

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from ome_harness.playback.scenario_support import webrtc_absent_reason
from ome_harness.scenarios.browser_viewer import (
    expect_first_frame_within,
    expect_player_error,
    expect_smooth,
    expect_some_webrtc_path,
    llhls_address_unknown,
    one_browser,
    open_missing_stream,
    play_llhls,
    play_webrtc_both_ways,
    require_browser,
)

scenarios("browser_playback.feature")


@pytest.fixture
def browser_viewer():
    """The scenario's browser, opened on first use and always closed when the scenario ends."""
    with one_browser() as viewer:
        yield viewer


@given("a viewer's browser with OvenPlayer and hls.js")
def a_viewers_browser():
    require_browser()


@when(parsers.parse("a viewer's browser plays the stream over LL-HLS for {seconds:d} seconds"),
      target_fixture="browser_viewing")
def plays_over_llhls(browser_viewer, target, publication, seconds, keep_for_report):
    return keep_for_report("browser_screenshot", play_llhls(browser_viewer, target, publication, seconds))


@given("the target offers WebRTC")
def the_target_offers_webrtc(target):
    if (reason := webrtc_absent_reason(target)) is not None:
        pytest.skip(reason)  # as in playback.feature: the emulator says plainly it has no WebRTC


@given("the target's LL-HLS address is known")
def the_llhls_address_is_known(target):
    if (reason := llhls_address_unknown(target)) is not None:
        pytest.skip(reason)  # a read-only scenario on a target given without its LL-HLS address


@when("a viewer's browser opens a stream nobody publishes, over LL-HLS")
def opens_a_missing_stream(browser_viewer, target):
    open_missing_stream(browser_viewer, target)


@when("a viewer's browser plays the stream over WebRTC, through OME's TURN relay and over direct UDP",
      target_fixture="webrtc_browser_viewings")
def plays_over_webrtc(target, publication):
    return play_webrtc_both_ways(target, publication, 4)


@then(parsers.parse("the browser shows the first frame within {seconds:d} seconds"))
def first_frame_within(browser_viewing, seconds):
    expect_first_frame_within(browser_viewing, seconds)


@then("playback keeps up with the wall clock, with no freeze and no player error")
def keeps_up(browser_viewing):
    expect_smooth(browser_viewing)


@then(parsers.parse("the browser's player reports error {code:d} within {seconds:d} seconds"))
def reports_error(browser_viewer, code, seconds):
    expect_player_error(browser_viewer, code, seconds)


@then("at least one WebRTC path plays in the browser")
def some_webrtc_path(webrtc_browser_viewings):
    expect_some_webrtc_path(webrtc_browser_viewings)
