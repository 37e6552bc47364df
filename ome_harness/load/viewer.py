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

- A young stream answers 404, then `201 Created`, then holds the first playlists: "not yet" for two
  segment durations + 2 s (the rules shared with the playback viewer: ome_harness.playback.llhls_player).

Stall: a player starting at the live edge holds about PART-HOLD-BACK of media. A part that arrives later
than the media before it lasts (plus that hold-back) means the player ran dry: one stall, and its clock
restarts from that part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ome_harness.playback.llhls_player import (
    MediaPlaylist,
    StartFigures,
    first_variant,
    next_to_ask,
    parse_media_playlist,
    until_first_playlist,
    with_query,
    young_stream_wait_s,
)

__all__ = ["Answer", "Fetch", "LlhlsFollower", "MediaPlaylist", "ViewerCounts", "first_variant",
           "parse_media_playlist", "with_query"]

# "first_playlist": a viewer's first master and media playlist, which a young stream answers 404, 201 or
# holds for up to two segment durations (its latency is the stream's age, not the server's speed).
KINDS = ("first_playlist", "playlist", "blocking_reload", "part", "segment")


@dataclass(frozen=True)
class Answer:
    """What `fetch` returns: the status (None: no answer) and the body."""

    status: int | None
    body: bytes = b""


# fetch(kind, url, timeout_s) -> Answer. The caller records latency, bytes and failures per kind.
Fetch = Callable[[str, str, float], Answer]


@dataclass
class ViewerCounts:
    """What the viewer itself saw, beyond per-request latency (which the fetch caller records)."""

    parts: int = 0
    stalls: int = 0
    resyncs: int = 0
    # Seconds from the viewer's start to its first media playlist and first part (None: not yet).
    first_playlist_s: float | None = None
    first_part_s: float | None = None


class LlhlsFollower:
    """One viewer: `start()` once, then `step()` until the run ends; neither raises on a bad answer."""

    def __init__(self, master_url: str, fetch: Fetch, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, timeout_s: float = 5.0,
                 segment_s: float | None = None) -> None:
        self.master_url, self._fetch, self._sleep, self._clock = master_url, fetch, sleep, clock
        self.timeout_s = timeout_s
        # A young stream's first playlists may take two segment durations + 2 s (the app's, where known).
        self.young_wait_s = max(timeout_s, young_stream_wait_s(segment_s))
        self.start_figures = StartFigures(clock())
        self.media_url: str | None = None
        self.playlist: MediaPlaylist | None = None
        self.next: tuple[int, int] | None = None
        self.counts = ViewerCounts()
        self._clock_start: float | None = None  # when the viewer's first part (since a stall) arrived
        self._media_s = 0.0  # media received since then

    def _first(self, url: str) -> Answer:
        """A first playlist: 404, 201 and a held request are "not yet" for `young_wait_s`, never parsed."""
        return until_first_playlist(lambda timeout_s: self._fetch("first_playlist", url, timeout_s),
                                    lambda answer: answer.status, wait_s=self.young_wait_s,
                                    sleep=self._sleep, clock=self._clock)

    def start(self) -> bool:
        """Master → media playlist → the last complete segment; False when the stream is not playable."""
        master = self._first(self.master_url)
        if master.status != 200:
            return False
        self.media_url = first_variant(master.body.decode("utf-8", "replace"), self.master_url)
        if self.media_url is None:
            return False
        answer = self._first(self.media_url)
        if answer.status != 200:
            return False
        self.start_figures.seen("playlist", True, self._clock())
        self.counts.first_playlist_s = self.start_figures.figures().get("time_to_first_playlist_s")
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
        # Only the parts from the asked one on are read and resolved (the others are counted): they are
        # the ones this viewer fetches, and parsing is most of the viewer's own CPU (bench/README.md).
        text = answer.body.decode("utf-8", "replace")
        playlist = parse_media_playlist(text, self.media_url, since=self.next)
        self.playlist = playlist
        fresh = playlist.parts
        if playlist.first_part is not None and self.next < playlist.first_part:
            self.counts.resyncs += 1  # fell out of the window: a player would jump to the live edge
            self._join_live_edge(playlist)  # every listed part is at or after `since`: all were read
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
        self.next = next_to_ask(playlist)
        self._clock_start, self._media_s = None, 0.0

    def _account(self, duration: float) -> None:
        now = self._clock()
        self.counts.parts += 1
        if self.counts.first_part_s is None:
            self.start_figures.seen("part", True, now)
            self.counts.first_part_s = self.start_figures.figures().get("time_to_first_part_s")
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
