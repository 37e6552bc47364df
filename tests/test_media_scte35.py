"""SCTE-35 by the version's path, found again in the LL-HLS output; refusals and cue-less outputs caught."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from media_support import TOKEN, llhls_url, rtmp_url
from ome_samples import SAMPLES

from ome_harness.media.encoder import publish
from ome_harness.ome.client import OmeClient
from ome_harness.results import Status
from ome_harness.scte35.capability import diagnose_scte35_capability
from ome_harness.scte35.insertion import (
    CuePathUnavailable,
    CueRefused,
    CueSent,
    available_paths,
    choose_path,
    insert_cue,
    send_cue_via_api,
    splice_insert_body,
)
from ome_harness.scte35.splice import SpliceDecodeError, decode_splice, splice_insert
from ome_harness.scte35.verify import assess_cue, parse_chunklist, verify_cue_in_llhls

pytestmark = [pytest.mark.media]
pytest_plugins = ["media_fixtures"]
CHUNKLIST_SAMPLE = SAMPLES / "60_llhls_video_chunklist_after_scte35.m3u8"


# -- version awareness ---------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "paths", "chosen"), [
    ("0.20.0", ["api"], "api"), ("v0.20.5", ["api"], "api"), ("0.21.0", ["in-band"], "in-band"),
])
def test_the_insertion_path_follows_the_version(version, paths, chosen):
    assert available_paths(version) == paths
    assert choose_path(version) == chosen


def test_diagnosis_warns_that_the_api_path_breaks_on_v021():
    result = diagnose_scte35_capability("0.20.0")
    assert result.status is Status.OK  # works today; the upgrade trap is spelled out
    assert "v0.21.0 removed that path" in result.summary
    assert result.facts["paths"] == ["api"]


def test_diagnosis_on_v021_says_in_band_only_and_that_the_api_answers_400():
    result = diagnose_scte35_capability("0.21.0")
    assert result.status is Status.WARN
    assert "only in-band" in result.summary and "answers 400" in result.summary
    assert any("refused with 400" in e.outcome for e in result.evidence)


def test_diagnosis_without_a_version_is_skipped():
    assert diagnose_scte35_capability(None).status is Status.SKIP


# -- the API path against the emulator (no media needed for refusals) -----------------------------
def _simulated_stream(server) -> OmeClient:
    server.state.add_stream("sim")
    return OmeClient(server.url, TOKEN)


def test_v021_refuses_the_api_path_with_omes_400(start_emulator):
    server = start_emulator(version="0.21.0")
    with _simulated_stream(server) as client, pytest.raises(CueRefused) as caught:
        send_cue_via_api(client, "default", "app", "sim", event_id=1, duration_s=5, version="0.21.0")
    assert caught.value.message == "eventFormat is not supported: [scte35]"
    assert "takes SCTE-35 only in-band" in str(caught.value)
    assert "[HTTP]" not in str(caught.value)


@pytest.mark.parametrize(("event", "message"), [
    ({"type": "out", "duration": 30000}, "id is required in events"),
    ({"id": "7", "type": "out"}, "id is required in events"),
    ({"id": 7, "type": "sideways"}, "type must be 'out' or 'in'"),
    ({"spliceCommand": "spliceNull", "id": 7, "type": "out"}, "Now only spliceInsert is supported"),
])
def test_a_cue_with_a_bad_body_shows_omes_400_message(start_emulator, event, message):
    server = start_emulator(version="0.20.0")
    with _simulated_stream(server) as client, pytest.raises(CueRefused) as caught:
        send_cue_via_api(client, "default", "app", "sim", event_id=7,
                         body={"eventFormat": "scte35", "events": [event]}, version="0.20.0")
    assert caught.value.message == message
    assert str(caught.value) == f"OME refused the SCTE-35 cue: {message}"


def test_the_api_body_is_omes_splice_insert_with_a_duration_in_milliseconds():
    assert splice_insert_body(12345, duration_s=60.5) == {
        "eventFormat": "scte35",
        "events": [{"spliceCommand": "spliceInsert", "id": 12345, "type": "out", "duration": 60500,
                    "autoReturn": True}]}
    assert splice_insert_body(12345, out=False)["events"][0] == {"spliceCommand": "spliceInsert", "id": 12345,
                                                                 "type": "in"}


# -- verification against real ingest ------------------------------------------------------------
def test_api_cue_on_v020_cuts_the_llhls_segment_at_the_cue_time(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name):
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=4242, duration_s=2.0)
        result = verify_cue_in_llhls(llhls_url(emulator_v020, stream_name), sent, wait_s=15)
    assert result.ok, result.summary()
    found = {(e.kind, e.where.split("_")[2]) for e in result.found}
    # Both renditions (video and audio chunklists) carry the cut and the cue-in that follows 2 s later.
    assert found == {("segment cut", "video"), ("segment cut", "audio"),
                     ("cue-in cut", "video"), ("cue-in cut", "audio")}
    assert any(e.kind == "EXT-X-DATERANGE / CUE tags" and e.state == "absent" for e in result.evidence)
    assert any(e.kind == "SCTE-35 in MPEG-TS" and e.state == "not-looked" for e in result.evidence)
    check = result.to_check_result()
    assert check.status is Status.OK and "segment cut" in check.summary


def test_daterange_tags_are_decoded_and_match_the_cue(ffmpeg, start_emulator, client_of, stream_name):
    server = start_emulator(version="0.20.0", llhls_daterange=True)
    client = client_of(server)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name):
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=31337, duration_s=2.0)
        result = verify_cue_in_llhls(llhls_url(server, stream_name), sent, wait_s=15)
    assert result.ok, result.summary()
    tags = [e for e in result.found if e.kind == "EXT-X-DATERANGE"]
    assert len(tags) == 4  # out and in, in each rendition
    outs = [f for f in result.decoded if f.out_of_network]
    assert outs and all((f.event_id, f.duration_s) == (31337, 2.0) for f in outs)
    assert all(f.event_id == 31337 for f in result.decoded)


def test_an_output_without_a_trace_of_the_cue_is_caught(ffmpeg, emulator_v020, client_of, stream_name):
    emulator_v020.llhls.ignore_cues = True
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name):
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=9, duration_s=2.0)
        result = verify_cue_in_llhls(llhls_url(emulator_v020, stream_name), sent, wait_s=4)
    assert not result.ok
    assert result.summary().startswith("no trace of SCTE-35 cue 9 in the output")
    assert "no segment cut within" in result.summary()
    assert result.to_check_result().status is Status.ERROR


# -- golden: the real OME v0.20.0 chunklist after a cue-out ---------------------------------------
def _sample_chunklist() -> str:
    if not CHUNKLIST_SAMPLE.is_file():
        pytest.skip(f"needs the real OME sample {CHUNKLIST_SAMPLE}")
    return CHUNKLIST_SAMPLE.read_text()


def test_the_cut_in_a_real_ome_chunklist_is_found_at_the_cue_time():
    rendition = parse_chunklist(_sample_chunklist(), "sample")
    # The cue went out during the 00:08:59 second; OME cut the segment at 00:09:00.610.
    sent = CueSent(event_id=12345, out=True, duration_s=60.5, at=datetime(2026, 11, 24, 0, 8, 59, 900_000, UTC),
                   path="api")
    result = assess_cue([rendition], sent)
    cut = next(e for e in result.evidence if e.kind == "segment cut")
    assert cut.state == "found" and "00:09:00.610" in cut.detail and "+0.710s" in cut.detail
    cue_in = next(e for e in result.evidence if e.kind == "cue-in cut")
    assert cue_in.state == "not-looked", "the cue-in is due a minute after the end of this playlist"


def test_a_time_with_only_regular_segment_boundaries_is_not_taken_for_a_cut():
    rendition = parse_chunklist(_sample_chunklist(), "sample")
    # 00:08:44.010 is a regular 6-second boundary: no cut there.
    sent = CueSent(event_id=1, out=True, duration_s=None, at=datetime(2026, 11, 24, 0, 8, 44, 0, UTC), path="api")
    result = assess_cue([rendition], sent)
    assert not result.ok
    assert "regular cadence" in next(e for e in result.evidence if e.kind == "segment cut").detail


def _playlist_with(*dateranges: str) -> str:
    return ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T00:00:00.000+00:00\n"
            "#EXTINF:6.0,\na.m4s\n" + "".join(f"#EXT-X-DATERANGE:{d}\n" for d in dateranges)
            + "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T00:00:06.000+00:00\n#EXTINF:6.0,\nb.m4s\n")


def _daterange(tag_id: int, **attributes: str) -> str:
    return f'ID="{tag_id}",START-DATE="2026-11-24T00:00:06.000+00:00",' + ",".join(
        f"{name.replace('_', '-')}={value}" for name, value in attributes.items())


SENT_6 = CueSent(event_id=6, out=True, duration_s=30.0, at=datetime(2026, 11, 24, 0, 0, 6, 0, UTC), path="api")


def test_a_daterange_of_another_cue_is_reported_as_unrelated_not_judged():
    other = _daterange(5, PLANNED_DURATION="10", SCTE35_OUT=splice_insert(5, duration_s=10).hex())
    result = assess_cue([parse_chunklist(_playlist_with(other))], SENT_6)
    tags = [e for e in result.evidence if e.kind == "EXT-X-DATERANGE"]
    assert [(e.state, e.detail) for e in tags] == [("unrelated", "event id 5, not the cue sent (6)")]
    assert not result.mismatches and not result.ok
    assert "no SCTE-35 tag for event id 6, only for other cues" in result.summary()
    assert result.decoded == []


def test_a_daterange_of_the_cue_is_judged_beside_one_of_another_cue():
    other = _daterange(5, SCTE35_OUT=splice_insert(5, duration_s=10).hex())
    ours = _daterange(6, PLANNED_DURATION="12", SCTE35_OUT=splice_insert(6, duration_s=12).hex())
    result = assess_cue([parse_chunklist(_playlist_with(other, ours))], SENT_6)
    (mismatch,) = result.mismatches
    assert "break duration 12.0, sent 30s" in mismatch.detail and "PLANNED-DURATION 12s, sent 30s" in mismatch.detail
    assert "event id 5" not in result.summary()


def test_a_daterange_with_both_halves_judges_out_as_out_and_in_as_in():
    both = _daterange(6, PLANNED_DURATION="30", SCTE35_OUT=splice_insert(6, duration_s=30).hex(),
                      SCTE35_IN=splice_insert(6, out=False).hex())
    result = assess_cue([parse_chunklist(_playlist_with(both))], SENT_6)
    tags = [e for e in result.evidence if e.kind == "EXT-X-DATERANGE"]
    assert [e.state for e in tags] == ["found", "found"], [e.detail for e in tags]
    assert [f.out_of_network for f in result.decoded] == [True, False]


def test_a_daterange_whose_in_half_claims_out_of_network_is_a_mismatch():
    both = _daterange(6, PLANNED_DURATION="30", SCTE35_OUT=splice_insert(6, duration_s=30).hex(),
                      SCTE35_IN=splice_insert(6, out=True, duration_s=30).hex())
    result = assess_cue([parse_chunklist(_playlist_with(both))], SENT_6)
    (mismatch,) = result.mismatches
    assert mismatch.detail == "out-of-network flag True, expected False"


# -- splice info with threefive ------------------------------------------------------------------
def test_a_splice_insert_round_trips_through_threefive():
    facts = decode_splice(splice_insert(12345, duration_s=60.5).hex())
    assert (facts.table_id, facts.command_type, facts.event_id, facts.out_of_network, facts.duration_s) == \
        (0xFC, 5, 12345, True, 60.5)
    assert decode_splice(splice_insert(12345, out=False).base64()).out_of_network is False


def test_a_corrupted_splice_section_is_refused():
    good = splice_insert(1, duration_s=10).hex()
    with pytest.raises(SpliceDecodeError, match="CRC_32 mismatch"):
        decode_splice(good[:-2] + ("00" if not good.endswith("00") else "11"))
    with pytest.raises(SpliceDecodeError, match="not SCTE-35's 0xfc"):
        decode_splice("0x" + "de" * 20)


# -- the version-aware entry point ---------------------------------------------------------------
def test_insert_cue_uses_the_api_on_v020(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        sent = insert_cue(client, pub, event_id=5, duration_s=1.0)
    assert sent.path == "api"
    assert emulator_v020.state.events[-1].body == splice_insert_body(5, duration_s=1.0)


def test_insert_cue_on_v021_needs_an_in_band_publication(ffmpeg, start_emulator, client_of, stream_name):
    server = start_emulator(version="0.21.0")
    client = client_of(server)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name) as pub, \
            pytest.raises(CuePathUnavailable, match="takes SCTE-35 only in-band"):
        insert_cue(client, pub, event_id=5, duration_s=1.0)
    assert server.state.events == [], "nothing was sent through the API"
