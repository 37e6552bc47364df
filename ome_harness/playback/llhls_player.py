"""What an LL-HLS player reads and decides, without any HTTP: shared by both viewers.

`ome_harness.playback.llhls_viewer` (httpx, the playback checks) and `ome_harness.load.viewer` (Locust's
viewer, under gevent) both follow a stream by these rules, so a rule learnt from a real OME is kept
once. Standard library only: Locust's processes import it.

Facts it keeps (../shared/samples/v0.2x.0-media/playback/, ../shared/ome-api.md "LL-HLS for a viewer
that joins early"):
- URIs come from the master and the playlists, resolved against the URL that served them, never
  built: OME may put a session token in them.
- A young stream: OME answers `404` before it knows the stream, `201 Created` with an empty body while
  it is created but not started, then HOLDS master and chunklist requests until each track has
  finished a segment (the first chunklists one segment later): all "not yet", never a playlist to
  parse. A viewer gives its first playlists about two segment durations + 2 s (`young_stream_wait_s`).
- At a segment's end OME's preload hint names the NEXT segment's part 0 while the current segment's
  last part is listed without its EXTINF (llhls_preload_hint_at_segment_end.m3u8): the hinted
  position is the one its URI names, not "one more part in this segment".
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# OME's default application: 6 s segments (ome-api.md); used when the app's config is not known.
DEFAULT_SEGMENT_S = 6.0
# Statuses a young stream answers before its first playlist: not known yet (404), created but not
# started (201, empty body). Anything else that is not 200 is an answer about a broken stream.
NOT_YET_STATUSES = frozenset({404, 201})
# How often a viewer asks again after a "not yet" answered at once (the captures asked every 0.25 s).
RETRY_S = 0.25
# OME names parts `part_<track>_<msn>_<index>_...` (every captured playlist).
_OME_PART = re.compile(r"(?:^|/)part_\d+_(\d+)_(\d+)_[^/]*$")

T = TypeVar("T")


def young_stream_wait_s(segment_s: float | None) -> float:
    """How long a viewer waits for a young stream's first playlists: 2 segment durations + 2 s.

    Real OME answers the first chunklist ~2 segments after the publish began (13.0 s with 6 s segments,
    llhls_warmup_timeline.txt); a 5 s timeout fails a healthy OME. `segment_s`: the app's LL-HLS
    segment duration where known (its config), else OME's default.
    """
    return 2 * (segment_s or DEFAULT_SEGMENT_S) + 2.0


def not_yet(status: int | None) -> bool:
    """Whether an answer to a first playlist request means "the stream is young", not "broken".

    None is a request that was held until the viewer's own timeout (OME holds, never refuses).
    """
    return status is None or status in NOT_YET_STATUSES


def until_first_playlist(attempt: Callable[[float], T], status_of: Callable[[T], int | None], *,
                         wait_s: float, sleep: Callable[[float], None] = time.sleep,
                         clock: Callable[[], float] = time.monotonic, retry_s: float = RETRY_S) -> T:
    """Ask (`attempt(timeout_s)`) until a playlist (200) or an answer that is not "not yet" comes, or
    `wait_s` passes; returns the last attempt's result.

    Each attempt may be held up to what is left of `wait_s` (OME answers held requests together once
    the stream is ready); a "not yet" answered at once is asked again after `retry_s`, never parsed.
    The sleep and clock are given so that Locust's viewer runs this under gevent.
    """
    ends = clock() + wait_s
    while True:
        result = attempt(max(0.1, ends - clock()))
        status = status_of(result)
        if status == 200 or not not_yet(status) or clock() >= ends - 0.05:
            return result
        sleep(min(retry_s, max(0.0, ends - clock())))


@dataclass
class StartFigures:
    """When the viewer started, and when it got its first playlist and first part (monotonic clock)."""

    started: float
    first_master: float | None = None
    first_playlist: float | None = None  # the first media playlist (what a player needs to play)
    first_part: float | None = None

    def seen(self, kind: str, ok: bool, at: float) -> None:
        """Record one fetch: `kind` is "master", "playlist" (a media playlist) or "part"."""
        if not ok:
            return
        name = {"master": "first_master", "playlist": "first_playlist", "part": "first_part"}.get(kind)
        if name is not None and getattr(self, name) is None:
            setattr(self, name, at)

    def figures(self) -> dict[str, float]:
        """Seconds from the start to each first, for the ones that came (rounded to ms)."""
        found = {"time_to_first_master_s": self.first_master, "time_to_first_playlist_s": self.first_playlist,
                 "time_to_first_part_s": self.first_part}
        return {k: round(v - self.started, 3) for k, v in found.items() if v is not None}


@dataclass
class MediaPlaylist:
    media_sequence: int = 0
    part_target_s: float = 1.0
    part_hold_back_s: float = 3.0
    target_duration_s: float | None = None
    can_block_reload: bool = False
    # (msn, part index, absolute URI, duration) of every listed part in order (parsed with `since`: of
    # those at or after it only; the others are counted, never resolved)
    parts: list[tuple[int, int, str, float]] = field(default_factory=list)
    first_part: tuple[int, int] | None = None  # (msn, part index) of the first listed part
    # (msn, absolute URI) of every complete segment
    segments: list[tuple[int, str]] = field(default_factory=list)
    hint: tuple[int, int] | None = None  # (msn, part) the EXT-X-PRELOAD-HINT names
    hint_uri: str | None = None  # its absolute URI


_ATTRIBUTE_PATTERNS: dict[str, re.Pattern[str]] = {}


def _attribute(line: str, name: str) -> str | None:
    pattern = _ATTRIBUTE_PATTERNS.get(name)
    if pattern is None:  # compiled once per name: Locust's viewers parse a playlist on every reload
        pattern = _ATTRIBUTE_PATTERNS[name] = re.compile(rf'(?:^|[:,]){name}=("([^"]*)"|[^,]*)')
    found = pattern.search(line)
    if not found:
        return None
    return found.group(2) if found.group(2) is not None else found.group(1)


def resolver(url: str) -> Callable[[str], str]:
    """`urljoin(url, ·)` for the references of one playlist, the common case done without urljoin.

    A plain relative path (`part_0_12_3_video_llhls.m4s?session=...`, every URI OME writes) resolves to
    the base's folder + the reference (RFC 3986 5.2.2); anything else (a scheme, `/`, `?` first or last,
    `#`, dot segments, `//`, `;`, spaces or control characters that urljoin strips, an empty reference)
    goes to urljoin. urljoin was 60 % of parsing a playlist, which
    each of Locust's viewers does on every blocking reload (profiled: bench/README.md).
    """
    head = url.split("#", 1)[0].split("?", 1)[0]
    authority = head.find("://") + 3
    slash = head.rfind("/")
    path = head[authority:]
    if authority < 3 or slash < authority or "//" in path or "/." in path or ";" in path:
        return lambda reference: urljoin(url, reference)
    folder = head[: slash + 1]

    def resolve(reference: str) -> str:
        if (not reference or reference[0] in "/?." or reference[0] <= " " or not reference.isprintable()
                or reference[-1] == "?" or "#" in reference
                or ":" in reference or "/." in reference or "//" in reference or ";" in reference):
            return urljoin(url, reference)
        return folder + reference

    return resolve


def _path(uri: str) -> str:
    """`urlsplit(uri).path`, the common case (an http(s) URI, or a relative one without a colon) done without
    urlsplit: a new URI on every reload misses urlsplit's cache (profiled under Locust: bench/README.md)."""
    head = uri.split("#", 1)[0].split("?", 1)[0]
    if ":" not in head:
        return head
    if head.startswith(("http://", "https://")):
        slash = head.find("/", head.index("//") + 2)
        return head[slash:] if slash >= 0 else ""
    return urlsplit(uri).path


