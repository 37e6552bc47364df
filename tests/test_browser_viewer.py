"""The real player in a real browser (OvenPlayer + hls.js in Chromium) against the emulator's LL-HLS.

One browser at a time (each costs ~0.6 of a core): every test here runs in one xdist group.
"""

from __future__ import annotations

import tempfile

import pytest
from media_support import llhls_url

from ome_harness.playback.browser import (
    NEEDS,
    PATH_LLHLS,
    BrowserViewing,
    missing_prerequisites,
    mixed_content,
    watch_in_browser,
)
from ome_harness.testing import require

pytest_plugins = ["playback_fixtures", "media_fixtures"]
pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def browser_ready() -> None:
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")


def test_ovenplayer_plays_the_emulators_audio_and_video_over_llhls(playback, browser_ready):
    viewing = watch_in_browser(playback.master_url, window_s=3.0, first_frame_deadline_s=15)
    assert viewing.played and viewing.problems() == [], (viewing.problems(), viewing.hls_errors)
    assert viewing.final_state == "playing" and viewing.path == PATH_LLHLS
    assert viewing.playback_rate is not None and 0.9 < viewing.playback_rate < 1.1
    assert viewing.latency_s is not None and viewing.frames >= 45
    assert viewing.screenshot is not None and viewing.screenshot[:2] == b"\xff\xd8"  # a JPEG


def test_a_missing_cors_header_is_a_player_error_in_the_browser(playback, browser_ready):
    playback.server.llhls.faults.cors_allow_origin = None
    viewing = watch_in_browser(playback.master_url, window_s=1.0, first_frame_deadline_s=10)
    assert not viewing.played
    assert [e.code for e in viewing.player_errors] == [302], viewing
    assert any(e.type == "networkError" and e.details == "manifestLoadError" for e in viewing.hls_errors)
    assert "has been blocked by CORS policy" in viewing.refused_by_browser[0], viewing.refused_by_browser


def test_an_https_site_reaching_ome_on_a_private_address_is_refused_by_the_browser(playback, browser_ready):
    # The page comes from an https:// origin (Playwright answers its requests inside the browser): Chromium
    # then refuses the emulator's loopback http:// address (Local Network Access; elsewhere mixed content).
    viewing = watch_in_browser(playback.master_url, first_frame_deadline_s=10,
                               https_page="https://viewers-site.example")
    assert not viewing.played and [e.code for e in viewing.player_errors] == [302], viewing
    # Chromium 156's words for an XHR: "... blocked by CORS policy: Permission was denied for this request to
    # access the `loopback` address space."
    assert any("`loopback` address space" in r for r in viewing.refused_by_browser), viewing


def test_a_missing_stream_shows_the_players_error_302_at_once(playback, browser_ready, tmp_path, monkeypatch):
    # Under a deep TMPDIR too (pytest's): Chromium's socket there would be too long, "Socket path too long".
    deep = tmp_path / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    viewing = watch_in_browser(llhls_url(playback.server, "nosuchstream"), first_frame_deadline_s=10)
    assert not viewing.played and [e.code for e in viewing.player_errors] == [302]
    assert viewing.player_errors[0].at_s < 5, viewing.player_errors
    assert "OvenPlayer error 302" in viewing.problems()[0]


def test_an_https_page_with_ws_signalling_is_mixed_content():
    said = mixed_content("https://viewer.example/", "ws://ome.example:3333/app/stream")
    assert said is not None and "wss://" in said and "mixed content" in said
    assert mixed_content("https://viewer.example/", "wss://ome.example:3333/app/stream") is None
    assert mixed_content("http://viewer.example/", "ws://ome.example:3333/app/stream") is None


def test_the_browser_section_says_an_https_site_cannot_use_ws_signalling():
    import time

    from ome_harness.playback.browser import PATH_TURN, BrowserViewing
    from ome_harness.playback.browser_check import browser_result

    viewings = [BrowserViewing(path=PATH_TURN, source_url="ws://ome.example:3333/app/stream",
                               first_frame_s=1.0, playback_rate=1.0),
                BrowserViewing(path=PATH_LLHLS, source_url="https://ome.example/app/stream/llhls.m3u8",
                               first_frame_s=2.0, playback_rate=1.0)]
    result = browser_result("app/stream", viewings, emulated=False, started=time.monotonic())
    assert result.facts["mixed_content"] == [mixed_content("https://x/", "ws://ome.example:3333/app/stream")]
    assert any("from an https:// site" in e.what and "wss://" in e.outcome for e in result.evidence)


def test_without_the_npm_players_the_viewer_says_what_it_needs(monkeypatch, tmp_path):
    monkeypatch.setenv("OMH_PLAYERS_DIR", str(tmp_path))
    viewing = watch_in_browser("http://127.0.0.1:9/app/stream/llhls.m3u8")
    assert viewing.error is not None and "hls.js/dist/hls.min.js" in viewing.error
    assert "npm ci" in viewing.error and not viewing.played


def test_the_browser_steps_fail_with_what_the_viewer_saw():
    from ome_harness.playback.browser import BrowserViewing, PlayerError
    from ome_harness.scenarios.browser_viewer import expect_first_frame_within, expect_smooth

    broken = BrowserViewing(path=PATH_LLHLS, source_url="http://x/app/s/llhls.m3u8",
                            player_errors=[PlayerError(0.4, 302, "Some of the media could not be")])
    with pytest.raises(AssertionError, match="OvenPlayer error 302 at 0.4 s"):
        expect_first_frame_within(broken, 10)
    frozen = BrowserViewing(path=PATH_LLHLS, source_url="u", first_frame_s=2.0, playback_rate=0.5,
                            freezes=[(3.0, 4.5)])
    with pytest.raises(AssertionError, match=r"0.50× the wall clock.*1 freeze\(s\) over 250 ms, longest 1.5"):
        expect_smooth(frozen)
    with pytest.raises(AssertionError, match="first frame 12.00 s after page load"):
        expect_first_frame_within(BrowserViewing(path=PATH_LLHLS, source_url="u", first_frame_s=12.0), 10)


def test_a_waiting_without_a_freeze_is_a_figure_and_a_freeze_is_a_problem() -> None:
    # hls.js at the live edge raises `waiting` when a part comes a little late (a healthy emulator run did,
    # about once in six); a viewer notices only a picture that stops for more than FREEZE_MS.
    waited = BrowserViewing(path=PATH_LLHLS, source_url="http://127.0.0.1:3333/app/cam/llhls.m3u8",
                            first_frame_s=1.0, frames=90, playback_rate=0.98, waiting_after_first_frame=1)
    assert waited.problems() == []
    assert "waited for data 1 time(s) after the first frame" in waited.figures()
    waited.freezes = [(2.0, 2.6)]
    assert waited.problems() == ["1 freeze(s) over 250 ms, longest 0.60 s"]
