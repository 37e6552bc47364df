"""SCTE-35 through OME's API, found again in the LL-HLS output (or dropped, as OME does); refusals caught."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from media_support import TOKEN, llhls_url, rtmp_url
from ome_samples import SAMPLES

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator.api import OME_LOG_LABEL, OME_LOG_PATH
from ome_harness.media.encoder import publish
from ome_harness.ome.client import OmeClient, auth_header
from ome_harness.results import BY_VERSION, OBSERVED, Status
from ome_harness.scte35.backend_env import BackendScte35, read_backend_scte35
from ome_harness.scte35.break_rule import break_for, min_break_ms, not_applied_reason, too_short_break
from ome_harness.scte35.capability import diagnose_scte35_capability
from ome_harness.scte35.insertion import (
    CueRefused,
    CueSent,
    available_paths,
    insert_cue,
    send_cue_via_api,
    splice_insert_body,
)
from ome_harness.scte35.splice import SpliceDecodeError, decode_splice, splice_insert
from ome_harness.scte35.verify import assess_cue, parse_chunklist, verify_cue_in_llhls, wait_for_room_to_cut
from ome_harness.target import OmeTarget

pytestmark = [pytest.mark.media]
pytest_plugins = ["media_fixtures"]
CHUNKLIST_SAMPLE = SAMPLES / "60_llhls_video_chunklist_after_scte35.m3u8"
# Short LL-HLS segments keep the runs fast; the rule is the same (a break must exceed 1.5 × 3 s).
SHORT_SEGMENT_S = 3.0


# -- version awareness ---------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "paths"), [("0.20.0", ["api"]), ("v0.20.5", ["api"]), ("0.21.0", [])])
def test_only_v019_to_v0205_offer_an_on_demand_insertion_path(version, paths):
    assert available_paths(version) == paths


def test_the_break_rule_is_one_and_a_half_segments_exclusive():
    assert min_break_ms(6) == 9000 and min_break_ms(SHORT_SEGMENT_S) == 4500
    assert break_for(6) == 10 and break_for(SHORT_SEGMENT_S) == 5
    assert too_short_break(6) == 9.0  # "greater than": exactly the limit is dropped
    assert not_applied_reason(6) == (
        "accepted by the API, not applied: the break must exceed 9000 ms for this "
        "application's segment duration (6 s)"
    )


def test_diagnosis_on_v020_names_the_break_rule_and_that_v021_removed_the_path():
    result = diagnose_scte35_capability("0.20.0", segment_s=6)
    assert result.status is Status.OK
    assert "v0.21.0 removed that path" in result.summary and "9000 ms" in result.summary
    assert "in-band" not in (result.remediation or "").replace("no version reads", "")
    assert result.facts["paths"] == ["api"] and result.facts["min_break_ms"] == 9000


def test_diagnosis_on_v021_says_no_on_demand_insertion_and_names_v0205():
    result = diagnose_scte35_capability("0.21.0")
    assert result.status is Status.WARN
    assert "no on-demand SCTE-35 insertion" in result.summary and "v0.20.5" in result.summary
    assert "switch to in-band" not in (result.remediation or "")
    inband = next(e for e in result.evidence if e.what.startswith("in-band"))
    assert "ignored in every version" in inband.outcome and "table id: 252" in inband.outcome


def test_diagnosis_evidence_on_v021_says_it_was_inferred_by_version_not_observed():
    result = diagnose_scte35_capability("0.21.0")
    api = next(e for e in result.evidence if e.what.startswith("API path"))
    assert "refused with 400" in api.outcome and api.http_status is None
    assert api.obtained == BY_VERSION == "by version (not tried: read-only)"


def test_diagnosis_is_an_error_when_the_backend_offers_scte35_on_v021():
    result = diagnose_scte35_capability("0.21.0", backend=BackendScte35(".env", offers=True))
    assert result.status is Status.ERROR
    assert "the backend offers SCTE-35" in result.summary and "v0.20.5" in (result.remediation or "")


def test_diagnosis_flags_backend_breaks_the_target_drops():
    result = diagnose_scte35_capability("0.20.0", segment_s=6, backend=BackendScte35(".env", True, 2000))
    assert result.status is Status.ERROR
    assert "2000 ms breaks are accepted" in result.summary and "must exceed 9000 ms" in result.summary
    fine = diagnose_scte35_capability("0.20.0", segment_s=6, backend=BackendScte35(".env", True, 30000))
    assert fine.status is Status.OK


def test_the_backend_env_says_whether_scte35_is_offered_and_its_break_length(tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text("OME_API_URL=http://127.0.0.1:8081\nSCTE35_ENABLED=true\nSCTE35_BREAK_MS=2000\n")
    assert read_backend_scte35(env) == BackendScte35(".env", offers=True, break_ms=2000)
    env.write_text("OME_API_URL=http://127.0.0.1:8081\nSCTE35_ENABLED=false\n")
    assert read_backend_scte35(env) == BackendScte35(".env", offers=False)
    assert read_backend_scte35(None) is None


@pytest.mark.parametrize("version", ["0.20.0", "0.21.0"])
def test_diagnose_reads_the_segment_duration_and_the_backend_env(start_emulator, tmp_path: Path, version):
    env = tmp_path / "backend.env"
    env.write_text(f"OME_API_TOKEN={TOKEN}\nSCTE35_ENABLED=true\nSCTE35_BREAK_MS=4000\n")
    server = start_emulator(version=version, token=TOKEN, llhls_segment_s=SHORT_SEGMENT_S, rtmp_port=None,
                            llhls_port=None)
    report = diagnose(OmeTarget(kind="url", api_url=server.url, token=TOKEN), env_file=env, probe_host=False)
    scte = next(r for r in report.results if r.id == "scte35")
    assert scte.status is Status.ERROR and report.exit_code == 1
    keys = {f.key for f in report.issues}
    if version == "0.20.0":
        assert scte.facts["llhls_segment_s"] == SHORT_SEGMENT_S and "must exceed 4500 ms" in scte.summary
        assert "scte35_break_dropped" in keys
        segment = next(e for e in scte.evidence if e.what.startswith("LL-HLS segment duration"))
        assert segment.obtained == OBSERVED
    else:
        assert "scte35_api_unavailable" in keys and "v0.20.5" in (scte.remediation or "")


def test_diagnosis_without_a_version_is_skipped():
    assert diagnose_scte35_capability(None).status is Status.SKIP


# -- the API path against the emulator (no media needed for refusals) -----------------------------
def _simulated_stream(server) -> OmeClient:
    server.state.add_stream("sim")
    return OmeClient(server.url, TOKEN)


def test_v021_refuses_the_api_path_with_omes_400_and_says_no_path_is_left(start_emulator):
    server = start_emulator(version="0.21.0")
    with _simulated_stream(server) as client, pytest.raises(CueRefused) as caught:
        send_cue_via_api(client, "default", "app", "sim", event_id=1, duration_s=5, version="0.21.0")
    assert caught.value.message == "eventFormat is not supported: [scte35]"
    assert "no on-demand SCTE-35 insertion" in str(caught.value) and "v0.20.5" in str(caught.value)
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
def _short_segments(start_emulator, **settings):
    return start_emulator(version="0.20.0", llhls_segment_s=SHORT_SEGMENT_S, **settings)


def test_api_cue_on_v020_cuts_at_the_next_keyframe_and_returns_on_omes_grid(ffmpeg, start_emulator, client_of,
                                                                            stream_name):
    server = _short_segments(start_emulator)
    client = client_of(server)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name):
        wait_for_room_to_cut(llhls_url(server, stream_name))
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=4242,
                                duration_s=break_for(SHORT_SEGMENT_S), segment_s=SHORT_SEGMENT_S)
        result = verify_cue_in_llhls(llhls_url(server, stream_name), sent, wait_s=20)
    assert sent.not_applied is None
    assert result.ok, result.summary()
    found = {(e.kind, e.where.split("_")[2]) for e in result.found}
    # Both renditions (video and audio chunklists) carry the cut and OME's own cue-in after the break.
    assert found == {("segment cut", "video"), ("segment cut", "audio"),
                     ("cue-in cut", "video"), ("cue-in cut", "audio")}
    assert any(e.kind == "EXT-X-DATERANGE / CUE tags" and e.state == "absent" for e in result.evidence)
    assert any(e.kind == "SCTE-35 in MPEG-TS" and e.state == "not-looked" for e in result.evidence)
    check = result.to_check_result()
    assert check.status is Status.OK and "segment cut" in check.summary


def _emulator_log(server) -> str:
    answer = httpx.get(
        f"{server.url}{OME_LOG_PATH}", headers={"Authorization": auth_header(TOKEN)}, timeout=5
    )
    assert answer.status_code == 200
    return answer.text


def test_a_break_not_longer_than_the_limit_is_accepted_by_the_api_and_dropped(
    ffmpeg, start_emulator, client_of, stream_name
):
    server = _short_segments(start_emulator)
    client = client_of(server)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name) as pub:
        wait_for_room_to_cut(llhls_url(server, stream_name))
        sent = insert_cue(client, pub, event_id=77, duration_s=too_short_break(SHORT_SEGMENT_S))
        result = verify_cue_in_llhls(llhls_url(server, stream_name), sent, wait_s=4)
    assert sent.not_applied == ("accepted by the API, not applied: the break must exceed 4500 ms for this "
                                "application's segment duration (3 s)")
    assert not result.cut_found, result.summary()
    assert result.summary() == f"cue 77 {sent.not_applied}; the output shows no cut, as OME does"
    log = _emulator_log(server)
    assert log.startswith(OME_LOG_LABEL) and "EMULATOR ONLY" in log
    assert "Duration of the marker must be greater than 4500.000000 ms : Scte35Event-OUT" in log


def test_daterange_tags_are_decoded_and_match_the_cue(ffmpeg, start_emulator, client_of, stream_name):
    server = _short_segments(start_emulator, llhls_daterange=True)
    client = client_of(server)
    duration = break_for(SHORT_SEGMENT_S)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name):
        wait_for_room_to_cut(llhls_url(server, stream_name))
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=31337, duration_s=duration)
        result = verify_cue_in_llhls(llhls_url(server, stream_name), sent, wait_s=20)
    assert result.ok, result.summary()
    tags = [e for e in result.found if e.kind == "EXT-X-DATERANGE"]
    assert len(tags) == 4  # out and in, in each rendition
    outs = [f for f in result.decoded if f.out_of_network]
    assert outs and all((f.event_id, f.duration_s) == (31337, duration) for f in outs)
    assert all(f.event_id == 31337 for f in result.decoded)


def test_an_output_without_a_trace_of_the_cue_is_caught(ffmpeg, start_emulator, client_of, stream_name):
    server = _short_segments(start_emulator)
    server.llhls.ignore_cues = True
    client = client_of(server)
    with publish(client, rtmp_url(server, stream_name), "default", "app", stream_name):
        # The stream is young: its playlists come about two segments after the publish (as on real OME).
        wait_for_room_to_cut(llhls_url(server, stream_name), segment_s=SHORT_SEGMENT_S)
        sent = send_cue_via_api(client, "default", "app", stream_name, event_id=9,
                                duration_s=break_for(SHORT_SEGMENT_S), segment_s=SHORT_SEGMENT_S)
        result = verify_cue_in_llhls(llhls_url(server, stream_name), sent, wait_s=4)
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
    sent = CueSent(
        event_id=12345,
        out=True,
        duration_s=60.5,
        at=datetime(2026, 11, 24, 0, 8, 59, 900_000, UTC),
        path="api",
    )
    result = assess_cue([rendition], sent)
    cut = next(e for e in result.evidence if e.kind == "segment cut")
    assert cut.state == "found" and "00:09:00.610" in cut.detail and "+0.710s" in cut.detail
    cue_in = next(e for e in result.evidence if e.kind == "cue-in cut")
    assert cue_in.state == "not-looked", "the cue-in is due a minute after the end of this playlist"


def test_a_time_with_only_regular_segment_boundaries_is_not_taken_for_a_cut():
    rendition = parse_chunklist(_sample_chunklist(), "sample")
    # 00:08:44.010 is a regular 6-second boundary: no cut there.
    sent = CueSent(
        event_id=1, out=True, duration_s=None, at=datetime(2026, 11, 24, 0, 8, 44, 0, UTC), path="api"
    )
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


SENT_6 = CueSent(
    event_id=6, out=True, duration_s=30.0, at=datetime(2026, 11, 24, 0, 0, 6, 0, UTC), path="api"
)


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
    assert (
        "break duration 12.0, sent 30s" in mismatch.detail
        and "PLANNED-DURATION 12s, sent 30s" in mismatch.detail
    )
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
def test_insert_cue_reads_the_segment_duration_from_omes_app_config(start_emulator, client_of):
    server = _short_segments(start_emulator, rtmp_port=None, llhls_port=None)
    server.state.add_stream("sim")
    client = client_of(server)
    assert client.app("default", "app").publishers["llhls"]["segmentDuration"] == "3"
    publication = type("Publication", (), {"vhost": "default", "app": "app", "name": "sim"})()
    kept = insert_cue(client, publication, event_id=5, duration_s=5.0)
    dropped = insert_cue(client, publication, event_id=6, duration_s=4.5)
    assert kept.path == "api" and kept.not_applied is None
    assert dropped.not_applied == not_applied_reason(SHORT_SEGMENT_S)
    assert server.state.events[-1].body == splice_insert_body(6, duration_s=4.5)


def test_insert_cue_on_v021_is_refused_and_nothing_is_accepted(start_emulator, client_of):
    server = start_emulator(version="0.21.0", rtmp_port=None, llhls_port=None)
    server.state.add_stream("sim")
    publication = type("Publication", (), {"vhost": "default", "app": "app", "name": "sim"})()
    with pytest.raises(CueRefused, match="no on-demand SCTE-35 insertion"):
        insert_cue(client_of(server), publication, event_id=5, duration_s=10.0)
    assert server.state.events == [], "OME accepted nothing"


# -- golden: the real v0.20.0 and v0.21.0 media captures ------------------------------------------
MEDIA_V020, MEDIA_V021 = SAMPLES / "v0.20.0-media", SAMPLES / "v0.21.0-media"


def _media_sample(folder: Path, name: str):
    from ome_samples import load

    path = folder / name
    if not path.is_file():
        pytest.skip(f"needs the real OME sample {path}")
    return load(path)


def _sent_at(sample_path: Path) -> datetime:
    line = next(x for x in sample_path.read_text().splitlines() if x.startswith("### sent at"))
    return datetime.fromisoformat(line.split("sent at", 1)[1].split()[0].replace("Z", "+00:00"))


@pytest.mark.parametrize(("name", "dropped"), [("cue_2s_api.http", True), ("cue_10s_api.http", False)])
def test_the_emulator_answers_the_v020_cues_like_the_real_one_and_logs_the_same_refusal(start_emulator, name,
                                                                                          dropped):
    sample = _media_sample(MEDIA_V020, name)
    server = start_emulator(version="0.20.0", rtmp_port=None, llhls_port=None)  # OME's default 6 s segments
    server.state.add_stream("cuecap")
    answer = httpx.post(f"{server.url}{sample.path}", content=sample.body.encode(), timeout=5,
                        headers={"Authorization": auth_header(TOKEN), "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()) == (sample.status, sample.json)
    real_log = (MEDIA_V020 / name.replace("_api.http", "_ome_log.txt")).read_text()
    refusal = "Duration of the marker must be greater than 9000.000000 ms : Scte35Event-OUT"
    assert (refusal in real_log) is dropped and (refusal in _emulator_log(server)) is dropped


@pytest.mark.parametrize("name", ["sendEvent_scte35_refused.http", "sendEvent_cue_refused.http",
                                  "sendEvent_id3v2_accepted.http"])
def test_the_emulator_answers_the_v021_events_like_the_real_one(start_emulator, name):
    sample = _media_sample(MEDIA_V021, name)
    server = start_emulator(version="0.21.0", rtmp_port=None, llhls_port=None)
    server.state.add_stream("srtwarm21")
    answer = httpx.post(f"{server.url}{sample.path}", content=sample.body.encode(), timeout=5,
                        headers={"Authorization": auth_header(TOKEN), "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()) == (sample.status, sample.json)


def test_the_real_10s_break_is_found_with_its_cut_and_omes_own_cue_in():
    chunklist = MEDIA_V020 / "cue_10s_chunklist_after_26s.m3u8"
    if not chunklist.is_file():
        pytest.skip(f"needs the real OME sample {chunklist}")
    sent = CueSent(
        event_id=202, out=True, duration_s=10.0, at=_sent_at(MEDIA_V020 / "cue_10s_api.http"), path="api"
    )
    result = assess_cue([parse_chunklist(chunklist.read_text(), "video")], sent)
    assert result.ok, result.summary()
    cut = next(e for e in result.evidence if e.kind == "segment cut")
    assert cut.state == "found" and "23:16:36.233" in cut.detail and "+0.615s" in cut.detail
    cue_in = next(e for e in result.evidence if e.kind == "cue-in cut")
    assert cue_in.state == "found", cue_in.detail  # 12.6 s after the out-cut: on OME's grid, not at +10 s


def test_the_real_2s_break_left_no_cut_and_the_harness_says_it_was_not_applied():
    chunklist = MEDIA_V020 / "cue_2s_chunklist_after_14s.m3u8"
    if not chunklist.is_file():
        pytest.skip(f"needs the real OME sample {chunklist}")
    sent = CueSent(
        event_id=201,
        out=True,
        duration_s=2.0,
        at=_sent_at(MEDIA_V020 / "cue_2s_api.http"),
        path="api",
        not_applied=not_applied_reason(6),
    )
    result = assess_cue([parse_chunklist(chunklist.read_text(), "video")], sent)
    assert not result.cut_found
    assert "accepted by the API, not applied: the break must exceed 9000 ms" in result.summary()


def _extinfs(text: str) -> list[float]:
    return [
        float(line.split(":", 1)[1].rstrip(",")) for line in text.splitlines() if line.startswith("#EXTINF:")
    ]


def _layout_after_cut(durations: list[float], segment_s: float) -> list[float]:
    """The five segments from the out-cut on: short, rest of the grid, regular, one GOP, rest of the grid."""
    first_short = next(i for i, d in enumerate(durations) if d < segment_s - 0.5)
    return durations[first_short:first_short + 5]


def test_the_emulators_cut_layout_follows_the_real_10s_break():
    from ome_harness.emulator.llhls_timeline import Timeline
    from ome_harness.emulator.state import EmulatedStream

    chunklist = MEDIA_V020 / "cue_10s_chunklist_after_26s.m3u8"
    if not chunklist.is_file():
        pytest.skip(f"needs the real OME sample {chunklist}")
    real = _layout_after_cut(_extinfs(chunklist.read_text()), 6.0)  # 0.4, 5.6, 6.0, 1.0, 5.0
    timeline = Timeline(
        EmulatedStream("cuecap"), segment_s=6.0, part_s=0.5, segment_count=20, daterange=False
    )
    timeline.frame(0, True)
    assert timeline.origin is not None
    from datetime import timedelta

    timeline.cue("out", timeline.origin + timedelta(seconds=18.5), 202, 10.0)  # 30 fps, 1 s GOP as measured
    for frame in range(1, 45 * 30):
        timeline.frame(frame * 1000 // 30, frame % 30 == 0)
    emulated = _layout_after_cut([round(s.duration, 3) for s in timeline.segments[:-1]], 6.0)
    for layout in (real, emulated):
        short, rest, regular, gop, rest_after = layout
        assert short + rest == pytest.approx(6.0, abs=0.05), layout  # the cut does not move OME's grid
        assert regular == pytest.approx(6.0, abs=0.05), layout  # the cue-in falls in a regular segment...
        assert gop == pytest.approx(1.0, abs=0.05), layout  # ...and the next is cut at its next keyframe
        assert gop + rest_after == pytest.approx(6.0, abs=0.05), layout


def test_the_reports_show_which_evidence_was_inferred_by_version(start_emulator):
    from ome_harness.report.junit import render_junit
    from ome_harness.report.render import render_markdown

    server = start_emulator(version="0.21.0", token=TOKEN, rtmp_port=None, llhls_port=None)
    report = diagnose(OmeTarget(kind="url", api_url=server.url, token=TOKEN), probe_host=False)
    markdown, junit = render_markdown(report), render_junit(report)
    assert "refused with 400 'eventFormat is not supported: [scte35]' _[by version (not tried: read-only)]_" \
        in markdown
    assert "[by version (not tried: read-only)]" in junit
    assert "GET /v1/version` → HTTP 200 _[" not in markdown, "observed evidence carries no mark"


def test_a_run_against_v021_lists_scte35_insertion_as_impossible_never_as_passed(run_cli, tmp_path: Path):
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-k", "scte35 or SCTE",
                  "-m", "media and not backend", env={"OMH_EMULATOR__VERSION": "0.21.0"})
    assert run.code == 0, run.output
    results = [r for r in json.loads((tmp_path / "out" / "results.json").read_text())["results"]
               if r["kind"] == "scenario"]
    by_title = {r["title"].split(": ", 1)[-1]: r for r in results}
    shown = by_title["A cue-out on a live stream shows in the LL-HLS output"]
    assert shown["status"] == "SKIP" and shown["summary"].startswith(
        "impossible on this version: OME v0.21.0 has no on-demand SCTE-35 insertion"
    )
    assert "v0.20.5" in shown["summary"]
    assert by_title["An OME without SCTE-35 in its API refuses the API path"]["status"] == "OK"
    assert by_title["An in-band cue leaves no trace for viewers"]["status"] in ("OK", "SKIP")
    passed_insertions = [t for t, r in by_title.items() if r["status"] == "OK" and "shows in the LL-HLS" in t]
    assert passed_insertions == []
