"""Launch failures are reported with what the container left behind, and nothing is left running."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from ome_samples import SAMPLES

from ome_harness.config import HarnessConfig
from ome_harness.container.errors import (
    ContainerError,
    ContainerExited,
    ContainerNotReady,
    EngineUnavailable,
    ImageUnavailable,
)
from ome_harness.container.log_text import complaints, plain
from ome_harness.target.container import container_target
from ome_harness.testing import require

pytest_plugins = ["container_fixtures"]


def test_omes_reason_is_found_in_a_real_omes_coloured_log() -> None:
    sample = SAMPLES / "v0.20.0-media" / "empty_token_container_log.txt"
    require(sample.is_file(), f"needs the captured real-OME log {sample}")
    # The capture was stored without colours; colour it the way a terminal log arrives.
    coloured = "".join(f"\x1b[31m\x1b[1m{line}\x1b[m\n" for line in sample.read_text().splitlines())
    found = complaints(plain(coloured.encode()), limit=1)
    assert found == [next(line for line in sample.read_text().splitlines()
                          if line.endswith("Empty <AccessToken> is not allowed"))]
    assert "\x1b[" not in plain(coloured)


@pytest.mark.docker
def test_a_container_exiting_with_code_0_before_ready_is_a_failed_start_quoting_omes_reason(
        container_cfg: HarnessConfig, test_containers, tmp_path: Path) -> None:
    # A real OME refuses an empty <AccessToken>, releases every module (~90 more log lines) and exits 0
    # (../shared/samples/v0.20.0-media/empty_token_container_*.txt); the stand-in does the same.
    container_cfg.container.token = ""
    with pytest.raises(ContainerExited) as caught, container_target(container_cfg):
        pytest.fail("an empty token must not give a ready container")
    error = caught.value
    assert error.exit_code == 0
    assert "exited with code 0" in str(error)
    # The reason is older than the last log_tail lines: it is found in the whole log and quoted.
    assert "Empty <AccessToken> is not allowed" not in error.log_tail
    assert [line for line in error.complaints if line.endswith("Empty <AccessToken> is not allowed")]
    assert "OME logged: `[" in str(error) and "Empty <AccessToken> is not allowed" in str(error)
    assert "\x1b[" not in str(error), "terminal colour codes leaked into the error"
    assert error.log_path and Path(error.log_path).parent == tmp_path / "reports" / "containers"
    saved = Path(error.log_path).read_text(encoding="utf-8")
    assert "Empty <AccessToken> is not allowed" in saved and "\x1b[" not in saved
    assert test_containers() == []


@pytest.mark.docker
def test_a_passing_deadline_is_reported_and_the_container_is_still_removed(
        container_cfg: HarnessConfig, test_containers, api_off_template: Path) -> None:
    container_cfg.container.server_xml_template = api_off_template
    # Long enough for the stand-in to read its config and say so on a loaded machine (2.5 s was not).
    container_cfg.container.ready_timeout = 5
    with pytest.raises(ContainerNotReady) as caught, container_target(container_cfg):
        pytest.fail("a config without the API must never be ready")
    message = str(caught.value)
    assert "still running but not ready after 5s" in message
    assert "wait strategy api-answers-authenticated" in message and "/v1/version" in message
    assert "last seen:" in message
    assert "API Server is disabled" in caught.value.log_tail
    assert test_containers() == []


@pytest.mark.docker
def test_a_missing_image_with_pulling_off_is_named(container_cfg: HarnessConfig, test_containers) -> None:
    container_cfg.container.image = "ome-harness/never-built:0"
    container_cfg.container.pull = False
    with pytest.raises(ImageUnavailable, match=r"ome-harness/never-built:0 is not on the Docker engine"), \
            container_target(container_cfg):
        pass
    assert test_containers() == []


@pytest.mark.docker
def test_a_failed_pull_is_one_error_naming_the_image(container_cfg: HarnessConfig) -> None:
    # No registry is reachable here; with one, this repository does not exist: both must read the same way.
    container_cfg.container.image = "ome-harness-test/never-published:0"
    container_cfg.container.pull_timeout = 120
    with pytest.raises(ImageUnavailable) as caught, container_target(container_cfg):
        pass
    assert str(caught.value).startswith("Could not pull image ome-harness-test/never-published:0: ")
    assert "--image" in str(caught.value)


def test_no_docker_engine_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    cfg = HarnessConfig(container={"image": "ome-harness/any:0"}, report={"out": str(tmp_path)})
    with pytest.raises(EngineUnavailable) as caught, container_target(cfg):
        pass
    assert str(caught.value).startswith(f"No Docker engine answers at unix://{tmp_path}/no-engine.sock (no such socket).")


def test_no_docker_engine_on_the_command_line_is_one_line_and_exit_code_2(run_cli, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    for args in (["up"], ["down"], ["logs"]):
        result = run_cli(*args, env=env)
        assert result.code == 2, result.output
        assert result.stderr.count("\n") == 1 and "No Docker engine answers" in result.stderr, result.stderr
        assert "Traceback" not in result.output


@pytest.mark.docker
def test_up_reports_a_dying_container_without_a_traceback(run_cli, standin_image: str) -> None:
    result = run_cli("up", "--image", standin_image, "--token", "")
    assert result.code == 2
    assert "exited with code 0" in result.stderr and "Empty <AccessToken> is not allowed" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.docker
def test_a_fixed_host_port_that_is_taken_is_reported_and_the_created_container_removed(
        container_cfg: HarnessConfig, test_containers) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        container_cfg.container.host_ports = {"api": port}
        with pytest.raises(ContainerError, match="could not start a container from"), container_target(container_cfg):
            pass
    assert test_containers() == [], "the engine created the container before the port clash: it must go too"


@pytest.mark.docker
def test_a_fixed_host_port_is_used(container_cfg: HarnessConfig) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    container_cfg.container.host_ports = {"api": port}
    with container_target(container_cfg) as target:
        assert target.api_url == f"http://127.0.0.1:{port}"
        assert target.client().version()
