"""The labels on every container the harness starts, and how `down` tells leftovers from live runs."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

OWNER_LABEL = "ome-harness.owner"
OWNER = "ome-harness"
RUN_ID_LABEL = "ome-harness.run-id"
LAUNCHER_LABEL = "ome-harness.launcher"
CONFIG_DIR_LABEL = "ome-harness.config-dir"
IMAGE_LABEL = "ome-harness.image"
CONFIG_DIR_PREFIX = "ome-harness-"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def launcher_identity(pid: int | None = None) -> str:
    """host/pid/start-time: the start time keeps a recycled pid from looking like a live launcher."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def launcher_alive(identity: str) -> bool:
    """Whether the process that launched a container still runs (on this host; other hosts: assume so)."""
    try:
        host, pid_text, started = identity.split("/", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_time(pid) == started and started != "gone"


def labels_for(
    run_id: str, image: str, config_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    labels = dict(extra or {})
    labels.update({OWNER_LABEL: OWNER, RUN_ID_LABEL: run_id, LAUNCHER_LABEL: launcher_identity(),
                   CONFIG_DIR_LABEL: str(config_dir), IMAGE_LABEL: image})
    return labels


def owned_config_dir(labels: dict[str, str]) -> Path | None:
    """The rendered-config dir named by a label, only if it is one of ours (labels are untrusted input)."""
    value = labels.get(CONFIG_DIR_LABEL)
    if not value:
        return None
    path = Path(value)
    if path.parent != Path(tempfile.gettempdir()) or not path.name.startswith(CONFIG_DIR_PREFIX):
        return None
    return path


def _start_time(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if os.name != "posix" or Path("/proc/self/stat").exists():
            return "gone"
        try:  # no /proc (macOS): fall back to "a process with this pid exists"
            os.kill(pid, 0)
            return "unknown"
        except ProcessLookupError:
            return "gone"
        except PermissionError:
            return "unknown"
    # Field 22 (starttime) comes after the parenthesised command name, which may contain spaces.
    return stat.rsplit(")", 1)[1].split()[19]
