"""One emulator with one live RTMP publish shared by a test module (ffmpeg is the costly part)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from media_support import TOKEN, llhls_url, rtmp_url

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.emulator.llhls import LlhlsFaults
from ome_harness.media.encoder import EncoderSettings, FfmpegEncoder
from ome_harness.polling import Ready, poll_until
from ome_harness.testing import require


@dataclass
class LivePlayback:
    server: EmulatorServer
    encoder: FfmpegEncoder
    master_url: str
    settings: EncoderSettings


def _has_parts(url: str) -> Ready[bool] | str:
    # A young stream's playlists are held (like real OME's) for up to about two segments: wait that long.
    try:
        master = httpx.get(url, timeout=10)
        if master.status_code != 200:
            return f"master answered {master.status_code}"
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        chunklist = httpx.get(httpx.URL(url).join(variant), timeout=10)
    except httpx.HTTPError as exc:
        return f"playlists: {exc}"
    return Ready(True) if chunklist.text.count("#EXTINF") >= 1 else "no closed segment yet"


@pytest.fixture(scope="module")
def live_playback() -> Iterator[LivePlayback]:
    """The emulator (2 s segments, 0.5 s parts) with ffmpeg publishing `app/cam` until the module ends."""
    require(
        shutil.which("ffmpeg") is not None, "needs ffmpeg for real publishing (apt-get install -y ffmpeg)"
    )
    settings = EncoderSettings()
    emulator_settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    with (
        EmulatorServer(emulator_settings) as server,
        FfmpegEncoder(rtmp_url(server, "cam"), settings) as encoder,
    ):
        url = llhls_url(server, "cam")
        poll_until(lambda: _has_parts(url), deadline_s=15, what="the emulator's LL-HLS to list a segment")
        yield LivePlayback(server, encoder, url, settings)


@pytest.fixture
def playback(live_playback: LivePlayback) -> Iterator[LivePlayback]:
    """The shared live stream with its LL-HLS faults cleared before and after the test."""
    live_playback.server.llhls.faults = LlhlsFaults()
    yield live_playback
    live_playback.server.llhls.faults = LlhlsFaults()

