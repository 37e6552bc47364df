"""Steps of features/scte35.feature."""

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from ome_harness.media.publishing import expect_live
from ome_harness.scenarios import scte35 as support
from ome_harness.scte35.capability import diagnose_scte35_capability
from ome_harness.scte35.insertion import CueRefused, attempt_cue_via_api

scenarios("scte35.feature")


@pytest.fixture
def ome_version(ome_client):
    return ome_client.version().version


@pytest.fixture
def segment_s(ome_client, target):
    return support.segment_duration(ome_client, target)


@given("OME offers on-demand SCTE-35 insertion")
def ome_offers_insertion(ome_version):
    support.skip_unless_insertion_possible(ome_version)


@given("OME has no SCTE-35 in its API")
def ome_has_no_scte35_in_its_api(target, ome_version, request):
    support.as_version_without_scte35(target, ome_version, request.addfinalizer)


@given("a live stream published over SRT with an in-band SCTE-35 injector", target_fixture="publication")
def a_live_stream_with_an_injector(publish):
    return expect_live(publish(protocol="srt", inband_scte35=True))


@when(parsers.parse("a cue-out with a break this application {fate} is inserted with event id {event_id:d}"),
      target_fixture="cue")
def insert_a_cue(ome_client, target, publication, segment_s, fate, event_id):
    return support.insert_timed_cue(ome_client, target, publication, segment_s, event_id=event_id,
                                    kept=fate == "keeps")


@when(parsers.parse("a cue-out of {seconds:d} seconds with event id {event_id:d} is sent through the API"),
      target_fixture="cue")
def send_a_cue(ome_client, publication, seconds, event_id):
    return attempt_cue_via_api(ome_client, publication.vhost, publication.app, publication.name,
                               event_id=event_id, duration_s=seconds)


@when("a cue without an event id is sent through the API", target_fixture="cue")
def send_a_cue_without_id(ome_client, publication):
    body = {"eventFormat": "scte35", "events": [{"spliceCommand": "spliceInsert", "type": "out", "duration": 2000}]}
    return attempt_cue_via_api(ome_client, publication.vhost, publication.app, publication.name, body=body)


@when(parsers.parse("an in-band cue-out of {seconds:d} seconds with event id {event_id:d} goes out on the wire"),
      target_fixture="cue")
def an_inband_cue(publication, seconds, event_id):
    return support.send_inband_cue(publication, event_id=event_id, duration_s=seconds)


@then("the LL-HLS output shows the cue", target_fixture="verification")
def output_shows_the_cue(target, publication, cue, harness_config, keep_for_report):
    return keep_for_report("cue_timeline", support.expect_cue_in_output(target, publication, cue, harness_config))


@then("a segment of the output is cut at the cue time")
def segment_cut(verification):
    assert verification.cut_found, verification.summary()


@then("the harness says the cue was accepted by the API but not applied")
def not_applied(cue, segment_s):
    support.expect_not_applied(cue, segment_s)


@then("no segment of the output is cut at the cue time")
def no_cut(target, publication, cue, harness_config):
    support.expect_no_cut(target, publication, cue, harness_config)


@then("the LL-HLS output shows no evidence of the in-band cue")
def no_inband_evidence(target, publication, cue, harness_config):
    support.expect_no_cut(target, publication, cue, harness_config)


@then(parsers.parse('OME refuses the cue with "{message}"'))
def ome_refuses(cue, message):
    assert isinstance(cue, CueRefused), f"OME accepted the cue: {cue}"
    assert cue.message == message


@when("the SCTE-35 capability is diagnosed", target_fixture="capability")
def diagnose_capability(ome_version, segment_s):
    return diagnose_scte35_capability(ome_version, segment_s=segment_s)


@then("it says whether this version can insert cues on demand")
def says_whether_insertion_is_possible(capability, ome_version):
    support.expect_capability_words(capability, ome_version)
