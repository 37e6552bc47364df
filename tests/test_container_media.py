"""Media through the published ports: RTMP in and LL-HLS out reach the launched OME from this host."""

from __future__ import annotations

import shutil

import pytest

from ome_harness.config import HarnessConfig
from ome_harness.media.encoder import publish
from ome_harness.playback.llhls_viewer import LlhlsViewer
from ome_harness.target.container import container_target
from ome_harness.testing import require

pytest_plugins = ["container_fixtures"]
pytestmark = [pytest.mark.docker, pytest.mark.container, pytest.mark.media]


def test_rtmp_ingest_and_llhls_playback_work_through_the_mapped_ports(container_cfg: HarnessConfig) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg (apt-get install -y ffmpeg)")
    with container_target(container_cfg) as target, target.client() as client:
        assert target.rtmp_base and not target.rtmp_base.endswith(":1935"), "RTMP must be on its mapped port"
        with publish(client, target.rtmp_url("cam1"), target.vhost, target.app, "cam1", deadline_s=20) as pub:
            assert pub.listed.name == "cam1"
            # A young stream: 404/201/held first playlists (the stand-in image runs the emulator, which
            # answers them as real OME does); the viewer waits them out.
            with LlhlsViewer(target.llhls_url("cam1"), segment_s=6.0) as viewer:
                viewer.open()
            assert viewer.master_text.startswith("#EXTM3U")


def test_srt_ingest_warms_up_through_the_mapped_udp_port(container_cfg: HarnessConfig) -> None:
    # The stand-in image carries Debian's libsrt (scripts/build-emulator-image): SRT runs in it as in OME.
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg (apt-get install -y ffmpeg)")
    with container_target(container_cfg) as target, target.client() as client:
        assert target.srt_base and not target.srt_base.endswith(":9999"), "SRT must be on its mapped port"
        with publish(
            client, target.srt_url("srtcam"), target.vhost, target.app, "srtcam", deadline_s=20
        ) as pub:
            assert pub.listed.input.source_type == "SRT"
            assert pub.problems == [] and pub.tracks_after_s is not None and pub.tracks_after_s > 0
