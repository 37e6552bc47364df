"""Fixtures for the harness's own tests: real emulators on loopback, the CLI as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ome_samples import TOKEN

from ome_harness.emulator import EmulatorServer, EmulatorSettings


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A healthy emulator on both loopbacks, with the token of the samples."""
    with EmulatorServer(EmulatorSettings(token=TOKEN)) as server:
        yield server


@pytest.fixture
def emulator_ipv4_only() -> Iterator[EmulatorServer]:
    """OME's default bind (<IP>*</IP>): IPv4 only."""
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (on either loopback)."""
    with socket.socket() as s4:
        s4.bind(("127.0.0.1", 0))
        port = s4.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (kernel backlog) but never answers: the 'slow API' worst case."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run `ome-harness` as a user would, in a clean folder, with OMH_* from the test only."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliRun:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
        clean.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "ome_harness", *args], capture_output=True, text=True,
                              timeout=timeout, cwd=tmp_path, env=clean)
        return CliRun(proc.returncode, proc.stdout, proc.stderr)

    return run
