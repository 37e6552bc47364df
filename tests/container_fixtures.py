"""Fixtures for the container launcher's tests: a real Docker engine and the stand-in OME image."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from ome_harness.config import HarnessConfig
from ome_harness.container.docker_engine import connect_engine
from ome_harness.container.errors import EngineUnavailable
from ome_harness.scenarios.container_launch import STANDIN_IMAGE
from ome_harness.testing import require

TEST_LABEL = "ome-harness-test.id"
REPO = Path(__file__).resolve().parents[1]

# The official image's default: the API bind commented out. With it the container runs but never
# becomes ready, which makes "the deadline passes" and "a signal arrives mid-start" deterministic.
API_OFF_TEMPLATE = """<?xml version="1.0" encoding="UTF-8" ?>
<Server version="8">
\t<Name>OvenMediaEngine</Name>
\t<Type>origin</Type>
\t<IP>*</IP>
\t<Bind>
\t\t<!-- <Managers><API><Port>{{ ports.api }}</Port></API></Managers> -->
\t\t<Providers><RTMP><Port>{{ ports.rtmp }}</Port></RTMP></Providers>
\t</Bind>
\t<VirtualHosts><VirtualHost><Name>{{ vhost }}</Name><Applications><Application><Name>{{ app }}</Name>
\t<Type>live</Type></Application></Applications></VirtualHost></VirtualHosts>
</Server>
"""


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.DockerClient]:
    try:
        client = connect_engine(30)
    except EngineUnavailable as exc:
        require(False, f"needs a Docker engine: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def standin_image(docker_engine: docker.DockerClient) -> str:
    try:
        docker_engine.images.get(STANDIN_IMAGE)
    except docker.errors.ImageNotFound:
        require(False, f"needs the stand-in image {STANDIN_IMAGE}: run scripts/build-emulator-image")
    return STANDIN_IMAGE


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def container_cfg(standin_image: str, tmp_path: Path, test_id: str) -> HarnessConfig:
    """Launcher settings for one test: the stand-in image, a private report folder, a label to find it by."""
    return HarnessConfig(container={"image": standin_image, "ready_timeout": 30, "labels": {TEST_LABEL: test_id}},
                         report={"out": str(tmp_path / "reports")})


@pytest.fixture
def api_off_template(tmp_path: Path) -> Path:
    path = tmp_path / "api-off.xml.j2"
    path.write_text(API_OFF_TEMPLATE, encoding="utf-8")
    return path


@pytest.fixture
def test_containers(docker_engine: docker.DockerClient, test_id: str) -> Callable[[], list[Container]]:
    """Every container, running or not, that carries this test's label."""
    return lambda: docker_engine.containers.list(all=True, ignore_removed=True, filters={"label": f"{TEST_LABEL}={test_id}"})


class CliProcess:
    """`ome-harness` running in the background, its stdout readable line by line with a deadline."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
        clean.update(env)
        self.proc = subprocess.Popen([sys.executable, "-m", "ome_harness.cli", *args], cwd=cwd, env=clean,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stderr_lines: list[str] = []
        self._pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True),
                       threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines.append),
                                        daemon=True)]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line)

    def wait_for_line(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout}s; stdout so far: {''.join(self.seen)!r}; "
                             f"stderr: {''.join(self.stderr_lines)!r}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Exit code and stderr once the process ends (killed if it outlives the timeout)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"ome-harness did not exit within {timeout}s; "
                                 f"stderr: {''.join(self.stderr_lines)!r}") from None
        for pump in self._pumps:
            pump.join(timeout=5)
        return self.proc.returncode, "".join(self.stderr_lines)


@pytest.fixture
def cli_process(tmp_path: Path) -> Iterator[type[CliProcess]]:
    started: list[CliProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> CliProcess:
        proc = CliProcess(list(args), env or {}, tmp_path)
        started.append(proc)
        return proc

    yield start  # type: ignore[misc]
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait()
