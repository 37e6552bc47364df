"""The WebRTC viewer against an aiortc sender of our own speaking OME's signalling on loopback."""

from __future__ import annotations

import json

import pytest
from ome_samples import SAMPLES, require_samples

from ome_harness.playback.webrtc import view
from ome_harness.testing import require


@pytest.fixture
def peer_class():
    import importlib.util

    require(importlib.util.find_spec("aiortc") is not None, "needs aiortc (pip install aiortc websockets)")
    from webrtc_peer import OmeShapedPeer

    return OmeShapedPeer


def test_the_viewer_decodes_frames_from_an_ome_shaped_offer(peer_class):
    with peer_class().running() as peer:
        viewing = view(peer.url("stream"), window_s=1.5)
    assert viewing.failure is None and viewing.frames >= 10, viewing
    assert viewing.resolution == "640x480" and viewing.fps > 5 and viewing.first_frame_s is not None


def test_an_unknown_stream_is_signalling_refused_with_omes_words(peer_class):
    require_samples()
    captured = json.loads(
        (SAMPLES / "v0.21.0-media/playback/webrtc_signalling_unknown_stream.txt").read_text()
    )
    with peer_class().running() as peer:
        viewing = view(peer.url("nosuch"), window_s=1.0)
    assert viewing.stage == "signalling" and viewing.frames == 0
    assert viewing.failure == f"signalling refused: {peer.url('nosuch')} answered code {captured['code']} " \
                              f"{captured['error']!r}"


def test_unreachable_ice_candidates_are_named_as_no_candidate_pair(peer_class):
    with peer_class(unreachable=True).running() as peer:
        viewing = view(peer.url("stream"), window_s=1.0, timeout_s=4.0)
    assert viewing.stage == "ice" and viewing.failure is not None
    assert viewing.failure.startswith("no candidate pair"), viewing.failure


def test_no_signalling_server_is_signalling_refused(closed_port):
    viewing = view(f"ws://127.0.0.1:{closed_port}/app/stream", window_s=1.0, timeout_s=2.0)
    assert viewing.stage in ("signalling", "client") and viewing.frames == 0
