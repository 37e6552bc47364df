"""`ome-harness load`: real Locust processes against the emulator on loopback, with a live ffmpeg stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import pytest

from ome_harness.load.session import run_load
from ome_harness.load.settings import LoadSettings, Thresholds
from ome_harness.polling import Ready, poll_until

pytest_plugins = ["media_fixtures", "load_fixtures"]

if TYPE_CHECKING:
    from load_fixtures import LiveEmulator


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text` (a run's own folder: never another engineer's process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def settings(**changes: object) -> LoadSettings:
    base = {"stream": "app/stream", "viewers": 5, "spawn_rate": 5.0, "duration_s": 10}
    return LoadSettings(**{**base, **changes})  # type: ignore[arg-type]


def test_healthy_viewers_on_a_master_and_two_workers_pass_and_ome_counts_them(
        live_emulator: LiveEmulator, tmp_path: Path) -> None:
    outcome = run_load(live_emulator.target, settings(workers=2), tmp_path)
    result = outcome.result
    assert outcome.verdict.passed, outcome.verdict.reasons
    assert outcome.exit_code == 0
    assert result.kinds["part"].requests > 5 * 8, "each viewer fetches about two 0.5 s parts a second"
    # The workers' own counts reach the master: every part fetched was accounted for stalls.
    assert result.viewer_counts["parts"] == result.kinds["part"].requests
    assert result.viewer_counts["viewers_started"] == 5
    # Each viewer's first master and media playlist (a young stream may answer 404/201 or hold them first).
    assert result.kinds["segment"].requests >= 5 and result.kinds["first_playlist"].requests >= 10
    assert result.kinds["first_playlist"].failures == 0
    firsts = result.first_summary()
    assert [firsts[f"time_to_first_{n}_s"]["viewers"] for n in ("playlist", "part")] == [5, 5], firsts
    assert "Time to first part: median" in (tmp_path / "load-report.md").read_text()
    assert result.peak_viewers == 5
    # Never a tight loop: the emulator answers reloads at once, the viewer waits half a part target.
    assert result.kinds["blocking_reload"].requests < 5 * 10 * 6
    assert any(ome == 5 for _at, _run, ome in result.ome_vs_run()), result.ome_vs_run()
    for name in ("load-report.md", "load.json", "load-chart.svg", "locust.html", "locust_stats.csv",
                 "locust_stats_history.csv", "locust_failures.csv"):
        assert (tmp_path / name).is_file(), name
    chart = ElementTree.parse(tmp_path / "load-chart.svg").getroot()
    paths = [p.get("d") for p in chart.iter("{http://www.w3.org/2000/svg}path")]
    assert len(paths) == 3 and all(paths), "viewers, p95 and failures/s are drawn"
    assert not processes_mentioning(str(tmp_path)), "a Locust process outlived the run"


def test_a_server_answering_503_halfway_fails_the_run_on_its_error_rate(
        live_emulator: LiveEmulator, tmp_path: Path) -> None:
    live_emulator.server.llhls.faults.unavailable_from = time.monotonic() + 5
    outcome = run_load(live_emulator.target, settings(), tmp_path)
    assert not outcome.verdict.passed
    assert outcome.exit_code == 1
    assert outcome.result.errors.get("HTTP 503", 0) > 0, outcome.result.errors
    assert set(outcome.result.errors) == {"HTTP 503"}, outcome.result.errors
    reasons = " ".join(outcome.verdict.reasons)
    assert "error rate" in reasons and "HTTP 503" in reasons and "stall" not in reasons
    report = (tmp_path / "load-report.md").read_text()
    assert "[FAIL]" in report and "- HTTP 503:" in report
    assert json.loads((tmp_path / "load.json").read_text())["status"] == "FAIL"


def test_slow_part_delivery_fails_the_run_on_stalls(live_emulator: LiveEmulator, tmp_path: Path) -> None:
    # Parts of 0.5 s answered 1.2 s late: the viewer falls behind real time.
    live_emulator.server.llhls.faults.part_delay_s = 1.2
    outcome = run_load(live_emulator.target, settings(thresholds=Thresholds(max_p95_ms=1000)), tmp_path)
    result = outcome.result
    assert not outcome.verdict.passed
    assert result.viewer_counts["stalls"] > 0 and result.stall_rate > 0.05
    reasons = " ".join(outcome.verdict.reasons)
    assert "stall rate" in reasons and "part p95" in reasons and "error rate" not in reasons
    assert not result.errors


def test_the_cli_loads_its_own_emulator_and_writes_the_report(run_cli, tmp_path: Path, ffmpeg: str,
                                                              locust_installed: None) -> None:
    shown = run_cli("load", "--emulator", "--stream", "app/stream", "--viewers", "3", "--spawn-rate", "3",
                    "--duration", "6s", "--out", "out", timeout=90)
    assert shown.code == 0, shown.output
    report = (tmp_path / "out" / "load-report.md").read_text()
    assert "[PASS]" in report and "not a real OvenMediaEngine" in report
    assert "one local Locust process" in report


def test_sigterm_stops_every_locust_process_and_still_writes_the_report(
        live_emulator: LiveEmulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # A password in the LL-HLS address (a protected edge): Locust sees it, no file of the run keeps it.
    llhls_with_password = (live_emulator.target.llhls_base or "").replace("http://", "http://viewer:s3cret-pw@")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    env["OMH_API__TOKEN"] = live_emulator.target.token or ""
    harness = subprocess.Popen(
        [sys.executable, "-m", "ome_harness", "load", "--api-url", live_emulator.target.api_url,
         "--llhls-url", llhls_with_password, "--allow-load", "--stream", "app/stream",
         "--viewers", "4", "--spawn-rate", "4", "--duration", "60s", "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        with live_emulator.target.client() as client:
            def playing() -> Ready[bool] | str:
                viewers = client.stats("default", "app", "stream").connections.get("llhls", 0)
                return Ready(True) if viewers >= 4 else f"{viewers} LL-HLS viewers"

            poll_until(playing, deadline_s=45, what="four viewers playing", interval_s=0.5)
        time.sleep(4)  # past one worker report interval (3 s): the master has figures to keep
        assert len(processes_mentioning(str(out))) >= 3, "a master and two workers"
        harness.send_signal(signal.SIGTERM)
        stdout, stderr = harness.communicate(timeout=40)
    finally:
        if harness.poll() is None:
            harness.kill()
    assert harness.returncode == 143, stderr  # 128 + SIGTERM
    assert not processes_mentioning(str(out)), "a Locust process outlived the run"
    assert (out / "load-report.md").is_file() and "stopped early by SIGTERM" in (
        out / "load-report.md"
    ).read_text()
    assert (out / "locust.html").is_file()
    leaks = [p.name for p in out.iterdir() if p.is_file() and "s3cret-pw" in p.read_text(errors="replace")]
    assert not leaks and "s3cret-pw" not in stdout + stderr, leaks
    # The workers' last reports reached the master before it wrote the figures.
    assert json.loads((out / "load.json").read_text())["result"]["kinds"]["part"]["requests"] > 0


@pytest.mark.parametrize(("args", "words"), [
    (["--viewers", "0"], "--viewers 0: give 1 to 1000"),
    (["--viewers", "5000"], "--viewers 5000"),
    (["--duration", "2h"], "--duration 7200s"),
    (["--duration", "soon"], "--duration 'soon'"),
    (["--workers", "3", "--viewers", "2"], "--workers 3 is more than --viewers 2"),
    (["--stream", "app/a/b"], "give APP/STREAM"),
    (["--stream", "a b"], "give APP/STREAM"),
    (["--max-error-rate", "5"], "--max-error-rate 5: give a share from 0 to 1"),
    (["--max-p95-ms", "0"], "--max-p95-ms 0"),
])
def test_out_of_bounds_settings_are_refused_in_one_line(run_cli, args: list[str], words: str) -> None:
    base = {"--stream": "app/stream"}
    flat = [x for k, v in base.items() if k not in args for x in (k, v)]
    shown = run_cli("load", "--emulator", *flat, *args)
    assert shown.code == 2
    assert words in shown.stderr and len(shown.stderr.strip().splitlines()) == 1, shown.stderr


def test_a_target_the_harness_did_not_launch_needs_allow_load(run_cli, tmp_path: Path) -> None:
    # The refusal names the target: without the password of its URL (it printed it, found by the CLI audit).
    shown = run_cli("load", "--api-url", "http://admin:Load-Pw-3c7d@127.0.0.1:9", "--llhls-url",
                    "http://127.0.0.1:9", "--stream", "app/stream", "--out", "out")
    assert shown.code == 2
    assert "--allow-load" in shown.stderr and len(shown.stderr.strip().splitlines()) == 1
    assert "http://********@127.0.0.1:9" in shown.stderr and "Load-Pw-3c7d" not in shown.output
    assert not (tmp_path / "out" / "load-report.md").exists()


def test_a_bare_stream_name_is_a_stream_of_the_configured_app(run_cli) -> None:
    # `load --stream` and `diagnose --playback` take the same names: APP/STREAM, or STREAM in api.app.
    shown = run_cli("load", "--api-url", "http://127.0.0.1:9", "--llhls-url", "http://127.0.0.1:9",
                    "--stream", "cam", env={"OMH_API__APP": "live"})
    assert shown.code == 2 and "viewers of live/cam for" in shown.stderr, shown.stderr
