"""Fixtures for the media tests: real ffmpeg publishing into a real emulator on loopback."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from media_support import TOKEN

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.ome.client import OmeClient
from ome_harness.testing import require

_names = itertools.count(1)


@pytest.fixture
def ffmpeg() -> str:
    """Debian's ffmpeg; skipped with one line on a laptop without it, a failure on CI."""
    path = shutil.which("ffmpeg")
    require(path is not None, "needs ffmpeg for real publishing (apt-get install -y ffmpeg)")
    assert path is not None
    return path


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start emulators with the given settings (IPv4 loopback); all are stopped after the test."""
    with ExitStack() as stack:
        def start(**settings: object) -> EmulatorServer:
            merged = {"hosts": ("127.0.0.1",), "token": TOKEN, **settings}
            return stack.enter_context(EmulatorServer(EmulatorSettings(**merged)))  # type: ignore[arg-type]

        yield start


@pytest.fixture
def emulator_v020(start_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return start_emulator(version="0.20.0")


@pytest.fixture
def client_of() -> Iterator[Callable[[EmulatorServer], OmeClient]]:
    clients: list[OmeClient] = []

    def make(server: EmulatorServer) -> OmeClient:
        clients.append(OmeClient(server.url, TOKEN))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def stream_name() -> str:
    return f"cam{next(_names)}"