def hint_position(uri: str, open_msn: int, next_index: int) -> tuple[int, int]:
    """The (msn, part) a preload hint names: the next part of the open segment, or — at a segment's
    end, when the hint's URI says so as OME's does — the next segment's part 0."""
    named = _OME_PART.search(_path(uri))
    if named is not None:
        position = (int(named.group(1)), int(named.group(2)))
        if position == (open_msn + 1, 0):
            return position
    return open_msn, next_index


# The lines a viewer reads, found in one pass (the others, EXTINF and PROGRAM-DATE-TIME among them, are
# skipped in C): (tag, its value) or a URI line. A line's leading whitespace is skipped (blank lines
# too), its end is the line's end; the parser strips the value where it matters.
_LINES = re.compile(
    r"^\s*(?:#EXT-X-(PART|MEDIA-SEQUENCE|TARGETDURATION|PART-INF|SERVER-CONTROL|PRELOAD-HINT):(.*)|([^#\s].*))",
    re.M,
)
# Line breaks str.splitlines() knows and a multi-line pattern does not (the others are not ASCII): a
# playlist with one is rewritten with "\n" first, so every playlist is read as splitlines() splits it.
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
# OME's part line (DURATION first, then URI: every captured playlist), its value read in one match; any
# other order goes through _attribute, with the same result.
_PART_VALUE = re.compile(r'DURATION=([0-9.]+),URI="([^"]*)"')


