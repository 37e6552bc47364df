"""Whatever ends a run — Ctrl-C, SIGTERM, a crash, --detach — no container outlives it unnoticed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import httpx
import pytest

from ome_harness.container import labels as lbl
from ome_harness.redaction import MASK
from ome_harness.scenarios.container_launch import TOKEN_IN_OME_LOG

pytest_plugins = ["container_fixtures"]
pytestmark = [pytest.mark.docker, pytest.mark.container]


def _env(test_id: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"OMH_CONTAINER__LABELS": json.dumps({"ome-harness-test.id": test_id}),
           "OMH_REPORT__OUT": str(tmp_path / "reports")}
    env.update(extra)
    return env


def _wait_for_container(test_containers, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not test_containers():
        assert time.monotonic() < end, "ome-harness up never created its container"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_start_up_leaves_no_container(cli_process, standin_image: str, test_id: str, tmp_path: Path,
                                                      test_containers, api_off_template: Path, signum: int,
                                                      exit_code: int) -> None:
    # A config without the API never gets ready, so the signal surely lands mid-start.
    env = _env(test_id, tmp_path, OMH_CONTAINER__SERVER_XML_TEMPLATE=str(api_off_template))
    up = cli_process("up", "--image", standin_image, "--ready-timeout", "60", env=env)
    _wait_for_container(test_containers)
    up.proc.send_signal(signum)
    code, stderr = up.finish()
    assert code == exit_code, stderr
    assert "interrupted while starting; the container was removed" in stderr
    assert "Traceback" not in stderr
    assert test_containers() == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_running_stops_and_removes_the_container_and_keeps_its_log(
        cli_process, standin_image: str, test_id: str, tmp_path: Path, test_containers, signum: int) -> None:
    up = cli_process("up", "--image", standin_image, env=_env(test_id, tmp_path, OMH_CONTAINER__TOKEN=TOKEN_IN_OME_LOG))
    api = up.wait_for_line("  API ").split()[-1]
    assert "(the one you gave)" in up.wait_for_line("  token ")  # a token the user gave is not echoed
    token = TOKEN_IN_OME_LOG
    assert len(test_containers()) == 1
    assert httpx.get(f"{api}/v1/version", auth=None, headers={"Authorization": _basic(token)}, timeout=5).status_code == 200
    up.proc.send_signal(signum)
    code, stderr = up.finish()
    assert code == 0, stderr
    assert test_containers() == []
    (log,) = (tmp_path / "reports" / "containers").glob("ome-harness-*.log")
    assert f"removed {log.stem}; log kept in" in stderr
    assert token not in log.read_text() and MASK in log.read_text()


def test_a_killed_launcher_leaves_a_leftover_that_down_removes(cli_process, run_cli, standin_image: str, test_id: str,
                                                               tmp_path: Path, test_containers) -> None:
    # SIGKILL cannot be caught: this is the case `down` exists for.
    up = cli_process("up", "--image", standin_image, env=_env(test_id, tmp_path, OMH_CONTAINER__TOKEN=TOKEN_IN_OME_LOG))
    up.wait_for_line("  API ")
    up.proc.kill()
    up.finish()
    (leftover,) = test_containers()
    result = run_cli("down", env={"OMH_REPORT__OUT": str(tmp_path / "reports")})
    assert result.code == 0, result.output
    assert f"removed {leftover.name}" in result.stdout
    assert test_containers() == []
    saved = (tmp_path / "reports" / "containers" / f"{leftover.name}.log").read_text()
    assert TOKEN_IN_OME_LOG not in saved and MASK in saved, saved


def test_down_removes_labelled_leftovers_and_nothing_else(run_cli, docker_engine: docker.DockerClient,
                                                          standin_image: str, test_id: str, tmp_path: Path,
                                                          test_containers) -> None:
    detached = run_cli("up", "--image", standin_image, "--detach", env=_env(test_id, tmp_path))
    assert detached.code == 0, detached.output
    assert "Left running. Remove it with: ome-harness down" in detached.stdout
    leftover_name = re.search(r"container (ome-harness-\w+)", detached.stdout).group(1)
    # Neighbours that must survive: no labels at all, another owner's label, and a run still in progress.
    keep = {
        "unlabelled": {},
        "foreign": {lbl.OWNER_LABEL: "someone-else"},
        "live": {lbl.OWNER_LABEL: lbl.OWNER, lbl.RUN_ID_LABEL: "live", lbl.LAUNCHER_LABEL: lbl.launcher_identity()},
    }
    survivors = {kind: docker_engine.containers.run(standin_image, detach=True, labels=labels,
                                                    name=f"omh-test-{kind}-{test_id}")
                 for kind, labels in keep.items()}
    try:
        result = run_cli("down", env={"OMH_REPORT__OUT": str(tmp_path / "reports")})
        assert result.code == 0, result.output
        assert f"removed {leftover_name} (run " in result.stdout
        assert f"omh-test-live-{test_id}" in result.stdout and "--all removes them too" in result.stdout
        assert test_containers() == []
        for kind, container in survivors.items():
            container.reload()
            assert container.status == "running", f"down touched the {kind} container"
        assert (tmp_path / "reports" / "containers" / f"{leftover_name}.log").is_file()
        again = run_cli("down", env={"OMH_REPORT__OUT": str(tmp_path / "reports")})
        assert again.code == 0 and "nothing to remove" in again.stdout
    finally:
        for container in survivors.values():
            container.remove(force=True)


def test_logs_prints_the_log_of_a_running_container(run_cli, cli_process, standin_image: str, test_id: str,
                                                    tmp_path: Path) -> None:
    up = cli_process("up", "--image", standin_image, env=_env(test_id, tmp_path, OMH_CONTAINER__TOKEN=TOKEN_IN_OME_LOG))
    name = re.search(r"container (ome-harness-\w+)", up.wait_for_line("OME is ready")).group(1)
    assert "(the one you gave)" in up.wait_for_line("  token ")
    token = TOKEN_IN_OME_LOG
    result = run_cli("logs", name)
    assert result.code == 0, result.output
    assert f"{MASK} stand-in" in result.stdout and token not in result.stdout
    # Another TMPDIR hides the rendered copy here: the token is read from the container's own config.
    elsewhere = run_cli("logs", name, env={"TMPDIR": str(tmp_path)})
    assert elsewhere.code == 0 and f"{MASK} stand-in" in elsewhere.stdout and token not in elsewhere.stdout
    up.proc.send_signal(signal.SIGINT)
    assert up.finish()[0] == 0
    missing = run_cli("logs", name)
    assert missing.code == 2 and f"no container launched by ome-harness matches '{name}'" in missing.stderr


def test_sigint_is_honoured_even_when_inherited_as_ignored(standin_image: str, test_id: str, tmp_path: Path,
                                                           test_containers) -> None:
    # Background jobs of non-interactive shells start with SIGINT ignored; `up` still promises Ctrl-C works.
    env = _env(test_id, tmp_path)
    script = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "from ome_harness.cli import main; sys.argv = ['ome-harness', *sys.argv[1:]]; main()")
    proc = subprocess.Popen([sys.executable, "-c", script, "up", "--image", standin_image],
                            env={**os.environ, **env}, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "  API " in line:
                break
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert test_containers() == []


def _basic(token: str) -> str:
    from ome_harness.ome.client import auth_header

    return auth_header(token)


def test_sigterm_to_a_program_using_the_library_removes_its_container(standin_image: str, test_id: str,
                                                                      tmp_path: Path, test_containers) -> None:
    # Python's default SIGTERM kills without running `finally`; container_target must unwind instead.
    script = (
        "import json, sys, time\n"
        "from ome_harness.config import HarnessConfig\n"
        "from ome_harness.target.container import container_target\n"
        "cfg = HarnessConfig(**json.loads(sys.argv[1]))\n"
        "with container_target(cfg):\n"
        "    print('READY', flush=True)\n"
        "    time.sleep(120)\n")
    cfg = {"container": {"image": standin_image, "labels": {"ome-harness-test.id": test_id}},
           "report": {"out": str(tmp_path / "reports")}}
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY", proc.stderr.read()
        assert len(test_containers()) == 1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert test_containers() == []


def test_up_reports_a_container_that_stops_by_itself_and_removes_it(cli_process, docker_engine: docker.DockerClient,
                                                                    standin_image: str, test_id: str, tmp_path: Path,
                                                                    test_containers) -> None:
    up = cli_process("up", "--image", standin_image, env=_env(test_id, tmp_path))
    up.wait_for_line("  API ")
    (container,) = test_containers()
    container.kill()  # what an out-of-memory kill or a crash looks like from outside
    code, stderr = up.finish()
    assert code == 1, stderr
    assert f"container {container.name} stopped with exit code 137" in stderr
    assert test_containers() == []
