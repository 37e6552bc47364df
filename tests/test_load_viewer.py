"""The load viewer reads OME's LL-HLS playlists as a real OME v0.21.0 served them (captured samples)."""

from __future__ import annotations

from ome_samples import SAMPLES, require_samples

from ome_harness.load.viewer import first_variant, parse_media_playlist, with_query

PLAYBACK = SAMPLES / "v0.21.0-media" / "playback"
BASE = "http://ome.example.net:3333/app/stream/"


def body_of(name: str) -> str:
    require_samples()
    text = (PLAYBACK / name).read_text()
    return text.split("\n\n", 1)[1]  # after the status line and headers


def test_the_viewer_finds_parts_segments_and_the_hinted_part_in_a_real_chunklist() -> None:
    url = BASE + "chunklist_0_video_7930408358254892257_llhls.m3u8"
    playlist = parse_media_playlist(body_of("llhls_video_chunklist.m3u8.http"), url)
    assert playlist.part_target_s == 0.5 and playlist.part_hold_back_s == 1.533
    assert [msn for msn, _uri in playlist.segments] == [0, 1, 2, 3, 4]
    # Each part's (msn, index) is the one in OME's own part name: part_<track>_<msn>_<index>_...
    for msn, index, uri, duration in playlist.parts:
        assert uri.startswith(BASE) and f"part_0_{msn}_{index}_video" in uri and duration == 0.5
    assert playlist.hint == (5, 6)  # the preload hint names part_0_5_6


def test_the_viewer_follows_the_masters_variant_and_keeps_a_query_on_reload() -> None:
    master = body_of("llhls_master.m3u8.http")
    assert (
        first_variant(master, BASE + "llhls.m3u8")
        == BASE + "chunklist_0_video_7930408358254892257_llhls.m3u8"
    )
    reload_url = with_query(BASE + "chunklist.m3u8?session=ab", _HLS_msn=5, _HLS_part=6)
    assert reload_url.endswith("?session=ab&_HLS_msn=5&_HLS_part=6")
