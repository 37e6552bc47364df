"""What the @browser steps call: a viewer's browser (OvenPlayer + hls.js in Chromium) kept across steps.

Browsers run one at a time on the machine (an exclusive lock on the players' folder, held while one is
open): each costs ~0.6 of a core (issue 22), and `run --workers` runs scenarios in several processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from ome_harness.media.encoder import Publication
from ome_harness.playback.browser import (
    NEEDS,
    PATH_LLHLS,
    PATH_TURN,
    PATH_UDP,
    BrowserViewer,
    BrowserViewing,
    missing_prerequisites,
)
from ome_harness.playback.browser_page import players_dir
from ome_harness.target import OmeTarget
from ome_harness.target.media_addresses import MediaAddressUnknown
from ome_harness.testing import require

FIRST_FRAME_DEADLINE_S = 15.0


def require_browser() -> None:
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")


@contextlib.contextmanager
def one_browser(path: str = PATH_LLHLS) -> Iterator[BrowserViewer]:
    """A BrowserViewer, once no other browser of this machine's harness runs."""
    folder = os.open(players_dir(), os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        with BrowserViewer(path=path) as viewer:
            yield viewer
    finally:
        os.close(folder)  # releases the lock


def play_llhls(viewer: BrowserViewer, target: OmeTarget, publication: Publication,
               seconds: float) -> BrowserViewing:
    viewer.open(target.llhls_url(publication.name, publication.app))
    if viewer.wait_first_frame(FIRST_FRAME_DEADLINE_S):
        viewer.watch(seconds)
    return viewer.viewing()


def llhls_address_unknown(target: OmeTarget) -> str | None:
    """Why the target's LL-HLS cannot be opened (its address is not known, with how to give it), or None."""
    try:
        target.llhls_url("omh-nobody-publishes-this")
    except MediaAddressUnknown as exc:
        return str(exc)
    return None


def open_missing_stream(viewer: BrowserViewer, target: OmeTarget) -> None:
    viewer.open(target.llhls_url("omh-nobody-publishes-this"))


def play_webrtc_both_ways(target: OmeTarget, publication: Publication,
                          seconds: float) -> list[BrowserViewing]:
    """OvenPlayer's default (relay-only through OME's TURN over TCP), then direct UDP."""
    url = target.webrtc_url(publication.name, publication.app)
    viewings = []
    for path, config in ((PATH_TURN, None), (PATH_UDP, {"iceTransportPolicy": "all"})):
        with one_browser(path) as viewer:
            viewer.open(url, source_type="webrtc", webrtc_config=config)
            if viewer.wait_first_frame(FIRST_FRAME_DEADLINE_S):
                viewer.watch(seconds)
            viewings.append(viewer.viewing())
    return viewings


def expect_first_frame_within(viewing: BrowserViewing, seconds: float) -> None:
    assert viewing.first_frame_s is not None, "; ".join(viewing.problems()) or "no frame shown"
    assert viewing.first_frame_s <= seconds, f"first frame {viewing.first_frame_s:.2f} s after page load"


def expect_smooth(viewing: BrowserViewing) -> None:
    assert not viewing.problems(), "; ".join(viewing.problems())
    assert viewing.playback_rate is not None, "playback was not watched for a second after the first frame"


def expect_player_error(viewer: BrowserViewer, code: int, within_s: float) -> BrowserViewing:
    if viewer.viewing(screenshot=False).played:
        viewer.watch(within_s, until_error=True)
    else:
        viewer.wait_first_frame(within_s)
    viewing = viewer.viewing(screenshot=False)
    codes = [e.code for e in viewing.player_errors]
    assert code in codes, (f"expected OvenPlayer error {code} within {within_s:g} s; saw errors {codes}, "
                           f"state {viewing.final_state}, hls.js: {[str(e) for e in viewing.hls_errors][:3]}")
    return viewing


def expect_some_webrtc_path(viewings: list[BrowserViewing]) -> None:
    working = [v.path for v in viewings if v.played and not v.problems()]
    said = "; ".join(f"{v.path}: {v.figures()} {'; '.join(v.problems())}" for v in viewings)
    assert working, f"no WebRTC path plays in the browser — {said}"
