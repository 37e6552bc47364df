"""`diagnose --playback STREAM --browser`: a viewer's browser in the connection report, with a screenshot."""

from __future__ import annotations

import json

import pytest
from media_support import TOKEN

from ome_harness.playback.browser import NEEDS, missing_prerequisites
from ome_harness.testing import require

pytest_plugins = ["playback_fixtures"]
pytestmark = pytest.mark.xdist_group("browser")


def _diagnose(run_cli, playback, out, stream="app/cam"):
    llhls_base = playback.server.target_addresses()["llhls_base"]
    result = run_cli("diagnose", "--api-url", playback.server.url, "--playback", stream, "--llhls-url",
                     llhls_base, "--browser", "--out", str(out), env={"OMH_API__TOKEN": TOKEN})
    report = json.loads((out / "connection-report.json").read_text())
    return result, next(r for r in report["results"] if r["id"] == "browser")


def test_diagnose_browser_reports_the_first_frame_and_shows_a_screenshot(run_cli, tmp_path, playback):
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")
    result, section = _diagnose(run_cli, playback, tmp_path / "out")
    assert section["status"] == "OK", section
    assert section["facts"]["llhls_first_frame_s"] < 15 and section["facts"]["llhls_problems"] == []
    assert "first frame" in section["summary"] and TOKEN not in result.output
    html = (tmp_path / "out" / "connection-report.html").read_text()
    assert "data:image/jpeg;base64," in html and "first frame" in html
    assert "Playback in a viewer's browser" in (tmp_path / "out" / "connection-report.md").read_text()


def test_a_broken_cors_header_is_the_browser_sections_error(run_cli, tmp_path, playback):
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")
    playback.server.llhls.faults.cors_allow_origin = "https://somewhere-else.example"
    result, section = _diagnose(run_cli, playback, tmp_path / "out")
    assert result.code == 1 and section["status"] == "ERROR", section
    assert "OvenPlayer error 302" in section["summary"]
    assert not (tmp_path / "out" / "connection-report.html").exists()  # nothing played: no screenshot


def test_browser_without_playback_or_without_the_players_is_one_line_and_exit_2(run_cli, tmp_path):
    alone = run_cli("diagnose", "--emulator", "--browser")
    unprovisioned = run_cli("diagnose", "--emulator", "--playback", "cam", "--browser",
                            env={"OMH_PLAYERS_DIR": str(tmp_path)})
    for result in (alone, unprovisioned):
        assert result.code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
    assert "give --playback STREAM too" in alone.stderr
    assert "npm ci" in unprovisioned.stderr and "hls.js" in unprovisioned.stderr
