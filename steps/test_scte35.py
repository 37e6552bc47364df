"""Steps of features/scte35.feature."""

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from ome_harness.media.publishing import expect_live
from ome_harness.ome.versions import OmeVersion, capabilities
from ome_harness.results import Status
from ome_harness.scte35.capability import diagnose_scte35_capability
from ome_harness.scte35.insertion import (
    CueRefused,
    attempt_cue_via_api,
    available_paths,
    choose_path,
    insert_cue,
)
from ome_harness.scte35.verify import CueTolerance, verify_cue_in_llhls

scenarios("scte35.feature")


@pytest.fixture
def ome_version(ome_client):
    return ome_client.version().version


@given("a live stream ready for cues", target_fixture="publication")
def a_stream_ready_for_cues(publish, target, ome_version):
    if choose_path(ome_version) == "api":
        return expect_live(publish())
    if target.kind == "emulator" and not target.srt_base:
        pytest.skip(f"OME v{ome_version} takes SCTE-35 in-band over SRT, which the emulator does not ingest")
    return expect_live(publish(protocol="srt", inband_scte35=True))


@given("OME takes SCTE-35 through its API")
def ome_takes_scte35_in_its_api(ome_version):
    if not capabilities(ome_version).scte35_api:
        pytest.skip(f"OME v{ome_version} has no SCTE-35 in its API (removed in v0.21.0)")


@given("OME has no SCTE-35 in its API")
def ome_has_no_scte35_in_its_api(target, ome_version, request):
    if not capabilities(ome_version).scte35_api:
        return
    if target.kind != "emulator":
        pytest.skip(f"OME v{ome_version} still takes SCTE-35 through its API")
    # The emulator behaves as v0.21.0 for this scenario only.
    state = target.emulator.state
    before, state.version = state.version, OmeVersion.parse("0.21.0")
    request.addfinalizer(lambda: setattr(state, "version", before))


@when(parsers.parse("a cue-out of {seconds:d} seconds with event id {event_id:d} is inserted"), target_fixture="cue")
def insert_a_cue(ome_client, publication, seconds, event_id):
    return insert_cue(ome_client, publication, event_id=event_id, duration_s=seconds)


@when(parsers.parse("a cue-out of {seconds:d} seconds with event id {event_id:d} is sent through the API"),
      target_fixture="cue")
def send_a_cue(ome_client, publication, seconds, event_id):
    return attempt_cue_via_api(ome_client, publication.vhost, publication.app, publication.name,
                               event_id=event_id, duration_s=seconds)


@when("a cue without an event id is sent through the API", target_fixture="cue")
def send_a_cue_without_id(ome_client, publication):
    body = {"eventFormat": "scte35", "events": [{"spliceCommand": "spliceInsert", "type": "out", "duration": 2000}]}
    return attempt_cue_via_api(ome_client, publication.vhost, publication.app, publication.name, body=body)


@then("the LL-HLS output shows the cue", target_fixture="verification")
def output_shows_the_cue(target, publication, cue, harness_config, keep_for_report):
    tolerance = CueTolerance(skew_s=harness_config.media.clock_skew_s)
    verification = verify_cue_in_llhls(target.llhls_url(publication.name, publication.app), cue, tolerance=tolerance)
    keep_for_report("cue_timeline", verification)
    assert verification.ok, verification.summary()
    return verification


@then("a segment of the output is cut at the cue time")
def segment_cut(verification):
    assert any(e.kind == "segment cut" for e in verification.found), verification.summary()


@then(parsers.parse('OME refuses the cue with "{message}"'))
def ome_refuses(cue, message):
    assert isinstance(cue, CueRefused), f"OME accepted the cue: {cue}"
    assert cue.message == message


@when("the SCTE-35 capability is diagnosed", target_fixture="capability")
def diagnose_capability(ome_version):
    return diagnose_scte35_capability(ome_version)


@then("it names the insertion paths this version offers")
def names_the_paths(capability, ome_version):
    assert capability.facts["paths"] == available_paths(ome_version), capability.summary
    # v0.21 removed the API path: warned there; up to v0.20.x OK, with the upgrade trap in its words.
    verdict, words = ((Status.WARN, "only in-band") if capabilities(ome_version).version >= OmeVersion(0, 21, 0)
                      else (Status.OK, "v0.21.0 removed"))
    assert (capability.id, capability.status) == ("scte35", verdict) and words in capability.summary, capability
