"""SIGINT/SIGTERM to `run` and `diagnose --launch`: nothing left behind, a report that says so, exit 128+N."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
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


def test_a_failure_of_pytest_s_own_interrupt_report_still_ends_as_interrupted(probe: LeftoverProbe) -> None:
    """pytest's terminal reporter can fail while describing the KeyboardInterrupt (a frame without a line
    number, Python 3.11: CI saw exit 3 "internal error: TypeError"); injected here, the run still exits 130
    with its interrupted report."""
    injected = str(Path(__file__).parent / "injected")
    proc = probe.start("run", "--target", "emulator", "--workers", "1", "-k", "connectivity",
                       PYTEST_PLUGINS="keyboard_interrupt_report_fails",
                       PYTHONPATH=os.pathsep.join(filter(None, [injected, os.environ.get("PYTHONPATH")])))
    _, stderr = proc.communicate(timeout=120)  # the run signals itself
    assert proc.returncode == 130, stderr[-3000:]
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr[-3000:]
    _assert_interrupted_report(probe, "results.json", signal.SIGINT)
    assert probe.leftovers() == []


def test_a_handled_interrupt_inside_an_eval_does_not_end_the_process_by_the_signal(tmp_path: Path) -> None:
    """CPython marks a KeyboardInterrupt that ended an eval() of a string as unhandled, and `python -m`
    then dies by SIGINT whatever its exit code (chaos: exit -2 after a report that said 130)."""
    injected = str(Path(__file__).parent / "injected")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [injected, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "stale_keyboard_interrupt", "--version"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("ome-harness "), (done.returncode, done.stderr)


SIGNAL_WHILE_LOADING = """
import os, signal, time
import ome_harness.cli as cli  # as the `ome-harness` script: its loading-time handlers are in place

class Field:  # a library's descriptor: the signal lands in __set_name__ while a module is imported
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)

class Column:
    cells = Field()

cli.main()
"""


def test_a_signal_while_the_cli_loads_ends_it_in_one_line_once_loaded(tmp_path: Path) -> None:
    """A signal while the CLI's modules load used to raise there: inside a class's __set_name__ Python turns
    that into a RuntimeError with a traceback (chaos, SIGTERM after 0.33 s)."""
    script = tmp_path / "ome-harness"
    script.write_text(SIGNAL_WHILE_LOADING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    done = subprocess.run([sys.executable, str(script), "--version"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines() == ["ome-harness: interrupted by SIGTERM before anything started"]
    assert done.stdout == ""
