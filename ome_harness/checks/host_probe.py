"""How does OME seem to be run on this machine? Read-only looks at systemd and Docker for next steps."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

UNIT_DIRS = (Path("/etc/systemd/system"), Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
UNIT_NAMES = ("ovenmediaengine.service", "ome.service")


@dataclass(frozen=True)
class OmeContainer:
    name: str
    image: str
    status: str
    ports: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuntimeHints:
    systemd_unit: str | None = None
    systemd_active: str | None = None
    docker_reachable: bool = False
    containers: tuple[OmeContainer, ...] = ()

    @property
    def running_containers(self) -> list[OmeContainer]:
        return [c for c in self.containers if c.status == "running"]

    @property
    def stopped_containers(self) -> list[OmeContainer]:
        return [c for c in self.containers if c.status != "running"]


def _systemd() -> tuple[str | None, str | None]:
    unit = next((name for d in UNIT_DIRS for name in UNIT_NAMES if (d / name).exists()), None)
    if unit is None or shutil.which("systemctl") is None:
        return unit, None
    try:
        state = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, timeout=3)
        return unit, state.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return unit, None


def _docker_containers() -> tuple[bool, tuple[OmeContainer, ...]]:
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        return False, ()
    try:
        client = docker.from_env(timeout=3)
        client.ping()
        found = []
        for container in client.containers.list(all=True, ignore_removed=True):
            image = ",".join(container.image.tags) if container.image and container.image.tags else ""
            if "ovenmediaengine" in image.lower() or "ovenmediaengine" in container.name.lower():
                ports = {k: [f"{b['HostIp']}:{b['HostPort']}" for b in (v or [])]
                         for k, v in (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).items()}
                found.append(OmeContainer(container.name, image, container.status, ports))
        client.close()
        return True, tuple(found)
    except (DockerException, OSError, ValueError):
        return False, ()
    except Exception:  # the Docker SDK leaks requests' errors; a hint probe must never fail a diagnosis
        return False, ()


def probe_runtime() -> RuntimeHints:
    unit, active = _systemd()
    reachable, containers = _docker_containers()
    return RuntimeHints(systemd_unit=unit, systemd_active=active, docker_reachable=reachable, containers=containers)
