"""Playback through a launched container (the stand-in image): LL-HLS through its mapped port, WebRTC relay
published."""

from __future__ import annotations

import pytest

from ome_harness.container.launcher import PUBLISHED
from ome_harness.media.encoder import FfmpegEncoder
from ome_harness.playback.check import watch_llhls
from ome_harness.playback.scenario_support import webrtc_absent_reason
from ome_harness.polling import Ready, poll_until
from ome_harness.target.container import container_target

pytest_plugins = ["container_fixtures", "media_fixtures"]
pytestmark = [pytest.mark.docker, pytest.mark.container]


def _plays(url: str) -> Ready[bool] | str:
    import httpx

    try:
        return Ready(True) if httpx.get(url, timeout=2).status_code == 200 else "master not served yet"
    except httpx.HTTPError as exc:
        return str(exc)


def test_a_viewer_plays_llhls_from_a_launched_container_and_its_webrtc_relay_is_published(
        container_cfg, test_containers, ffmpeg):
    with container_target(container_cfg) as target:
        (container,) = test_containers()
        relay = container.attrs["NetworkSettings"]["Ports"][PUBLISHED["webrtc_relay"]]
        assert [b["HostIp"] for b in relay] == ["127.0.0.1"]
        with FfmpegEncoder(target.rtmp_url("cam1")):
            url = target.llhls_url("cam1")
            poll_until(lambda: _plays(url), deadline_s=15, what="the container's LL-HLS master")
            outcome = watch_llhls(url, window_s=3.0, probe_far_ahead=False)
        # The stand-in image runs the emulator: it has no WebRTC, and says so.
        assert webrtc_absent_reason(target) is not None
    # Only what every build of the stand-in image does: an image built before the emulator served real
    # parts and held blocking reloads earns media-truth/blocking-reload findings (rebuild it to clear them).
    parts = [e for e in outcome.events if e.kind == "part"]
    assert outcome.error is None and len(parts) >= 3 and all(e.ok for e in parts), outcome.events[:6]
