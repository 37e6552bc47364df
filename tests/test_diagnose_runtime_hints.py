"""Next steps fit how OME runs here, whatever its image is called (real Docker engine, real processes):
a stopped OME container → `docker start`; a running one whose API is disabled → "enable the API",
even when Docker's proxy accepts and resets the published port; an OME process listening elsewhere →
not "start OME"; a launched-and-removed container → no command points at its old address."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from ome_samples import TOKEN

from ome_harness.checks.diagnosis import diagnose
from ome_harness.config import HarnessConfig
from ome_harness.polling import Ready, poll_until
from ome_harness.results import Report
from ome_harness.target import OmeTarget
from ome_harness.target.container import container_target

pytest_plugins = ["container_fixtures"]
OME_BINARY = "/opt/ovenmediaengine/bin/OvenMediaEngine"


@pytest.fixture
def make_container(docker_engine: docker.DockerClient, standin_image: str) -> Iterator[Callable]:
    """Containers of the stand-in image (whose name says nothing of OvenMediaEngine), removed afterwards."""
    made = []

    def make(name_prefix: str, *, start: bool = False, **options):  # noqa: ANN202
        name = f"{name_prefix}-{uuid.uuid4().hex[:8]}"
        container = docker_engine.containers.create(standin_image, name=name,
                                                    labels={"ome-harness-test.id": name}, **options)
        made.append(container)
        if start:
            container.start()
        return container

    yield make
    for container in made:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def _diagnose(port: int, host: str = "localhost") -> Report:
    return diagnose(OmeTarget(kind="url", api_url=f"http://{host}:{port}", token=TOKEN, connect_timeout=1,
                              read_timeout=1))


def _commands(report: Report) -> list[str]:
    return [c for step in report.next_steps for c in step.commands]


def _details(report: Report) -> str:
    return " ".join(d for step in report.next_steps for d in step.details)


def test_stopped_ome_container_gets_docker_start(make_container, closed_port: int) -> None:
    container = make_container("ovenmediaengine-hint", entrypoint=["sleep", "60"])
    report = _diagnose(closed_port)
    assert f"docker start {container.name}" in _commands(report)
    # (other OME containers or processes running on a shared machine may take the headline; all are right)
    assert report.issues[0].key in ("ome_not_running", "api_disabled_in_container", "ome_listens_elsewhere",
                                    "ome_api_on_other_port")


@pytest.mark.parametrize(("entrypoint", "recognised_by"), [
    (None, f"its entry point/command {OME_BINARY} -c origin_conf"),
    (["sleep", "60"], "the ports it publishes (10000/udp, 1935/tcp, 3333/tcp, 3334/tcp, 4000/udp, 9000/tcp)"),
])
def test_stopped_ome_container_whose_name_says_nothing_gets_docker_start(
        make_container, closed_port: int, entrypoint: list[str] | None, recognised_by: str) -> None:
    container = make_container("media-server", entrypoint=entrypoint)
    report = _diagnose(closed_port)
    assert f"docker start {container.name}" in _commands(report)
    step = next(s for s in report.next_steps if container.name in s.title)
    assert recognised_by in " ".join(step.details)


def test_running_ome_container_with_closed_port_points_at_the_disabled_api(make_container,
                                                                          closed_port: int) -> None:
    container = make_container("ovenmediaengine-hint", entrypoint=["sleep", "60"], start=True)
    report = _diagnose(closed_port)
    # (other OME containers or processes on a shared machine may take the headline; the step is this one's)
    assert report.issues[0].key in ("api_disabled_in_container", "ome_listens_elsewhere",
                                    "ome_api_on_other_port")
    step = next(s for s in report.next_steps if container.name in s.title)
    assert step.title.startswith("Enable the API") and "API bind commented out" in " ".join(step.details)


def test_running_ome_container_publishing_its_api_elsewhere_is_pointed_at(make_container,
                                                                         closed_port: int) -> None:
    container = make_container("media-server", entrypoint=["sleep", "60"], start=True,
                               ports={"8081/tcp": ("127.0.0.1", None)})
    container.reload()
    host_port = container.attrs["NetworkSettings"]["Ports"]["8081/tcp"][0]["HostPort"]
    report = _diagnose(closed_port)
    assert report.issues[0].key in ("ome_api_on_other_port", "ome_listens_elsewhere")
    assert f"ome-harness diagnose --api-url http://127.0.0.1:{host_port}" in _commands(report)
    titles = [s.title for s in report.next_steps]
    assert f"Enable the API in the running container '{container.name}'" not in titles


def test_published_port_of_an_ome_with_its_api_disabled_is_not_called_another_service(
        make_container, docker_engine: docker.DockerClient) -> None:
    # The official image's default config, published like a user would: Docker's proxy accepts the
    # connection and resets it (nothing listens inside). OME runs behind a shell here, so only the
    # process inside tells what it is: neither the image name nor the entry point does.
    container = make_container("streaming", start=True, ports={"8081/tcp": ("127.0.0.1", None)},
                               entrypoint=["/bin/sh", "-c", f"exec {OME_BINARY} -c origin_conf"])
    poll_until(lambda: Ready(True) if any(OME_BINARY in str(row) for row in container.top()["Processes"])
               else "not exec'd yet", deadline_s=20, what="OME running in the container")
    container.reload()
    host_port = int(container.attrs["NetworkSettings"]["Ports"]["8081/tcp"][0]["HostPort"])
    report = _diagnose(host_port, host="127.0.0.1")
    assert [r.summary for r in report.results if r.id == "api"] and report.issues
    issue = report.issues[0]
    assert issue.key == "api_disabled_in_container", (issue.title, issue.details)
    assert "Other Than HTTP" not in issue.title and "another service" not in " ".join(issue.details).lower()
    assert container.name in issue.details[0] and "8081/tcp" in issue.details[0]
    assert "the process running in it (" in issue.details[0] and OME_BINARY in issue.details[0]
    assert f"-p {host_port}:8081" in " ".join(_commands(report))
    assert not any(":8081\\b" in c for c in _commands(report))


def test_next_steps_for_a_non_http_peer_name_the_diagnosed_port() -> None:
    with socket.socket() as peer:
        peer.bind(("127.0.0.1", 0))
        peer.listen(4)
        port = peer.getsockname()[1]

        def banner() -> None:
            while True:
                try:
                    conn, _ = peer.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                    conn.settimeout(2)
                    with contextlib.suppress(OSError):
                        conn.recv(1024)

        threading.Thread(target=banner, daemon=True).start()
        report = diagnose(OmeTarget(kind="url", api_url=f"http://127.0.0.1:{port}", token=TOKEN,
                                    connect_timeout=1, read_timeout=1), probe_host=False)
    assert f"ss -ltnp | grep -E ':{port}\\b'" in _commands(report)
    assert not any(":8081" in c for c in _commands(report))


@pytest.fixture
def ome_process_listening(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A real process named OvenMediaEngine (like the binary) listening on a TCP port; (pid, port)."""
    script = tmp_path / "OvenMediaEngine"
    script.write_text(f"#!{sys.executable}\n"
                      "import socket, sys\n"
                      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
                      "print(s.getsockname()[1], flush=True)\n"
                      "sys.stdin.read()\n", encoding="utf-8")
    script.chmod(0o755)
    proc = subprocess.Popen([str(script), "-c", "origin_conf"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        port = int(proc.stdout.readline())
        yield proc.pid, port
    finally:
        proc.kill()
        proc.wait()


def test_an_ome_process_listening_elsewhere_is_not_called_not_running(ome_process_listening,
                                                                      closed_port: int) -> None:
    pid, port = ome_process_listening
    report = _diagnose(closed_port)
    issue = report.issues[0]
    assert issue.key == "ome_listens_elsewhere", (issue.title, issue.details)
    assert f"pid {pid}" in " ".join(issue.details) and str(port) in " ".join(issue.details)
    assert "Not Running" not in issue.title
    assert f"ome-harness diagnose --api-url http://127.0.0.1:{port}" in _commands(report)
    assert not any("systemctl start" in c for c in _commands(report))


@pytest.mark.docker
def test_next_steps_after_diagnose_launch_never_point_at_the_removed_container(
        container_cfg: HarnessConfig, test_containers, standin_image: str) -> None:
    with container_target(container_cfg) as target:
        report = diagnose(target)
        api_url = target.api_url
    assert test_containers() == []
    commands = _commands(report)
    assert commands and not any(api_url in c for c in commands), commands
    assert f"ome-harness run --target container --image {standin_image}" in commands
    assert f"ome-harness up --image {standin_image}" in commands
    assert "was removed when the diagnosis ended" in _details(report)
