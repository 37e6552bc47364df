"""How does OME seem to be run on this machine? Read-only looks at systemd, Docker and listening
processes, so the next steps fit (a stopped container → `docker start`, a running one → enable its
API)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ome_harness.checks.listening import OmeProcess, ome_processes

UNIT_DIRS = (Path("/etc/systemd/system"), Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
UNIT_NAMES = ("ovenmediaengine.service", "ome.service")
# The official image runs `/opt/ovenmediaengine/bin/OvenMediaEngine -c origin_conf` (../shared/ome-api.md);
# users rename images (their own registries), so the binary is the telling sign, not the image name.
OME_BINARY = "OvenMediaEngine"
# Ports in the official image's EXPOSE list plus OME's default API, SRT and TURN ports (ome-api.md).
OME_PORTS = frozenset({"1935/tcp", "3333/tcp", "3334/tcp", "9000/tcp", "8081/tcp", "3478/tcp", "9999/udp",
                       "4000/udp", "10000/udp"})


@dataclass(frozen=True)
class OmeContainer:
    name: str
    image: str
    status: str
    ports: dict[str, list[str]] = field(default_factory=dict)  # "8081/tcp" -> ["127.0.0.1:32768"]
    recognised_by: str = ""

    def container_port_for(self, host_port: int) -> str | None:
        """The container port ("8081/tcp") published on `host_port` of this host, if any."""
        return next((spec for spec, bindings in self.ports.items()
                     if any(b.rsplit(":", 1)[-1] == str(host_port) for b in bindings)), None)


@dataclass(frozen=True)
class RuntimeHints:
    systemd_unit: str | None = None
    systemd_active: str | None = None
    docker_reachable: bool = False
    containers: tuple[OmeContainer, ...] = ()
    processes: tuple[OmeProcess, ...] = ()

    @property
    def running_containers(self) -> list[OmeContainer]:
        return [c for c in self.containers if c.status == "running"]

    @property
    def stopped_containers(self) -> list[OmeContainer]:
        return [c for c in self.containers if c.status != "running"]

    def container_publishing(self, host_port: int) -> OmeContainer | None:
        return next((c for c in self.running_containers if c.container_port_for(host_port)), None)


def _systemd() -> tuple[str | None, str | None]:
    unit = next((name for d in UNIT_DIRS for name in UNIT_NAMES if (d / name).exists()), None)
    if unit is None or shutil.which("systemctl") is None:
        return unit, None
    try:
        state = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, timeout=3)
        return unit, state.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return unit, None


def _runs_ome_binary(words: list[str] | None) -> bool:
    return any(Path(str(word)).name == OME_BINARY for word in (words or [])[:2])


def _image_name(container) -> str:  # noqa: ANN001
    """The image as the user named it; its tags when it was run by id (the harness's launcher does)."""
    named = str(((container.attrs or {}).get("Config") or {}).get("Image") or "")
    if named and not named.startswith("sha256:"):
        return named
    try:
        return ",".join(container.image.tags) if container.image and container.image.tags else named
    except Exception:  # noqa: BLE001 (the image was removed under the container: a hint, never a failure)
        return named


def ome_evidence(container) -> str | None:  # noqa: ANN001 (a docker Container; the SDK loads lazily)
    """Why this container is OME ("image name", "entry point …", "process …", "ports …"), or None."""
    attrs = container.attrs or {}
    conf = attrs.get("Config") or {}
    image = _image_name(container)
    if "ovenmediaengine" in f"{image} {container.name}".lower():
        return "its image or container name"
    for words in ([attrs.get("Path"), *(attrs.get("Args") or [])], conf.get("Entrypoint"), conf.get("Cmd")):
        if _runs_ome_binary(words):
            return f"its entry point/command {' '.join(str(w) for w in words if w)}"
    if container.status == "running":
        try:
            top = container.top()
        except Exception:  # noqa: BLE001 (a hint, never a failure)
            top = {}
        for row in top.get("Processes") or []:
            command = str(row[-1]) if row else ""
            if _runs_ome_binary(command.split()):
                return f"the process running in it ({command})"
    bindings = (attrs.get("HostConfig") or {}).get("PortBindings") or {}
    published = set(conf.get("ExposedPorts") or {}) | set(bindings)
    ome_ports = sorted(published & OME_PORTS)
    if "3333/tcp" in ome_ports and len(ome_ports) >= 3:
        return f"the ports it publishes ({', '.join(ome_ports)})"
    return None


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
            evidence = ome_evidence(container)
            if evidence is None:
                continue
            image = _image_name(container)
            ports = {k: [f"{b['HostIp']}:{b['HostPort']}" for b in (v or [])]
                     for k, v in (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).items()}
            found.append(OmeContainer(container.name, image, container.status, ports, evidence))
        client.close()
        return True, tuple(found)
    except (DockerException, OSError, ValueError):
        return False, ()
    except Exception:  # the Docker SDK leaks requests' errors; a hint probe must never fail a diagnosis
        return False, ()


def probe_runtime() -> RuntimeHints:
    unit, active = _systemd()
    reachable, containers = _docker_containers()
    return RuntimeHints(systemd_unit=unit, systemd_active=active, docker_reachable=reachable,
                        containers=containers, processes=ome_processes(OME_BINARY))
