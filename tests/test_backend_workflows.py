"""The reference backend's stream workflows over real HTTP, with the emulator as OME, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from ome_harness.backend.client import BackendClient
from ome_harness.backend.under_test import NotApplicable, backend_with_own_ome
from ome_harness.config import HarnessConfig

if TYPE_CHECKING:
    from backend_fixtures import Rig

pytest_plugins = ["backend_fixtures"]


def test_start_returns_the_key_activates_the_channel_and_audits(rig: Rig) -> None:
    created = rig.channel("news")
    before = datetime.now(UTC)
    answer = rig.api.start("news")
    assert answer.status == 200, answer.body
    assert answer.field("stream_key") == created["stream_key"] and len(created["stream_key"]) >= 24
    assert answer.field("ome") == {"vhost": "default", "app": "app", "stream": created["ome"]["stream"]}
    assert answer.field("ome_status") == {"reachable": True, "version": "0.20.0", "message": None}
    assert answer.degraded is False
    rig.db.expect_channel_status("news", "active")
    rig.db.expect_stream_key("news", answer.field("stream_key"))
    entry = rig.db.expect_audit("stream.start", "news", after=before)
    assert entry["outcome"] == "ok"


def test_stop_on_a_live_stream_deletes_it_in_ome_and_deactivates_the_channel(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    answer = rig.api.stop("news")
    assert answer.status == 200, answer.body
    assert answer.field("ome_stream") == "deleted" and answer.field("status") == "inactive"
    # DELETE is asynchronous in OME: the stream disappears some hundred milliseconds later.
    rig.wait_gone(stream)
    rig.db.expect_channel_status("news", "inactive")
    assert rig.db.expect_audit("stream.stop", "news", after=before)["details"] == {"ome_stream": "deleted"}


def test_stop_when_ome_has_no_such_stream_still_deactivates_without_error(rig: Rig) -> None:
    rig.channel("news")
    rig.api.start("news")
    before = datetime.now(UTC)
    answer = rig.api.stop("news")
    assert answer.status == 200, answer.body
    assert answer.field("ome_stream") == "not_found" and answer.degraded is False
    rig.db.expect_channel_status("news", "inactive")
    rig.db.expect_audit("stream.stop", "news", after=before)
    assert rig.api.stop("news").status == 200  # a second stop is just as calm


def test_scte35_on_an_active_channel_sends_the_marker_values_to_ome(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break45", cue_type="out", duration_ms=45_000, auto_return=False, event_id_policy="fixed",
               splice_event_id=4242)
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    answer = rig.api.insert_scte35("news", "break45")
    assert answer.status == 200, answer.body
    assert answer.field("accepted") is True and answer.field("ome_version") == "0.20.0"
    [event] = rig.ome.state.events
    assert (event.vhost, event.app, event.stream) == ("default", "app", stream)
    assert event.body == {"eventFormat": "scte35", "events": [
        {"spliceCommand": "spliceInsert", "id": 4242, "type": "out", "duration": 45_000, "autoReturn": False}]}
    rig.db.expect_marker_inserted("break45", "news", after=before)


def test_increment_policy_gives_each_insertion_the_next_event_id(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("m", splice_event_id=7)
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    assert [rig.api.insert_scte35("news", "m").status for _ in range(3)] == [200, 200, 200]
    assert [e.body["events"][0]["id"] for e in rig.ome.state.events] == [7, 8, 9]


def test_concurrent_insertions_never_share_a_splice_event_id(rig: Rig) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("m", splice_event_id=100)
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: rig.api.insert_scte35("news", "m").status, range(12)))
    assert statuses == [200] * 12
    ids = sorted(e.body["events"][0]["id"] for e in rig.ome.state.events)
    assert ids == list(range(100, 112)), ids


def test_scte35_against_ome_v0_21_is_a_502_naming_the_version_and_the_refusal(make_rig) -> None:
    rig: Rig = make_rig(ome_version="0.21.0")
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break30")
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    answer = rig.api.insert_scte35("news", "break30")
    assert answer.status == 502, answer.body
    assert answer.code == "ome_refused_event"
    assert "OME v0.21.0 refused the SCTE-35 cue: eventFormat is not supported: [scte35]" in answer.field("message")
    assert "no on-demand SCTE-35 insertion" in answer.field("message") and "v0.20.5" in answer.field("message")
    assert answer.field("accepted") is None and rig.ome.state.events == []
    failed = rig.db.expect_audit("scte35.insert", "news", after=before, outcome="failed", marker_id="break30")
    assert failed["details"]["ome_version"] == "0.21.0"
    rig.db.expect_no_audit("scte35.insert", "news", after=before, outcome="ok")


def test_scte35_with_a_break_ome_would_drop_is_422_and_ome_is_not_called(rig: Rig) -> None:
    # OME v0.20 answers 200 to a 9 s break with its default 6 s LL-HLS segments and drops it (ome-api.md).
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break9", cue_type="out", duration_ms=9_000, auto_return=True, event_id_policy="fixed",
               splice_event_id=1)
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    answer = rig.api.insert_scte35("news", "break9")
    assert (answer.status, answer.code) == (422, "break_too_short"), answer.body
    assert "must exceed 9000 ms" in answer.field("message") and "would answer 200 and drop" in answer.field("message")
    assert rig.ome.state.events == [], "OME's :sendEvent was not called"
    refused = rig.db.expect_audit("scte35.insert", "news", after=before, outcome="rejected", marker_id="break9")
    assert "event" not in refused["details"] and refused["details"]["min_break_ms"] == 9000
    rig.db.expect_no_audit("scte35.insert", "news", after=before, outcome="ok")


def test_scte35_on_an_inactive_channel_is_409_and_ome_is_not_called(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break30")
    # Live in OME: a backend that forwarded the cue anyway would see it accepted and recorded.
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    answer = rig.api.insert_scte35("news", "break30")
    assert answer.status == 409 and answer.code == "channel_inactive", answer.body
    assert rig.ome.state.events == []
    rig.db.expect_audit("scte35.insert", "news", after=before, outcome="rejected")
    rig.db.expect_no_audit("scte35.insert", "news", after=before, outcome="ok")


def test_stop_when_ome_refuses_still_deactivates_in_degraded_mode(make_rig) -> None:
    rig: Rig = make_rig(ome_token="not-the-ome-token")  # OME answers 401 to everything the backend asks
    stream = rig.channel("news")["ome"]["stream"]
    start = rig.api.start("news")
    assert start.status == 200 and start.degraded is True, start.body
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    stop = rig.api.stop("news")
    assert (stop.status, stop.field("status"), stop.field("ome_stream"), stop.degraded) == (
        200, "inactive", "unknown", True), stop.body
    rig.db.expect_channel_status("news", "inactive")
    assert rig.db.expect_audit("stream.stop", "news", after=before, outcome="degraded")["details"] == {
        "ome_stream": "unknown"}
    message = rig.api.call("GET", "/api/audit?channel_id=news").body[0]["message"]
    assert "401" in message and "not deleted" in message and stream not in message, message


def test_unknown_channel_or_marker_is_404_with_a_stable_code(rig: Rig) -> None:
    rig.channel("news")
    rig.api.start("news")
    for answer, code in [(rig.api.start("ghost"), "channel_not_found"),
                         (rig.api.stop("ghost"), "channel_not_found"),
                         (rig.api.stream("ghost"), "channel_not_found"),
                         (rig.api.insert_scte35("ghost", "break30"), "channel_not_found"),
                         (rig.api.insert_scte35("news", "no-such-marker"), "marker_not_found"),
                         (rig.api.start("bad id\x00"), "channel_not_found")]:
        assert (answer.status, answer.code) == (404, code), answer.body
    assert rig.ome.state.events == []
    rig.db.expect_audit("stream.start", "ghost", outcome="rejected")


def test_ome_down_gives_degraded_answers_and_loses_nothing_in_the_database(rig: Rig) -> None:
    rig.channel("news")
    rig.channel("sport")
    rig.marker("break30")
    assert rig.api.start("sport").status == 200
    rig.ome.stop()  # OME goes away while the backend runs
    before = datetime.now(UTC)

    start = rig.api.start("news")
    assert start.status == 200 and start.degraded is True, start.body
    assert start.field("ome_status")["reachable"] is False and "ECONNREFUSED" in start.field("ome_status")["message"]
    cue = rig.api.insert_scte35("news", "break30")
    assert (cue.status, cue.code, cue.degraded) == (503, "ome_unreachable", True), cue.body
    listing = rig.api.streams()
    assert (listing.status, listing.degraded) == (503, True), listing.body
    detail = rig.api.stream("news")
    assert detail.status == 200 and detail.degraded is True and detail.field("live") is None
    assert detail.field("channel")["status"] == "active"
    stop = rig.api.stop("sport")
    assert stop.status == 200 and stop.degraded is True and stop.field("ome_stream") == "unknown", stop.body

    rig.db.expect_channel_status("news", "active")
    rig.db.expect_channel_status("sport", "inactive")
    rig.db.expect_audit("stream.start", "news", after=before, outcome="degraded")
    rig.db.expect_audit("scte35.insert", "news", after=before, outcome="degraded", marker_id="break30")
    rig.db.expect_audit("stream.stop", "sport", after=before, outcome="degraded")
    rig.db.expect_audit("stream.list", None, after=before, outcome="degraded")
    rig.db.expect_audit("stream.get", "news", after=before, outcome="degraded")


def test_listing_and_details_combine_ome_and_the_database(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.channel("idle")
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    rig.ome.state.add_stream("someone-else")
    listing = rig.api.streams()
    assert listing.status == 200
    assert sorted((s["name"], s["channel_id"]) for s in listing.field("streams")) == sorted(
        [(stream, "news"), ("someone-else", None)])
    detail = rig.api.stream("news")
    assert detail.status == 200 and detail.field("live") is True
    assert detail.field("channel")["status"] == "active"
    assert detail.field("ome_stream")["name"] == stream
    assert detail.field("metrics")["totalBytesIn"] >= 0
    idle = rig.api.stream("idle")
    assert idle.status == 200 and idle.field("live") is False and idle.field("metrics") is None


def test_missing_or_wrong_bearer_token_is_401_json(rig: Rig) -> None:
    rig.channel("news")
    for token in (None, "wrong-token"):
        with BackendClient(rig.backend.url, token) as stranger:
            answer = stranger.start("news")
        assert (answer.status, answer.code) == (401, "unauthorized"), answer.body
        assert rig.backend.settings.token not in str(answer.body)
    rig.db.expect_channel_status("news", "inactive")


def test_bad_bodies_are_422_with_the_field_named(rig: Rig) -> None:
    rig.channel("news")
    cases = [("/api/channels", {"id": "x"}, "body.name"),
             ("/api/channels", {"id": "-bad", "name": "n"}, "body.id"),
             ("/api/markers", {"id": "m", "name": "m", "cue_type": "sideways"}, "body.cue_type"),
             ("/api/markers", {"id": "m", "name": "m", "splice_event_id": 2**32}, "body.splice_event_id"),
             ("/api/streams/news/scte35", {}, "body.marker_id"),
             ("/api/streams/news/scte35", [1, 2], "body")]
    for path, body, where in cases:
        answer = rig.api.call("POST", path, body)
        assert (answer.status, answer.code) == (422, "invalid_request"), (path, body, answer.body)
        assert answer.field("message").startswith(where), answer.body
    raw = rig.api._http.post("/api/streams/news/scte35", content=b"{not json", headers={"Content-Type": "application/json"})
    assert raw.status_code == 422 and raw.json()["code"] == "invalid_request"


def test_the_audit_log_is_readable_over_the_api(rig: Rig) -> None:
    rig.channel("news")
    rig.api.start("news")
    rig.api.start("ghost")
    newest, older = rig.api.call("GET", "/api/audit?channel_id=news").body[:2]
    assert (newest["action"], newest["outcome"], newest["channel_id"]) == ("stream.start", "ok", "news")
    assert newest["actor"].startswith("token sha256:") and rig.backend.settings.token not in str(newest)
    assert newest["time"].endswith(("Z", "+00:00")) and older["action"] == "channel.create"
    assert rig.api.call("GET", "/api/audit?channel_id=ghost").body[0]["outcome"] == "rejected"


def test_duplicate_ids_are_409(rig: Rig) -> None:
    rig.channel("news")
    rig.marker("m")
    assert rig.api.create_channel("news").code == "channel_exists"
    assert rig.api.create_marker("m").code == "marker_exists"


def test_the_openapi_document_describes_the_contract(rig: Rig) -> None:
    answer = rig.api.call("GET", "/openapi.json")
    assert answer.status == 200
    paths = answer.body["paths"]
    for path in ("/api/streams/{channelId}/start", "/api/streams/{channelId}/stop",
                 "/api/streams/{channelId}/scte35", "/api/streams", "/api/streams/{channelId}",
                 "/api/channels", "/api/markers"):
        assert path in paths, path
    assert "bearer" in str(answer.body["components"]["securitySchemes"]).lower()


def test_the_cue_check_compares_what_ome_received_with_the_marker() -> None:
    with backend_with_own_ome(HarnessConfig(_env_file=None)) as backend:
        channel, marker = backend.new_channel(), backend.new_marker(30)
        backend.expect(backend.api.start(channel.id), 200)
        backend.make_live(channel)
        backend.expect_no_cue(channel)
        for _ in range(2):
            backend.expect(backend.api.insert_scte35(channel.id, marker.id), 200)
        backend.expect_cues(channel, marker, count=2)  # ids 1000 then 1001: the increment policy
        with pytest.raises(AssertionError, match=r"call 1 has \{'duration': 30000\}, the marker .* needs "
                                                 r"\{'duration': 60000\}"):
            backend.expect_cues(channel, replace(marker, duration_ms=60_000), count=2)
        with pytest.raises(AssertionError, match=r"call 2 has \{'id': 1001\}.* needs \{'id': 1000\}"):
            backend.expect_cues(channel, replace(marker, event_id_policy="fixed"), count=2)
        with pytest.raises(AssertionError, match="OME received 2 cue"):
            backend.expect_no_cue(channel)
        stream_key = channel.stream_key
        with pytest.raises(AssertionError) as failure:
            backend.expect(backend.api.start(channel.id), 409)
        assert stream_key not in str(failure.value) and "sha256:" in str(failure.value)
        backend.target = replace(backend.target, emulator=None)
        with pytest.raises(NotApplicable, match="seen in LL-HLS only with a live publisher"):
            backend.expect_cues(channel, marker)
