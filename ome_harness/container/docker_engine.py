"""The Docker engine connection: one place that turns "no engine" into a sentence."""

from __future__ import annotations

import os

import docker
from docker.errors import DockerException

from ome_harness.container.errors import EngineUnavailable


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect_engine(timeout: float = 30.0) -> docker.DockerClient:
    """A client for the engine DOCKER_HOST (or the default socket) names, checked with a ping."""
    try:
        client = docker.from_env(timeout=int(max(timeout, 1)))
        client.ping()
    except DockerException as exc:
        raise EngineUnavailable(
            f"No Docker engine answers at {engine_address()} ({_reason(exc)}). Start one (dockerd, "
            "or scripts/provision-docker) or point DOCKER_HOST at a running engine.") from None
    return client


_REASONS = (("No such file or directory", "no such socket"), ("FileNotFoundError", "no such socket"),
            ("Connection refused", "connection refused"), ("ConnectionRefusedError", "connection refused"),
            ("Permission denied", "permission denied"), ("PermissionError", "permission denied"),
            ("timed out", "timed out"), ("Name or service not known", "host name not resolved"))


def _reason(exc: Exception) -> str:
    # docker-py nests the socket error several levels deep; the innermost cause is what helps.
    text = str(exc)
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    return text.splitlines()[0][:200] if text else type(exc).__name__
