"""A minimal LL-HLS viewer: follows the playlist with blocking reloads and fetches parts in real time.

No HTTP library here: the viewer is given a `fetch` callable (in Locust, the user's HttpSession), a
`sleep` and a clock, so the same logic runs under gevent in Locust and in plain tests.

Rules it keeps, from the captured OME playback (../shared/samples/v0.2x.0-media/playback/):
- URIs come from the master and the playlists, resolved against the URL that served them (OME may put a
  session in them).
- A reload asks for the next part (`_HLS_msn`/`_HLS_part`, llhls_blocking_reload.m3u8.http) and has a
  deadline: OME never answers a reload asked far ahead (llhls_blocking_reload_far_future.txt).
- A server that answers a reload at once without the asked part (the emulator does) is not polled in a
  tight loop: the viewer waits half a part target before asking again.

Stall: a player starting at the live edge holds about PART-HOLD-BACK of media. A part that arrives later
than the media before it lasts (plus that hold-back) means the player ran dry: one stall, and its clock
restarts from that part.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

KINDS = ("playlist", "blocking_reload", "part", "segment")


@dataclass(frozen=True)
class Answer:
    """What `fetch` returns: the status (None: no answer) and the body."""

    status: int | None
    body: bytes = b""


# fetch(kind, url, timeout_s) -> Answer. The caller records latency, bytes and failures per kind.
Fetch = Callable[[str, str, float], Answer]


@dataclass
class MediaPlaylist:
    media_sequence: int = 0
    part_target_s: float = 1.0
    part_hold_back_s: float = 3.0
    # (msn, part index, absolute URI, duration) of every listed part, in order
    parts: list[tuple[int, int, str, float]] = field(default_factory=list)
    # (msn, absolute URI) of every complete segment
    segments: list[tuple[int, str]] = field(default_factory=list)
    hint: tuple[int, int] | None = None  # (msn, part) the EXT-X-PRELOAD-HINT names


def _attribute(line: str, name: str) -> str | None:
    found = re.search(rf'(?:^|[:,]){name}=("([^"]*)"|[^,]*)', line)
    if not found:
        return None
    return found.group(2) if found.group(2) is not None else found.group(1)


def parse_media_playlist(text: str, url: str) -> MediaPlaylist:
    """The parts, segments and preload hint of an LL-HLS media playlist (RFC 8216bis tags)."""
    playlist = MediaPlaylist()
    msn, index = None, 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            playlist.media_sequence = msn = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PART-INF:"):
            playlist.part_target_s = float(_attribute(line, "PART-TARGET") or 1.0)
        elif line.startswith("#EXT-X-SERVER-CONTROL:"):
            hold = _attribute(line, "PART-HOLD-BACK")
            playlist.part_hold_back_s = float(hold) if hold else 3 * playlist.part_target_s
        elif line.startswith("#EXT-X-PART:"):
            position = msn if msn is not None else playlist.media_sequence
            playlist.parts.append((position, index, urljoin(url, _attribute(line, "URI") or ""),
                                   float(_attribute(line, "DURATION") or 0)))
            index += 1
        elif line.startswith("#EXT-X-PRELOAD-HINT:") and _attribute(line, "TYPE") == "PART":
            playlist.hint = (msn if msn is not None else playlist.media_sequence, index)
        elif line and not line.startswith("#"):
            position = msn if msn is not None else playlist.media_sequence
            playlist.segments.append((position, urljoin(url, line)))
            msn, index = position + 1, 0
    return playlist


def first_variant(text: str, url: str) -> str | None:
    """The first media playlist a master names (a media playlist is its own first variant)."""
    if "#EXT-X-TARGETDURATION" in text:
        return url
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF") and number + 1 < len(lines):
            return urljoin(url, lines[number + 1])
    return None


def with_query(url: str, **extra: object) -> str:
    """The URL with `extra` added to (not replacing) its own query: a session token stays."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query += [(k, str(v)) for k, v in extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class ViewerCounts:
    """What the viewer itself saw, beyond per-request latency (which the fetch caller records)."""

    parts: int = 0
    stalls: int = 0
    resyncs: int = 0


class LlhlsFollower:
    """One viewer: `start()` once, then `step()` until the run ends; neither raises on a bad answer."""

    def __init__(self, master_url: str, fetch: Fetch, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, timeout_s: float = 5.0) -> None:
        self.master_url, self._fetch, self._sleep, self._clock = master_url, fetch, sleep, clock
        self.timeout_s = timeout_s
        self.media_url: str | None = None
        self.playlist: MediaPlaylist | None = None
        self.next: tuple[int, int] | None = None
        self.counts = ViewerCounts()
        self._clock_start: float | None = None  # when the viewer's first part (since a stall) arrived
        self._media_s = 0.0  # media received since then

    def start(self) -> bool:
        """Master → media playlist → the last complete segment; False when the stream is not playable."""
        master = self._fetch("playlist", self.master_url, self.timeout_s)
        if master.status != 200:
            return False
        self.media_url = first_variant(master.body.decode("utf-8", "replace"), self.master_url)
        if self.media_url is None:
            return False
        answer = self._fetch("playlist", self.media_url, self.timeout_s)
        if answer.status != 200:
            return False
        self._join_live_edge(parse_media_playlist(answer.body.decode("utf-8", "replace"), self.media_url))
        return True

    def step(self) -> None:
        """One blocking reload for the next part, then every new part it lists, each when it is due."""
        if self.media_url is None or self.playlist is None or self.next is None:
            if not self.start():
                self._sleep(1.0)  # the stream is not there (yet): ask again in a second, not at once
            return
        msn, part = self.next
        target = self.playlist.part_target_s
        reload_url = with_query(self.media_url, _HLS_msn=msn, _HLS_part=part)
        answer = self._fetch("blocking_reload", reload_url, 3 * target + self.timeout_s)
        if answer.status != 200:
            self._sleep(target)
            return
        playlist = parse_media_playlist(answer.body.decode("utf-8", "replace"), self.media_url)
        self.playlist = playlist
        fresh = [p for p in playlist.parts if (p[0], p[1]) >= self.next]
        if playlist.parts and self.next < playlist.parts[0][:2]:
            self.counts.resyncs += 1  # fell out of the window: a player would jump to the live edge
            self._join_live_edge(playlist)
            return
        if not fresh:
            self._sleep(target / 2)  # answered without the asked part: the server does not block
            return
        for msn_, index, uri, duration in fresh:
            if self._fetch("part", uri, self.timeout_s).status == 200:
                self._account(duration)
            self.next = (msn_, index + 1)
        if playlist.hint is not None and playlist.hint > self.next:
            self.next = playlist.hint

    def _join_live_edge(self, playlist: MediaPlaylist) -> None:
        self.playlist = playlist
        if playlist.segments:
            self._fetch("segment", playlist.segments[-1][1], self.timeout_s)
        if playlist.hint is not None:
            self.next = playlist.hint
        elif playlist.parts:
            last = playlist.parts[-1]
            self.next = (last[0], last[1] + 1)
        else:
            self.next = None
        self._clock_start, self._media_s = None, 0.0

    def _account(self, duration: float) -> None:
        now = self._clock()
        self.counts.parts += 1
        if self._clock_start is None:
            self._clock_start, self._media_s = now, duration
            return
        assert self.playlist is not None
        lateness = now - (self._clock_start + self._media_s)
        if lateness > self.playlist.part_hold_back_s:
            self.counts.stalls += 1
            self._clock_start, self._media_s = now, duration
        else:
            self._media_s += duration
