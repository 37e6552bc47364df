"""LL-HLS conformance rules: the real OME captures pass; each broken rule is named with its line."""

from __future__ import annotations

import pytest
from ome_samples import SAMPLES, load, require_samples

from ome_harness.playback.conformance import (
    check_master,
    check_media_playlist,
    check_viewing,
    probe_far_ahead_reload,
)
from ome_harness.playback.llhls_viewer import LlhlsViewer

pytest_plugins = ["playback_fixtures"]

CHUNKLISTS = ["llhls_video_chunklist.m3u8.http", "llhls_blocking_reload.m3u8.http"]


def _capture(version: str, name: str) -> str:
    require_samples()
    return load(SAMPLES / f"v{version}-media" / "playback" / name).text


@pytest.mark.parametrize("version", ["0.20.0", "0.21.0"])
@pytest.mark.parametrize("name", CHUNKLISTS)
def test_real_omes_captured_chunklists_break_no_static_rule(version, name):
    assert check_media_playlist(_capture(version, name)) == []


@pytest.mark.parametrize("version", ["0.20.0", "0.21.0"])
def test_real_omes_captured_master_breaks_no_rule(version):
    assert check_master(_capture(version, "llhls_master.m3u8.http")) == []


def test_real_omes_segment_split_by_a_cue_breaks_no_rule():
    require_samples()
    cut = next((SAMPLES / "v0.20.0-media").glob("cue_10s_*chunklist*"), None)
    assert cut is not None, "the v0.20.0 cue_10s chunklist capture"
    text = cut.read_text()
    assert check_media_playlist(text[text.index("#EXTM3U"):]) == []


def _broken(replace: str, by: str) -> str:
    text = _capture("0.21.0", "llhls_video_chunklist.m3u8.http")
    assert replace in text
    return text.replace(replace, by, 1)


@pytest.mark.parametrize(
    ("replace", "by", "rule", "line"),
    [
        ("#EXT-X-TARGETDURATION:6", "#EXT-X-TARGETDURATION:4", "target-duration", "#EXTINF:6.000000,"),
        ("#EXT-X-VERSION:6", "#EXT-X-VERSION:3", "version", "#EXT-X-VERSION:3"),
        (
            "PART-TARGET=0.500000",
            "PART-TARGET=0.400000",
            "part-target",
            '#EXT-X-PART:DURATION=0.500000,URI="part_0_3_0_video_7930408358254892257_llhls.m4s",INDEPENDENT=YES',
        ),
        (
            "PART-HOLD-BACK=1.533000",
            "PART-HOLD-BACK=1.000000",
            "part-hold-back",
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.000000",
        ),
        ("CAN-BLOCK-RELOAD=YES,", "", "can-block-reload", "#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=1.533000"),
        (
            '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_5_6_video_7930408358254892257_llhls.m4s"',
            "",
            "preload-hint",
            "#EXT-X-PART-INF:PART-TARGET=0.500000",
        ),
        (
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T23:43:52.541+00:00",
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T23:43:30.541+00:00",
            "program-date-time",
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T23:43:30.541+00:00",
        ),
    ],
)
def test_each_broken_rule_is_named_with_the_offending_line(replace, by, rule, line):
    findings = check_media_playlist(_broken(replace, by))
    assert [(f.rule, f.line) for f in findings][:1] == [(rule, line)], findings


def test_a_viewer_of_the_emulator_earns_no_finding(playback):
    with LlhlsViewer(playback.master_url) as viewer:
        viewer.watch(2.5)
        assert check_viewing(viewer) == []


def test_a_wrong_target_duration_served_live_is_caught(playback):
    playback.server.llhls.faults.target_duration = 1
    with LlhlsViewer(playback.master_url) as viewer:
        viewer.watch(1.0)
        rules = {f.rule for f in check_viewing(viewer)}
    assert "target-duration" in rules


def test_a_hanging_blocking_reload_is_a_named_finding(playback):
    playback.server.llhls.faults.hang_blocking_reloads = True
    with LlhlsViewer(playback.master_url, reload_deadline_s=0.6) as viewer:
        viewer.open()
        viewer.step()
        findings = check_viewing(viewer)
    assert [f.rule for f in findings] == ["blocking-reload"]
    assert "_HLS_msn=" in findings[0].line and "session" not in findings[0].line


def test_a_reload_asked_far_ahead_is_not_answered_as_by_real_ome(playback):
    # Real OME holds it with no answer (llhls_blocking_reload_far_future.txt); the emulator does the same.
    with LlhlsViewer(playback.master_url) as viewer:
        viewer.open()
        findings = probe_far_ahead_reload(viewer, deadline_s=0.8)
    assert [f.rule for f in findings] == ["blocking-reload-far-ahead"]


def test_a_blocking_reload_answered_without_the_part_is_named_and_the_viewer_does_not_spin(playback):
    playback.server.llhls.faults.reloads_not_held = True
    with LlhlsViewer(playback.master_url) as viewer:
        events = viewer.watch(1.5)
        findings = check_viewing(viewer)
    assert findings and {f.rule for f in findings} == {"blocking-reload"}
    assert "without that part (not held)" in findings[0].message
    # Paced at about one part target per reload, not hundreds.
    assert len([e for e in events if e.kind == "blocking_reload"]) <= 8


def test_a_finding_never_quotes_a_session_token_from_a_uri():
    from ome_harness.playback.conformance import PlaylistFinding

    finding = PlaylistFinding(
        "part-target", "too long", '#EXT-X-PART:DURATION=0.9,URI="p.m4s?session=12_ab&x=1"'
    )
    assert "12_ab" not in str(finding) and 'URI="p.m4s?session=…&x=…"' in finding.line
    reload_line = PlaylistFinding(
        "blocking-reload", "hung", "GET /a/b.m3u8?s=9_x&_HLS_msn=3&_HLS_part=1"
    ).line
    assert reload_line == "GET /a/b.m3u8?s=…&_HLS_msn=3&_HLS_part=1"
