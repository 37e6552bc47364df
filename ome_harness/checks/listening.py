"""Which OvenMediaEngine processes run here, and on which TCP ports they listen (read-only, from /proc).

Each process's own /proc/PID/net/tcp{,6} is read, so an OME inside a container (another network
namespace) is seen with the ports it listens on inside; a process's sockets are matched by inode
through /proc/PID/fd. Without permission to look (another user's process, no root), it is skipped.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


@dataclass(frozen=True)
class OmeProcess:
    pid: int
    command: str
    listening: tuple[tuple[str, int], ...]  # (address, port), sorted by port
    own_network: bool  # False: another network namespace (a container): its ports are not this host's

    @property
    def ports(self) -> list[int]:
        return sorted({port for _, port in self.listening})


def ome_processes(binary: str) -> tuple[OmeProcess, ...]:
    """Every process running `binary` (by its name or the first words of its command line)."""
    own_ns = _link(PROC / "self" / "ns" / "net")
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            words = [w.decode(errors="replace") for w in (entry / "cmdline").read_bytes().split(b"\0") if w]
        except OSError:
            continue
        if comm != binary and not any(Path(w).name == binary for w in words[:2]):
            continue
        found.append(OmeProcess(pid=int(entry.name), command=" ".join(words) or comm,
                                listening=_listening(entry),
                                own_network=_link(entry / "ns" / "net") == own_ns))
    return tuple(sorted(found, key=lambda p: p.pid))


def _link(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _listening(proc_dir: Path) -> tuple[tuple[str, int], ...]:
    inodes = set()
    try:
        for fd in (proc_dir / "fd").iterdir():
            target = _link(fd) or ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return ()
    found = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc_dir / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == LISTEN and cols[9] in inodes:
                address, port = cols[1].split(":")
                found.add((_address(address), int(port, 16)))
    return tuple(sorted(found, key=lambda item: (item[1], item[0])))


def _address(hex_address: str) -> str:
    # The kernel prints each 32-bit word in host byte order.
    raw = bytes.fromhex(hex_address)
    swapped = raw if sys.byteorder == "big" else b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, swapped)
