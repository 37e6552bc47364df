"""The LL-HLS player's fast paths (profiled: bench/README.md) give exactly what the standard library gives:
playlist URIs resolved as `urljoin` resolves them, reload URLs built as `with_query` always built them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ome_harness.playback.llhls_player import parse_media_playlist, resolver, with_query

# Characters that change how a reference resolves: separators, dot segments, schemes, params, escapes.
PIECES = st.text(alphabet="ab_0./?#:;%=&@ \t\n\x01é", max_size=12)
BASES = st.sampled_from(
    [
        "http://ome.example.net:3333/app/stream/chunklist_0_video_llhls.m3u8?session=25_7a44d2f2",
        "http://127.0.0.1:3333/app/stream/llhls.m3u8",
        "https://viewer:pw@[::1]:3334/app/stream/chunklist.m3u8#frag",
        "http://ome.example.net",
        "http://ome.example.net/",
        "http://h/a//b/c.m3u8",
        "http://h/a/./b/c.m3u8",
        "http://h/a;p/c.m3u8",
        "http://h/a/b/",
    ]
)


@settings(max_examples=400, deadline=None)
@given(base=BASES, reference=PIECES)
@example(base="http://h/app/stream/c.m3u8", reference="part_0_1_2.m4s?session=1")
@example(base="http://h/app/stream/c.m3u8", reference="a//b")  # urljoin drops empty segments
@example(base="http://h/app/stream/c.m3u8", reference="x/..")
@example(base="http://h/app/stream/c.m3u8", reference="a?")  # and an empty query
@example(base="http://h/app/stream/c.m3u8", reference="a?#b")
@example(base="http://h/app/stream/c.m3u8", reference=" a")  # and leading spaces
@example(base="http://h/app/stream/c.m3u8", reference="a\tb")  # and tabs
def test_a_playlist_uri_resolves_exactly_as_urljoin_resolves_it(base: str, reference: str) -> None:
    assert resolver(base)(reference) == urljoin(base, reference)


def test_the_parsed_playlist_keeps_the_session_of_every_uri() -> None:
    url = "http://127.0.0.1:3333/app/stream/chunklist_0_video_x_llhls.m3u8?session=9_ab"
    text = (
        '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-PART:DURATION=0.5,URI="part_0_4_0_x.m4s?session=9_ab"\n'
        '#EXTINF:2.0,\nseg_0_4_x.m4s?session=9_ab\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_0_5_0_x.m4s?session=9_ab"\n'
    )
    playlist = parse_media_playlist(text, url)
    assert playlist.parts[0][2] == "http://127.0.0.1:3333/app/stream/part_0_4_0_x.m4s?session=9_ab"
    assert playlist.segments == [(4, "http://127.0.0.1:3333/app/stream/seg_0_4_x.m4s?session=9_ab")]
    assert playlist.hint_uri == "http://127.0.0.1:3333/app/stream/part_0_5_0_x.m4s?session=9_ab"


def _with_query_by_the_book(url: str, **extra: object) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query += [(k, str(v)) for k, v in extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


@settings(max_examples=300, deadline=None)
@given(base=BASES, query=PIECES, msn=st.integers(0, 10**6), part=st.integers(0, 30))
def test_a_reload_url_is_built_as_the_standard_library_builds_it(
    base: str, query: str, msn: int, part: int
) -> None:
    url = f"{base.split('?')[0].split('#')[0]}?{query}"
    assert with_query(url, _HLS_msn=msn, _HLS_part=part) == _with_query_by_the_book(
        url, _HLS_msn=msn, _HLS_part=part
    )
    assert with_query(base, _HLS_msn=msn) == _with_query_by_the_book(base, _HLS_msn=msn)
