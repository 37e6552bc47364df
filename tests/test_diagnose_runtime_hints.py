"""Next steps fit how OME runs here: a stopped OME container → `docker start`; a running one whose
API port is closed → the image's default config has the API disabled (real Docker engine)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import docker
import pytest
from ome_samples import TOKEN

from ome_harness.checks.diagnosis import diagnose
from ome_harness.target import OmeTarget

pytest_plugins = ["container_fixtures"]


@pytest.fixture
def ome_named_container(docker_engine: docker.DockerClient, standin_image: str) -> Iterator:
    """A container named like a user's OME one, idling (no API), removed afterwards."""
    name = f"ovenmediaengine-hint-{uuid.uuid4().hex[:8]}"
    container = docker_engine.containers.create(standin_image, name=name, entrypoint=["sleep", "60"],
                                                labels={"ome-harness-test.id": name})
    yield container
    container.remove(force=True)


def _diagnose_closed(port: int):
    return diagnose(OmeTarget(kind="url", api_url=f"http://localhost:{port}", token=TOKEN, connect_timeout=1,
                              read_timeout=1))


def test_stopped_ome_container_gets_docker_start(ome_named_container, closed_port: int) -> None:
    report = _diagnose_closed(closed_port)
    commands = [c for step in report.next_steps for c in step.commands]
    assert f"docker start {ome_named_container.name}" in commands
    # (another test's running OME container may turn the headline into "API disabled"; both are right)
    assert report.issues[0].key in ("ome_not_running", "api_disabled_in_container")


def test_running_ome_container_with_closed_port_points_at_the_disabled_api(ome_named_container,
                                                                          closed_port: int) -> None:
    ome_named_container.start()
    report = _diagnose_closed(closed_port)
    assert report.issues[0].key == "api_disabled_in_container"
    assert any("API bind commented out" in " ".join(step.details) for step in report.next_steps)
