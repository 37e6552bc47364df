"""`diagnose --playback STREAM`: a read-only LL-HLS watch added to the connection report."""

from __future__ import annotations

import json

from media_support import TOKEN

pytest_plugins = ["playback_fixtures"]


def test_diagnose_playback_adds_a_playback_section_with_numbers_to_every_report(run_cli, tmp_path, playback):
    llhls_base = playback.server.target_addresses()["llhls_base"]
    result = run_cli(
        "diagnose",
        "--api-url",
        playback.server.url,
        "--playback",
        "app/cam",  # APP/STREAM, as `load --stream` takes it; the bare name is the configured app's
        "--llhls-url",
        llhls_base,
        "--out",
        str(tmp_path / "out"),
        env={"OMH_API__TOKEN": TOKEN},
    )
    report = json.loads((tmp_path / "out" / "connection-report.json").read_text())
    section = next(r for r in report["results"] if r["id"] == "playback")
    # The emulator answers like real OME, quirk included (a far-ahead reload is never answered): a warning.
    assert section["status"] == "WARN", section
    assert section["facts"]["parts_ok"] >= 3 and section["facts"]["media"].startswith("h264 640x360 30 fps")
    assert "blocking_reload_p50_s" in section["facts"]
    assert "Playback (LL-HLS viewer)" in (tmp_path / "out" / "connection-report.md").read_text()
    assert TOKEN not in result.output and "session=" not in json.dumps(section)


def test_diagnose_playback_of_a_stream_not_live_fails_in_words(run_cli, tmp_path, playback):
    llhls_base = playback.server.target_addresses()["llhls_base"]
    result = run_cli("diagnose", "--api-url", playback.server.url, "--playback", "nosuch", "--llhls-url",
                     llhls_base, "--out", str(tmp_path / "out"), env={"OMH_API__TOKEN": TOKEN})
    report = json.loads((tmp_path / "out" / "connection-report.json").read_text())
    section = next(r for r in report["results"] if r["id"] == "playback")
    assert result.code == 1 and section["status"] == "ERROR"
    assert "nosuch: the LL-HLS master at /app/nosuch/llhls.m3u8 answered HTTP 404" in section["summary"]


def test_diagnose_playback_without_an_llhls_address_says_how_to_give_one(run_cli, tmp_path, playback):
    result = run_cli("diagnose", "--api-url", playback.server.url, "--playback", "cam",
                     "--out", str(tmp_path / "out"), env={"OMH_API__TOKEN": TOKEN})
    report = json.loads((tmp_path / "out" / "connection-report.json").read_text())
    section = next(r for r in report["results"] if r["id"] == "playback")
    assert result.code == 1 and "--llhls-url" in section["summary"]


def test_bad_playback_flags_are_one_line_and_exit_2(run_cli):
    bad_names = [run_cli("diagnose", "--emulator", "--playback", name)
                 for name in ("app/cam/x", "a b", "cam?x=1")]
    alone = run_cli("diagnose", "--emulator", "--llhls-url", "http://127.0.0.1:3333")
    for result in (*bad_names, alone):
        assert result.code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
