"""The LL-HLS player's playlist parser, made cheap for Locust's viewers (bench/README.md, issue 23), reads a
playlist exactly as the line-by-line parser it replaced read it; with `since` it reads the same playlist
without the parts before `since`; the load viewer fetches the same parts as before."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ome_harness.load.viewer import Answer, LlhlsFollower
from ome_harness.playback.llhls_player import MediaPlaylist, hint_position, parse_media_playlist, resolver

URL = "http://127.0.0.1:3333/app/stream/chunklist_0_video_llhls.m3u8?session=25_7a44d2f2"

# -- the parser as it was (line by line, every part resolved): the reference ------------------------------

_OME_PART = re.compile(r"(?:^|/)part_\d+_(\d+)_(\d+)_[^/]*$")


def _attribute(line: str, name: str) -> str | None:
    found = re.search(rf'(?:^|[:,]){name}=("([^"]*)"|[^,]*)', line)
    if not found:
        return None
    return found.group(2) if found.group(2) is not None else found.group(1)


def _hint_by_the_book(uri: str, open_msn: int, next_index: int) -> tuple[int, int]:
    named = _OME_PART.search(urlsplit(uri).path)
    if named is not None and (int(named.group(1)), int(named.group(2))) == (open_msn + 1, 0):
        return open_msn + 1, 0
    return open_msn, next_index


def _parse_by_the_lines(text: str, url: str) -> MediaPlaylist:
    playlist = MediaPlaylist()
    resolve = resolver(url)
    msn, index = None, 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-PART:"):
            position = msn if msn is not None else playlist.media_sequence
            uri, duration = _attribute(line, "URI"), _attribute(line, "DURATION")
            playlist.parts.append((position, index, resolve(uri or ""), float(duration or 0)))
            index += 1
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            playlist.media_sequence = msn = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            playlist.target_duration_s = float(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PART-INF:"):
            playlist.part_target_s = float(_attribute(line, "PART-TARGET") or 1.0)
        elif line.startswith("#EXT-X-SERVER-CONTROL:"):
            hold = _attribute(line, "PART-HOLD-BACK")
            playlist.part_hold_back_s = float(hold) if hold else 3 * playlist.part_target_s
            playlist.can_block_reload = _attribute(line, "CAN-BLOCK-RELOAD") == "YES"
        elif line.startswith("#EXT-X-PRELOAD-HINT:") and _attribute(line, "TYPE") == "PART":
            playlist.hint_uri = resolve(_attribute(line, "URI") or "")
            open_msn = msn if msn is not None else playlist.media_sequence
            playlist.hint = _hint_by_the_book(playlist.hint_uri, open_msn, index)
        elif line and not line.startswith("#"):
            position = msn if msn is not None else playlist.media_sequence
            playlist.segments.append((position, resolve(line)))
            msn, index = position + 1, 0
    playlist.first_part = playlist.parts[0][:2] if playlist.parts else None
    return playlist


# -- playlists as OME writes them, and as it might not --------------------------------------------------

URIS = st.sampled_from(["part_0_{m}_{i}_v_llhls.m4s?session=25_7a", "../x/part_0_{m}_{i}_v.m4s", "p.m4s",
                        "http://other:3333/app/part_1_{m}_{i}_a.m4s", "a b.m4s", "seg_0_{m}_v.m4s?s=1", ""])
NUMBERS = st.sampled_from(["0.5", "0.533000", "2", "1.599000", "6.0"])


@st.composite
def _line(draw: st.DrawFn) -> str:
    m, i = draw(st.integers(0, 30)), draw(st.integers(0, 8))
    uri = draw(URIS).format(m=m, i=i)
    number = draw(NUMBERS)
    return draw(st.sampled_from([
        f'#EXT-X-PART:DURATION={number},URI="{uri}"',
        f'#EXT-X-PART:DURATION={number},URI="{uri}",INDEPENDENT=YES',
        f'#EXT-X-PART:URI="{uri}",DURATION={number}',
        f'#EXT-X-PART:INDEPENDENT=YES,DURATION={number},URI="{uri}"',
        "#EXT-X-PART:", f"#EXT-X-MEDIA-SEQUENCE:{m}", f"#EXT-X-TARGETDURATION:{number}",
        f"#EXT-X-PART-INF:PART-TARGET={number}",
        f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={number}",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=NO", f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{uri}"',
        f'#EXT-X-PRELOAD-HINT:URI="{uri}",TYPE=PART', f'#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="{uri}"',
        f"#EXTINF:{number},", "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T21:03:15.737+00:00", uri or "seg.m4s",
        "#EXTM3U", "# a comment", "", "#EXT-X-PARTS:x", "#EXT-X-PART-INF", f'#EXT-X-MAP:URI="{uri}"',
    ]))


SPACE = st.sampled_from(["", "", "", " ", "\t", "  \t", "\xa0", "\x0c", "\x1f"])
BREAK = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\x0b", "\x1c", "\x85", "\u2028"])


@st.composite
def _playlist(draw: st.DrawFn) -> str:
    lines = draw(st.lists(_line(), max_size=40))
    return "".join(draw(SPACE) + line + draw(SPACE) + draw(BREAK) for line in lines)


_OME_LIKE = (
    "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n"
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.599000\n#EXT-X-PART-INF:PART-TARGET=0.533000\n"
    "#EXT-X-MEDIA-SEQUENCE:10\n" + "".join(
        "".join(f'#EXT-X-PART:DURATION=0.533000,URI="part_0_{m}_{i}_v_llhls.m4s?session=25_7a"\n'
                for i in range(4))
        + f"#EXTINF:2.000000,\nseg_0_{m}_v_llhls.m4s?session=25_7a\n" for m in range(10, 13))
    + '#EXT-X-PART:DURATION=0.533000,URI="part_0_13_0_v_llhls.m4s?session=25_7a",INDEPENDENT=YES\n'
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_13_1_v_llhls.m4s?session=25_7a"\n'
)


@settings(max_examples=400, deadline=None)
@given(text=_playlist())
@example(text=_OME_LIKE)
@example(text=_OME_LIKE.replace("\n", "\r\n"))
@example(text="  #EXT-X-MEDIA-SEQUENCE:4 \n\n \t#EXT-X-PART:URI=\"a.m4s\",DURATION=0.5  \n seg.m4s\t\n")
def test_a_playlist_is_read_as_the_line_by_line_parser_read_it(text: str) -> None:
    assert parse_media_playlist(text, URL) == _parse_by_the_lines(text, URL)


@settings(max_examples=300, deadline=None)
@given(text=_playlist(), since=st.tuples(st.integers(0, 32), st.integers(0, 9)))
@example(text=_OME_LIKE, since=(13, 0))
@example(text=_OME_LIKE, since=(11, 2))
def test_since_leaves_out_only_the_parts_before_it(text: str, since: tuple[int, int]) -> None:
    full = _parse_by_the_lines(text, URL)
    full.parts = [p for p in full.parts if (p[0], p[1]) >= since]
    assert parse_media_playlist(text, URL, since=since) == full


@settings(max_examples=300, deadline=None)
@given(uri=st.text(alphabet="ab_0123./?#:;%@ \thtps", max_size=30) | st.sampled_from(
    ["http://h:1/app/part_0_5_0_v.m4s?s=1#f", "https://h", "http://h?q", "HTTP://h/part_0_5_0_x",
     "part_0_5_0_x", "http://part_0_5_0_x?q"]))  # no path: urlsplit's path is empty, not the host
def test_a_hints_position_reads_the_path_as_urlsplit_does(uri: str) -> None:
    for open_msn, next_index in ((4, 3), (5, 1)):
        assert hint_position(uri, open_msn, next_index) == _hint_by_the_book(uri, open_msn, next_index)


# -- the load viewer with it ----------------------------------------------------------------------------

def _follower(playlists: list[str]) -> tuple[LlhlsFollower, list[tuple[str, str]]]:
    fetched: list[tuple[str, str]] = []
    answers = iter(playlists)

    def fetch(kind: str, url: str, _timeout_s: float) -> Answer:
        fetched.append((kind, url.rsplit("/", 1)[-1]))
        if kind == "blocking_reload":
            return Answer(200, next(answers).encode())
        return Answer(200, b"")

    clock = iter(n / 10 for n in range(1000))
    follower = LlhlsFollower("http://ome:3333/app/s/llhls.m3u8", fetch, sleep=lambda _s: None,
                             clock=lambda: next(clock))
    follower.media_url = "http://ome:3333/app/s/chunklist_0_video_llhls.m3u8?session=25_7a"
    follower.playlist = parse_media_playlist(_OME_LIKE, follower.media_url)
    return follower, fetched


def test_a_step_fetches_every_part_from_the_asked_one_on_and_asks_for_the_hinted_one_next() -> None:
    follower, fetched = _follower([_OME_LIKE])
    follower.next = (12, 2)
    follower.step()
    assert fetched[0][0] == "blocking_reload" and "_HLS_msn=12&_HLS_part=2" in fetched[0][1]
    assert fetched[1:] == [("part", f"part_0_{m}_{i}_v_llhls.m4s?session=25_7a")
                           for m, i in ((12, 2), (12, 3), (13, 0))]
    assert follower.counts.parts == 3 and follower.next == (13, 1) and follower.counts.resyncs == 0


def test_a_viewer_behind_the_window_goes_back_to_the_live_edge() -> None:
    follower, fetched = _follower([_OME_LIKE])
    follower.next = (9, 3)  # before the first listed part (10, 0)
    follower.step()
    assert follower.counts.resyncs == 1 and follower.counts.parts == 0
    assert fetched[1:] == [("segment", "seg_0_12_v_llhls.m4s?session=25_7a")]
    assert follower.next == (13, 1)
