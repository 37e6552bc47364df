"""Fixtures for the load tests: an emulator with a live stream published by ffmpeg, on IPv4 loopback."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from media_support import TOKEN

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.load.session import LOAD_SIGNAL
from ome_harness.media.publishing import open_publication
from ome_harness.polling import Ready, poll_until
from ome_harness.target.base import OmeTarget
from ome_harness.testing import require


@dataclass
class LiveEmulator:
    server: EmulatorServer
    target: OmeTarget  # as an --api-url target: not launched by the load run


@pytest.fixture
def locust_installed() -> None:
    require(importlib.util.find_spec("locust") is not None,
            "needs Locust for load runs (pip install -e '.[load]')")


@pytest.fixture
def live_emulator(ffmpeg: str, locust_installed: None) -> Iterator[LiveEmulator]:
    """The emulator with `app/stream` live (2 s segments so a short run sees whole segments)."""
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    with EmulatorServer(settings) as server:
        bases = server.target_addresses()
        target = OmeTarget(kind="url", api_url=server.url, token=TOKEN, rtmp_base=bases["rtmp_base"],
                           llhls_base=bases["llhls_base"])
        with target.client() as client, open_publication(target, client, "stream", settings=LOAD_SIGNAL):
            # Viewers join at the live edge and fetch the last complete segment: let one close first.
            poll_until(lambda: _segments_closed(server) or "no complete segment yet", deadline_s=15,
                       what="the first LL-HLS segment to close", interval_s=0.2)
            yield LiveEmulator(server, target)


def _segments_closed(server: EmulatorServer) -> Ready[bool] | None:
    timeline = server.llhls.timeline("default", "app", "stream")
    return Ready(True) if timeline is not None and len(timeline.segments) >= 2 else None
