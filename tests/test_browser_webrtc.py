"""OvenPlayer's WebRTC in the browser, both ways a viewer gets it, against an aiortc sender of our own
speaking OME's signalling on loopback (tests/webrtc_peer.py; the emulator has no WebRTC).

OvenPlayer 0.10.54 forces relay-only ICE when OME's offer names TURN servers (its default; OME's offer
does, webrtc_signalling_offer.json), and uses every path with `iceTransportPolicy: 'all'`.
"""

from __future__ import annotations

import importlib.util
import time

import pytest
from media_support import free_ports

from ome_harness.playback.browser import NEEDS, PATH_TURN, PATH_UDP, missing_prerequisites
from ome_harness.playback.browser_check import browser_result, watch_webrtc_in_browser
from ome_harness.results import Status
from ome_harness.testing import require

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def peer_class():
    require(importlib.util.find_spec("aiortc") is not None, "needs aiortc (pip install aiortc websockets)")
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")
    from webrtc_peer import OmeShapedPeer

    return OmeShapedPeer


def _both_paths(url: str) -> list:
    return [watch_webrtc_in_browser(url, direct_udp=udp, emulated=False, window_s=2.0,
                                    first_frame_deadline_s=10) for udp in (False, True)]


def test_a_dead_turn_server_in_the_offer_fails_ovenplayers_default_path_and_only_that(peer_class):
    with peer_class(turn_port=free_ports(1)[0]).running() as peer:
        started = time.monotonic()
        turn, udp = _both_paths(peer.url("stream"))
    assert not turn.played and turn.problems(), turn  # relay only, and no relay answers
    assert udp.played and udp.first_frame_s is not None and udp.playback_rate is not None, udp.problems()
    result = browser_result("app/stream", [turn, udp], emulated=False, started=started)
    assert result.status is Status.WARN and PATH_TURN in result.summary, result.summary
    assert "viewers behind a UDP-blocking firewall get only that path" in result.summary
    assert result.facts["paths_working"] == [PATH_UDP]


def test_without_turn_in_the_offer_both_paths_play(peer_class):
    with peer_class().running() as peer:
        started = time.monotonic()
        viewings = _both_paths(peer.url("stream"))
    assert all(v.played for v in viewings), [v.problems() for v in viewings]
    result = browser_result("app/stream", viewings, emulated=False, started=started)
    # Both showed frames; a freeze of the aiortc sender on a loaded machine may still make one a WARN.
    facts = result.facts
    assert facts["webrtc_turn_tcp_first_frame_s"] < 10 and facts["webrtc_udp_first_frame_s"] < 10


def test_a_stream_ome_cannot_offer_is_ovenplayers_error_501(peer_class):
    with peer_class().running() as peer:
        viewing = watch_webrtc_in_browser(peer.url("nosuch"), direct_udp=False, emulated=False)
    assert not viewing.played and [e.code for e in viewing.player_errors] == [501], viewing
    assert "Connection with low-latency(OME) server failed" in viewing.problems()[0]


def test_on_the_emulator_both_webrtc_paths_are_skipped_with_the_reason():
    viewing = watch_webrtc_in_browser("ws://127.0.0.1:3333/app/stream", direct_udp=True, emulated=True)
    assert viewing.skipped and "the emulator has no WebRTC" in viewing.skipped and not viewing.played
