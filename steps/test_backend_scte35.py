"""Steps of features/backend_scte35.feature."""

from pytest_bdd import given, scenarios, then

from ome_harness.backend.under_test import needs
from ome_harness.scenarios.scte35 import skip_unless_insertion_possible

scenarios("backend_scte35.feature")


@given("OME accepts SCTE-35 through its API")
def ome_accepts_scte35(backend):
    skip_unless_insertion_possible(backend.ome_version)


@given("a stream backend in front of an OME without SCTE-35 in its API", target_fixture="backend")
def a_backend_on_an_ome_without_scte35(stream_backend, request):
    # An OME that still takes SCTE-35 is upgraded in the mind: the reference backend on an emulator of v0.21.0.
    if not stream_backend.scte35_in_api():
        return stream_backend
    return request.getfixturevalue("backend_on_ome_without_scte35")


@given("a SCTE-35 marker for a break the application keeps", target_fixture="marker")
def a_marker_the_app_keeps(backend):
    return backend.new_marker_the_app_keeps()


@given("a SCTE-35 marker for a break the application drops", target_fixture="marker")
def a_marker_the_app_drops(backend):
    return needs(backend.new_marker_the_app_drops)


@then("OME received the marker's cue")
def ome_received_the_cue(backend, channel, marker):
    needs(lambda: backend.expect_cues(channel, marker))


@then("OME received no cue for the channel")
def ome_received_no_cue(backend, channel):
    needs(lambda: backend.expect_no_cue(channel))


@then("the database records the marker as inserted on the channel")
def the_marker_is_recorded(backend, channel, marker, step_started):
    needs(lambda: backend.db).expect_marker_inserted(marker.id, channel.id, after=step_started)


@then("the database does not record the marker as inserted")
def the_marker_is_not_recorded(backend, channel, marker, step_started):
    needs(lambda: backend.db).expect_no_audit("scte35.insert", channel.id, after=step_started, marker_id=marker.id)


@then("the backend answers 502 naming OME's version and its refusal")
def the_backend_names_the_refusal(backend, answer):
    message = backend.expect(answer, 502)["message"]
    named = f"v{backend.ome_version}" in message and "not supported" in message
    assert named, f"the 502 does not name OME v{backend.ome_version} and its refusal: {backend.shown(message)}"
