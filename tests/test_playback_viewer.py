"""The LL-HLS viewer against the emulator's live LL-HLS, fed by real ffmpeg over RTMP on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ome_harness.playback.llhls_viewer import LlhlsViewer, with_query

pytest_plugins = ["playback_fixtures"]


def test_the_viewer_follows_live_parts_through_blocking_reloads(playback):
    with LlhlsViewer(playback.master_url) as viewer:
        events = viewer.watch(3.0)
    kinds = [e.kind for e in events]
    assert kinds[:3] == ["playlist", "playlist", "init"], kinds
    reloads = [e for e in events if e.kind == "blocking_reload"]
    assert len(reloads) >= 4 and all(e.ok for e in reloads), reloads
    parts = [(e.msn, e.part) for e in events if e.kind == "part"]
    assert parts == sorted(parts) and len(set(parts)) == len(parts), parts
    # Each blocking reload asks for the part the last playlist hinted, and that part then comes.
    assert {(e.msn, e.part) for e in reloads} <= set(parts)
    # A held reload answers when the part is complete: about one part target, not at once.
    assert sorted(e.latency_s for e in reloads)[len(reloads) // 2] > 0.2


def test_the_viewer_keeps_the_session_token_the_master_gives(playback):
    with LlhlsViewer(playback.master_url) as viewer:
        viewer.watch(1.0)
        session = parse_qs(urlsplit(viewer.media_url).query)["session"]
        assert session, viewer.media_url
        # Every playlist the viewer loaded was asked with the master's session (the emulator echoes it).
        assert all(f"session={session[0]}" in view.text for view in viewer.playlists)


def test_blocking_reload_parameters_are_added_to_the_uri_not_replacing_its_query():
    url = with_query("http://h/app/s/chunklist_0_video_x_llhls.m3u8?session=12_ab", _HLS_msn=3, _HLS_part=1)
    assert parse_qs(urlsplit(url).query) == {"session": ["12_ab"], "_HLS_msn": ["3"], "_HLS_part": ["1"]}


def test_a_blocking_reload_that_hangs_ends_at_the_viewers_own_deadline(playback):
    playback.server.llhls.faults.hang_blocking_reloads = True
    with LlhlsViewer(playback.master_url, reload_deadline_s=0.8) as viewer:
        viewer.open()
        events = viewer.step()
    assert events[0].kind == "blocking_reload" and events[0].status is None
    assert "no answer within 0.8 s" in (events[0].error or "")
    assert 0.7 < events[0].latency_s < 2.0


def test_a_part_that_404s_is_an_event_with_its_status(playback):
    playback.server.llhls.faults.parts_missing = True
    with LlhlsViewer(playback.master_url) as viewer:
        events = viewer.watch(1.2)
    parts = [e for e in events if e.kind == "part"]
    assert parts and all(e.status == 404 and e.error == "HTTP 404" for e in parts)
