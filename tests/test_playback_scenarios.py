"""The @playback scenarios: they pass on a healthy emulator, say why WebRTC is skipped, and can fail."""

from __future__ import annotations

import json

import pytest

from ome_harness.playback.check import ExpectedMedia, watch_llhls
from ome_harness.playback.media_truth import wall_clock_of
from ome_harness.playback.scenario_support import (
    expect_clean_playback,
    expect_latency_under,
    expect_media_truth,
)

pytest_plugins = ["playback_fixtures"]


def test_the_playback_scenarios_pass_on_the_emulator_and_webrtc_is_skipped_with_its_reason(run_cli, tmp_path):
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-m", "playback",
                  "--allow-mutating")
    assert run.code == 0, run.output
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    status = {r["scenario"]["scenario"]: r["status"] for r in data["results"] if r["kind"] == "scenario"}
    assert status == {
        "A viewer plays the stream over LL-HLS": "OK",
        "Live latency stays under the limit": "OK",
        "A viewer plays the stream over WebRTC": "SKIP",
    }, status
    assert "the emulator has no WebRTC" in (tmp_path / "out" / "test-report.md").read_text()


def test_the_latency_step_fails_with_the_numbers_and_the_method(playback):
    outcome = watch_llhls(playback.master_url, window_s=1.5, probe_far_ahead=False,
                          encoder_start_wall=wall_clock_of(playback.encoder.started_at))
    with pytest.raises(AssertionError, match=r"live edge latency p50 .* \(encoder media clock.*limit 0.01 s"):
        expect_latency_under(outcome, 0.01)


def test_the_playback_steps_fail_on_missing_parts_and_on_the_wrong_size(playback):
    playback.server.llhls.faults.parts_missing = True
    broken = watch_llhls(playback.master_url, window_s=1.2, probe_far_ahead=False)
    with pytest.raises(AssertionError, match=r"media-fetch: a part answered 404 — `GET /app/cam/part_"):
        expect_clean_playback(broken)
    playback.server.llhls.faults.parts_missing = False
    wrong = watch_llhls(playback.master_url, window_s=1.2, probe_far_ahead=False,
                        expected=ExpectedMedia(width=320, height=180))
    with pytest.raises(AssertionError, match="640x360, the encoder sent 320x180"):
        expect_media_truth(wrong)