def parse_media_playlist(text: str, url: str, since: tuple[int, int] | None = None) -> MediaPlaylist:
    """The parts, segments and preload hint of an LL-HLS media playlist (RFC 8216bis tags).

    `since`: the (msn, part) a viewer goes on from. Parts before it are counted (the positions after them
    and `first_part` stay right) but not read further nor resolved: Locust's viewers parse a playlist on
    every blocking reload and fetch one or two of its ~20 parts (bench/README.md).
    """
    if not text.isascii() or any(other in text for other in _OTHER_BREAKS):
        text = "\n".join(text.splitlines())
    playlist = MediaPlaylist()
    resolve = resolver(url)
    parts = playlist.parts
    msn, index = None, 0
    for tag, value, uri_line in _LINES.findall(text):
        if tag == "PART":  # first: most lines of a playlist are parts
            position = msn if msn is not None else playlist.media_sequence
            if playlist.first_part is None:
                playlist.first_part = (position, index)
            if since is None or (position, index) >= since:
                common = _PART_VALUE.match(value)
                if common:
                    duration, uri = common.groups()
                else:
                    value = value.rstrip()
                    uri, duration = _attribute(value, "URI"), _attribute(value, "DURATION")
                parts.append((position, index, resolve(uri or ""), float(duration or 0)))
            index += 1
        elif uri_line:
            position = msn if msn is not None else playlist.media_sequence
            playlist.segments.append((position, resolve(uri_line.rstrip())))
            msn, index = position + 1, 0
        else:
            value = value.rstrip()
            if tag == "MEDIA-SEQUENCE":
                playlist.media_sequence = msn = int(value)
            elif tag == "TARGETDURATION":
                playlist.target_duration_s = float(value)
            elif tag == "PART-INF":
                playlist.part_target_s = float(_attribute(value, "PART-TARGET") or 1.0)
            elif tag == "SERVER-CONTROL":
                hold = _attribute(value, "PART-HOLD-BACK")
                playlist.part_hold_back_s = float(hold) if hold else 3 * playlist.part_target_s
                playlist.can_block_reload = _attribute(value, "CAN-BLOCK-RELOAD") == "YES"
            elif tag == "PRELOAD-HINT" and _attribute(value, "TYPE") == "PART":
                playlist.hint_uri = resolve(_attribute(value, "URI") or "")
                open_msn = msn if msn is not None else playlist.media_sequence
                playlist.hint = hint_position(playlist.hint_uri, open_msn, index)
    return playlist


def next_to_ask(playlist: MediaPlaylist) -> tuple[int, int] | None:
    """The part the next blocking reload asks for: the hinted one, else the one after the last listed."""
    if playlist.hint is not None:
        return playlist.hint
    if playlist.parts:
        msn, index = playlist.parts[-1][:2]
        return msn, index + 1
    return None


def first_variant(text: str, url: str) -> str | None:
    """The first media playlist a master names (a media playlist is its own first variant)."""
    if "#EXT-X-TARGETDURATION" in text:
        return url
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF") and number + 1 < len(lines):
            return urljoin(url, lines[number + 1])
    return None


# A key urlencode leaves as it is (its safe characters): `_HLS_msn`, `_HLS_part`.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~-]+")


def with_query(url: str, **extra: object) -> str:
    """The URL with `extra` added to (not replacing) its own query: a session token stays."""
    head, kept, fragment = _query_base(url, frozenset(extra))
    if all(type(v) is int and _PLAIN_KEY.fullmatch(k) for k, v in extra.items()):
        added = "&".join(f"{k}={v}" for k, v in extra.items())  # what urlencode writes for these
    else:
        added = urlencode([(k, str(v)) for k, v in extra.items()])
    query = "&".join(q for q in (kept, added) if q)
    return head + ("?" + query if query else "") + ("#" + fragment if fragment else "")


@functools.lru_cache(maxsize=256)
def _query_base(url: str, replaced: frozenset[str]) -> tuple[str, str, str]:
    """(the URL without query and fragment, its query without `replaced` keys, its fragment): a viewer
    asks the same media playlist on every blocking reload, only `_HLS_msn`/`_HLS_part` change."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in replaced]
    return urlunsplit(parts._replace(query="", fragment="")), urlencode(kept), parts.fragment
