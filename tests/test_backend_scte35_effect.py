"""Backend SCTE-35 on an OME the harness cannot ask what it received: the effect in LL-HLS is the proof.

The emulator is reached here as a plain URL target, as a real OME would be: the harness does not
read its received events, only its LL-HLS output (real RTMP publish by ffmpeg, real HTTP).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from media_support import TOKEN

from ome_harness.backend.under_test import open_backend
from ome_harness.config import HarnessConfig
from ome_harness.target.base import OmeTarget

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media]


def _as_a_real_ome(server) -> OmeTarget:
    return OmeTarget(kind="url", api_url=server.url, token=TOKEN, **server.target_addresses())


def test_on_a_real_target_a_kept_break_is_proven_by_the_cut_and_a_dropped_one_by_no_cut(ffmpeg, start_emulator,
                                                                                         tmp_path: Path):
    server = start_emulator(version="0.20.0", llhls_segment_s=3.0)
    cfg = HarnessConfig(report={"out": str(tmp_path)})
    with open_backend(cfg, _as_a_real_ome(server)) as backend:
        channel = backend.new_channel()
        backend.expect(backend.api.start(channel.id), 200)
        backend.make_live(channel)
        kept = backend.new_marker_the_app_keeps()
        assert kept.duration_ms == 5000  # longer than 1.5 × the 3 s segments OME's app config reports
        backend.expect(backend.insert_marker(channel, kept.id), 200)
        backend.expect_cues(channel, kept)
        dropped = backend.new_marker_the_app_drops()
        backend.expect(backend.insert_marker(channel, dropped.id), 422, "break_too_short")
        backend.expect_no_cue(channel)
    assert [e.body["events"][0]["duration"] for e in server.state.events] == [5000], "the short break is never sent"


def test_on_a_real_target_an_ome_that_accepts_and_ignores_the_cue_is_caught(ffmpeg, start_emulator, tmp_path: Path):
    server = start_emulator(version="0.20.0", llhls_segment_s=3.0)
    server.llhls.ignore_cues = True
    cfg = HarnessConfig(report={"out": str(tmp_path)})
    with open_backend(cfg, _as_a_real_ome(server)) as backend:
        channel = backend.new_channel()
        backend.expect(backend.api.start(channel.id), 200)
        backend.make_live(channel)
        kept = backend.new_marker_the_app_keeps()
        backend.expect(backend.insert_marker(channel, kept.id), 200)
        with pytest.raises(AssertionError, match="shows no cut at the cue time"):
            backend.expect_cues(channel, kept)
