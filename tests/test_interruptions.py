"""SIGINT/SIGTERM to `run` and `diagnose --launch`: nothing left behind, a report that says so, exit 128+N."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import docker
import pytest
from leftover_probe import LeftoverProbe, interrupt

from ome_harness.testing import require

pytest_plugins = ["container_fixtures"]

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@pytest.fixture
def probe(tmp_path: Path) -> LeftoverProbe:
    found = LeftoverProbe(tmp_path)
    yield found
    found.cleanup()


@pytest.fixture
def container_probe(tmp_path: Path, docker_engine: docker.DockerClient, standin_image: str) -> LeftoverProbe:
    found = LeftoverProbe(tmp_path, docker_engine)
    yield found
    found.cleanup()


def _ffmpeg_of(probe: LeftoverProbe) -> list[str]:
    # The test encoder (its test signal), not the short `ffmpeg -version`/`-protocols` probes a run makes.
    return [p for p in probe.processes() if "ffmpeg" in p and "testsrc2" in p]


def _assert_interrupted_report(probe: LeftoverProbe, name: str, signum: int) -> dict:
    data = probe.report(name)
    assert data["interrupted_by"] == signal.Signals(signum).name, data
    assert data["status"] == "ERROR" and data["exit_code"] == EXIT[signum], data
    assert data["issues"][0]["key"] == "interrupted"
    markdown_name = "test-report.md" if name == "results.json" else name.replace(".json", ".md")
    markdown = (probe.out / markdown_name).read_text(encoding="utf-8")
    assert f"INTERRUPTED by {signal.Signals(signum).name}" in markdown
    return data


@pytest.mark.docker
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_a_container_scenario_runs_removes_it_and_reports_the_interruption(
        container_probe: LeftoverProbe, standin_image: str, signum: int) -> None:
    proc = container_probe.start("run", "--target", "container", "--image", standin_image,
                                 "-k", "connectivity")
    container_probe.wait_for(container_probe.containers, proc)
    run = interrupt(proc, signum)
    assert run.code == EXIT[signum], run.stderr[-2000:]
    assert container_probe.leftovers() == []
    _assert_interrupted_report(container_probe, "results.json", signum)
    assert "interrupted; everything the run started was removed" in run.stderr


def test_ctrl_c_after_some_scenarios_passed_is_not_a_success(probe: LeftoverProbe) -> None:
    proc = probe.start("run", "--target", "emulator", "-v", "-m", "not media and not backend and not docker")
    assert proc.stdout is not None
    for line in proc.stdout:
        if "PASSED" in line:
            break
    run = interrupt(proc, signal.SIGINT)
    assert run.code == 130, run.stderr[-2000:]
    data = _assert_interrupted_report(probe, "results.json", signal.SIGINT)
    assert data["counts"]["OK"] >= 1, "the scenarios that finished are still listed"
    assert probe.leftovers() == []


def test_sigint_reaches_run_started_in_the_background_of_a_non_interactive_shell(
        probe: LeftoverProbe) -> None:
    # sh starts background jobs with SIGINT ignored; the harness takes it back explicitly.
    proc = probe.start("run", "--target", "emulator", "-v", "-m", "not media and not backend and not docker",
                       shell_background=True)
    assert proc.stdout is not None
    harness_pid = int(proc.stdout.readline())
    for line in proc.stdout:
        if "PASSED" in line:
            break
    run = interrupt(proc, signal.SIGINT, pid=harness_pid)
    assert run.code == 130, run.stderr[-2000:]
    _assert_interrupted_report(probe, "results.json", signal.SIGINT)
    assert probe.leftovers() == []


@pytest.mark.media
def test_sigterm_while_ffmpeg_publishes_stops_it_and_removes_the_backends_database(
        probe: LeftoverProbe) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg")
    proc = probe.start("run", "--target", "emulator", "-k", "handed and appear")
    probe.wait_for(lambda: _ffmpeg_of(probe), proc)
    assert list(probe.tmpdir.glob("omh-backend-*")), "the reference backend keeps its database in TMPDIR"
    run = interrupt(proc, signal.SIGTERM)
    assert run.code == 143, run.stderr[-2000:]
    assert probe.leftovers() == []
    _assert_interrupted_report(probe, "results.json", signal.SIGTERM)


@pytest.mark.docker
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_diagnose_launch_removes_the_container_and_says_so_in_the_report(
        container_probe: LeftoverProbe, standin_image: str, api_off_template: Path, signum: int) -> None:
    # Without its API the container never gets ready: the signal surely lands while diagnose waits.
    proc = container_probe.start("diagnose", "--launch", "--image", standin_image,
                                 OMH_CONTAINER__SERVER_XML_TEMPLATE=str(api_off_template),
                                 OMH_CONTAINER__READY_TIMEOUT="60")
    container_probe.wait_for(container_probe.containers, proc)
    run = interrupt(proc, signum)
    assert run.code == EXIT[signum], run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert container_probe.leftovers() == []
    _assert_interrupted_report(container_probe, "connection-report.json", signum)
