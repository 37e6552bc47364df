"""A synchronous LL-HLS viewer that behaves like a player: master → media playlist → blocking reloads → parts.

Public surface (also used by the load tests):

    with LlhlsViewer(master_url) as viewer:
        for event in viewer.follow(window_s=10):        # or: viewer.open(); viewer.step() ...
            event.kind, event.latency_s, event.bytes, event.status, event.lateness_s

Rules it keeps, each from a captured fact (../shared/samples/v0.2x.0-media/playback/):
- URIs come from the master and the playlists, resolved against the URL that served them, never
  built: OME may put a session token in them, and a viewer that drops it is refused.
- Blocking reloads add `_HLS_msn`/`_HLS_part` to the playlist URI (keeping its query) and ask for the
  part the last playlist hinted (`EXT-X-PRELOAD-HINT`), as the capture's blocking reload does.
- A blocking reload has its own deadline: real OME never answers one asked far ahead (no answer in
  20 s, `llhls_blocking_reload_far_future.txt`), so a viewer without one would hang forever.
- Every request has a timeout; a failure is an event (status None, `error` set), never an exception
  from `step()`/`follow()`.
- A young stream (404, then `201 Created`, then held requests) is "not yet" for up to two segment
  durations + 2 s before the viewer calls it broken; the rules shared with Locust's viewer live in
  `ome_harness.playback.llhls_player`. `figures()` gives the time to the first playlist and part.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import m3u8

from ome_harness.playback.llhls_player import (
    StartFigures,
    hint_position,
    not_yet,
    until_first_playlist,
    with_query,
    young_stream_wait_s,
)

# Kinds of fetch event: the master and plain media playlist loads are "playlist".
KINDS = ("playlist", "blocking_reload", "init", "part", "segment")
DEFAULT_TIMEOUT_S = 5.0


class ViewerError(Exception):
    """The viewer could not start (master or media playlist unusable): one sentence saying why."""


@dataclass(frozen=True)
class FetchEvent:
    """One request the viewer made and what came back."""

    kind: str  # one of KINDS
    uri: str  # the path of the request, query removed (it may carry a session token)
    status: int | None  # None: no answer (timeout, refused connection)
    bytes: int
    latency_s: float  # request sent → body fully received (or gave up)
    at: float  # wall clock (time.time()) when the body was fully received
    # How much later than the stream's own cadence this came: for a blocking reload, the time held
    # beyond one part target; for a part, the time from the playlist announcing it to its download.
    lateness_s: float = 0.0
    error: str | None = None
    msn: int | None = None
    part: int | None = None
    body: bytes = field(default=b"", repr=False, compare=False)  # kept only with keep_media=True

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def held(self) -> bool:
        """No answer before the request's timeout (a server holding it), not a refused connection."""
        return self.status is None and (self.error or "").startswith("no answer within")


def _young_status(answer: tuple[FetchEvent, bytes]) -> int | None:
    """The status a young stream's rule judges: None only for a held request; a refused or broken
    connection (status None too) is 0, an answer about the server, not the stream's age."""
    event = answer[0]
    return event.status if event.status is not None or event.held else 0


@dataclass
class PlaylistView:
    """A parsed media playlist plus the raw text (the conformance checks quote its lines)."""

    url: str
    text: str
    playlist: m3u8.M3U8
    received_at: float


def _path_of(url: str) -> str:
    return urlsplit(url).path


def part_positions(playlist: m3u8.M3U8) -> list[tuple[int, int, str, float]]:
    """(msn, part index, absolute URI, duration) of every listed part, in order."""
    first = playlist.media_sequence or 0
    found = []
    for offset, segment in enumerate(playlist.segments):
        for index, part in enumerate(segment.parts):
            found.append((first + offset, index, part.absolute_uri, float(part.duration)))
    return found  # m3u8 keeps the open segment's parts on a last segment without a URI


def hinted_position(playlist: m3u8.M3U8) -> tuple[int, int] | None:
    """(msn, part) of the preload-hinted part: the open segment's next part index, or the next
    segment's part 0 where the hint's URI names it (OME at a segment's end)."""
    hint = playlist.preload_hint
    if hint is None or str(hint.hint_type).upper() != "PART":
        return None
    first = playlist.media_sequence or 0
    segments = playlist.segments
    if segments and segments[-1].uri is None:  # parts of the open segment
        open_msn, next_index = first + len(segments) - 1, len(segments[-1].parts)
        return hint_position(hint.absolute_uri or hint.uri, open_msn, next_index)
    return first + len(segments), 0


class LlhlsViewer:
    """Follows one LL-HLS stream like a player; see the module docstring for the API."""

    def __init__(self, master_url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 reload_deadline_s: float | None = None, fetch_segments: bool = True,
                 keep_media: bool = False, client: httpx.Client | None = None,
                 segment_s: float | None = None) -> None:
        self.master_url = master_url
        self.timeout_s = timeout_s
        # A young stream's first playlists may take two segment durations (+ 2 s); `segment_s` is the
        # app's LL-HLS segment duration where known, else OME's default.
        self.young_wait_s = max(timeout_s, young_stream_wait_s(segment_s))
        self.start = StartFigures(time.monotonic())
        self._reload_deadline_s = reload_deadline_s
        self.fetch_segments = fetch_segments
        self.keep_media = keep_media
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=True)
        self.media_url: str | None = None
        self.master_text = ""
        self.playlists: list[PlaylistView] = []  # every media playlist seen, in order
        self.events: list[FetchEvent] = []
        self.init_url: str | None = None
        self._fetched_parts: set[tuple[int, int]] = set()
        self._fetched_segments: set[int] = set()
        self._announced: dict[tuple[int, int], float] = {}
        self._next: tuple[int, int] | None = None
        self.unheld_reloads: list[FetchEvent] = []  # blocking reloads answered without the part asked for

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LlhlsViewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    @property
    def part_target_s(self) -> float:
        playlist = self.playlists[-1].playlist if self.playlists else None
        part_inf = playlist.part_inf if playlist is not None else None
        return float(part_inf.part_target) if part_inf and part_inf.part_target else 1.0

    @property
    def reload_deadline_s(self) -> float:
        """The viewer's own limit on one blocking reload (default: 3 part targets + 1 s of slack)."""
        if self._reload_deadline_s is not None:
            return self._reload_deadline_s
        return 3 * self.part_target_s + 1.0

    # -- requests --------------------------------------------------------------------------
    def _get(
        self,
        kind: str,
        url: str,
        *,
        timeout_s: float | None = None,
        msn: int | None = None,
        part: int | None = None,
        expected_s: float = 0.0,
        record: bool = True,
    ) -> tuple[FetchEvent, bytes]:
        started = time.monotonic()
        status: int | None = None
        body = b""
        error: str | None = None
        try:
            response = self.client.get(url, timeout=timeout_s or self.timeout_s)
            status, body = response.status_code, response.content
            if status != 200:
                error = f"HTTP {status}"
        except httpx.TimeoutException:
            error = f"no answer within {timeout_s or self.timeout_s:.1f} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency = time.monotonic() - started
        lateness = max(0.0, latency - expected_s) if kind == "blocking_reload" else 0.0
        if kind == "part" and msn is not None and part is not None and (msn, part) in self._announced:
            lateness = max(0.0, time.time() - self._announced[(msn, part)] - latency)
        event = FetchEvent(
            kind,
            _path_of(url),
            status,
            len(body),
            latency,
            time.time(),
            lateness,
            error,
            msn,
            part,
            body if self.keep_media and kind in ("init", "part", "segment") else b"",
        )
        if record:
            self.events.append(event)
        if kind == "part":
            self.start.seen("part", event.ok, time.monotonic())
        return event, body

    def _load_playlist(self, kind: str, url: str, answered: tuple[FetchEvent, bytes] | None = None,
                       **kw: object) -> tuple[FetchEvent, PlaylistView | None]:
        event, body = answered or self._get(kind, url, **kw)  # type: ignore[arg-type]
        if not event.ok:
            return event, None
        text = body.decode("utf-8", "replace")
        try:
            playlist = m3u8.loads(text, uri=url)
        except Exception as exc:  # m3u8 raises plain exceptions on malformed input
            return FetchEvent(kind, event.uri, event.status, event.bytes, event.latency_s, event.at,
                              event.lateness_s, f"unparsable playlist: {exc}"), None
        view = PlaylistView(url, text, playlist, event.at)
        self.playlists.append(view)
        for msn, index, _uri, _d in part_positions(playlist):
            self._announced.setdefault((msn, index), event.at)
        return event, view

    # -- player steps ----------------------------------------------------------------------
    def figures(self) -> dict[str, float]:
        """Seconds from the viewer's start to its first master, first media playlist and first part."""
        return self.start.figures()

    def _first_playlist(self, url: str, what: str) -> tuple[FetchEvent, bytes]:
        """The first answer with a playlist; 404, 201 and held requests are "not yet" for `young_wait_s`."""
        event, body = until_first_playlist(lambda timeout_s: self._get("playlist", url, timeout_s=timeout_s),
                                           _young_status, wait_s=self.young_wait_s)
        if not event.ok:
            said = "was not answered (held)" if event.held else f"answered {event.error or event.status}"
            young = (f" for {self.young_wait_s:.1f} s (a young stream is given 2 segment durations + 2 s; "
                     "404: OME does not know the stream, 201: created but not started, no answer: held)"
                     if not_yet(_young_status((event, body))) else "")
            raise ViewerError(f"{what} {said}{young}")
        return event, body

    def open(self) -> list[FetchEvent]:
        """Load the master, pick the first variant, load its playlist and init section."""
        self.start = StartFigures(time.monotonic())
        master_event, body = self._first_playlist(self.master_url,
                                                  f"the LL-HLS master at {_path_of(self.master_url)}")
        self.start.seen("master", True, time.monotonic())
        self.master_text = body.decode("utf-8", "replace")
        master = m3u8.loads(self.master_text, uri=self.master_url)
        if not master.playlists:
            raise ViewerError(f"the LL-HLS master at {_path_of(self.master_url)} lists no variant stream")
        # Resolve the URI the master gives (with its query: a session token), never rebuild it.
        self.media_url = urljoin(self.master_url, master.playlists[0].uri)
        events = [master_event]
        first = self._first_playlist(self.media_url, f"the media playlist {_path_of(self.media_url)}")
        event, view = self._load_playlist("playlist", self.media_url, answered=first)
        events.append(event)
        if view is None:
            raise ViewerError(f"the media playlist {event.uri} answered {event.error or event.status}")
        self.start.seen("playlist", True, time.monotonic())
        if view.playlist.segment_map:
            self.init_url = urljoin(self.media_url, view.playlist.segment_map[0].uri)
            events.append(self._get("init", self.init_url)[0])
        # Start at the live edge: the newest listed part, then follow what the hint announces.
        listed = part_positions(view.playlist)
        if listed:
            msn, index, uri, _ = listed[-1]
            events.append(self._get("part", uri, msn=msn, part=index)[0])
            self._fetched_parts.add((msn, index))
        self._next = hinted_position(view.playlist)
        return events

    def step(self) -> list[FetchEvent]:
        """One blocking reload for the hinted part, then fetch every new part and completed segment."""
        if self.media_url is None:
            return self.open()
        events: list[FetchEvent] = []
        playlist = self.playlists[-1].playlist
        can_block = bool(playlist.server_control and playlist.server_control.can_block_reload == "YES")
        if can_block and self._next is not None:
            msn, index = self._next
            url = with_query(self.media_url, _HLS_msn=msn, _HLS_part=index)
            event, view = self._load_playlist("blocking_reload", url, timeout_s=self.reload_deadline_s,
                                              msn=msn, part=index, expected_s=self.part_target_s)
        else:
            time.sleep(self.part_target_s)  # no blocking reload offered: reload at the part cadence
            event, view = self._load_playlist("playlist", self.media_url)
        events.append(event)
        if view is None:
            # A failed reload that came back at once: wait one part before asking again, not hammer.
            time.sleep(max(0.0, self.part_target_s - event.latency_s))
            return events
        if (
            event.kind == "blocking_reload"
            and self._next is not None
            and not self._lists(view.playlist, self._next)
        ):
            # Answered without the part asked for: the server does not hold the reload (CAN-BLOCK-RELOAD
            # not honoured; conformance names it). Pace like a plain reload instead of spinning.
            self.unheld_reloads.append(event)
            time.sleep(max(0.0, self.part_target_s - event.latency_s))
        events += self._fetch_new(view.playlist)
        hinted = hinted_position(view.playlist)
        if hinted is not None:
            self._next = hinted
        return events

    @staticmethod
    def _lists(playlist: m3u8.M3U8, position: tuple[int, int]) -> bool:
        """Whether the playlist lists that part, or a later one (a closed segment lists all of its own)."""
        listed = [(m, p) for m, p, _, _ in part_positions(playlist)]
        first = playlist.media_sequence or 0
        closed = {first + i for i, s in enumerate(playlist.segments) if s.uri}
        return position[0] in closed or any(p >= position for p in listed)

    def _fetch_new(self, playlist: m3u8.M3U8) -> list[FetchEvent]:
        events = []
        for msn, index, uri, _duration in part_positions(playlist):
            if (msn, index) in self._fetched_parts or self._before_start(msn, index):
                continue
            self._fetched_parts.add((msn, index))
            events.append(self._get("part", uri, msn=msn, part=index)[0])
        if self.fetch_segments:
            first = playlist.media_sequence or 0
            for offset, segment in enumerate(playlist.segments):
                msn = first + offset
                if segment.uri and msn not in self._fetched_segments and self._followed(msn):
                    self._fetched_segments.add(msn)
                    events.append(self._get("segment", segment.absolute_uri, msn=msn)[0])
        return events

    def _before_start(self, msn: int, index: int) -> bool:
        start = min(self._fetched_parts) if self._fetched_parts else None
        return start is not None and (msn, index) < start

    def _followed(self, msn: int) -> bool:
        """A segment is fetched once the viewer has followed its parts (not the backlog before joining)."""
        return any(m == msn for m, _ in self._fetched_parts) and msn >= min(self._fetched_parts)[0] + 1

    def probe_reload(self, msn: int, part: int, deadline_s: float) -> FetchEvent:
        """One blocking reload for any (msn, part), kept out of `events` (a probe, not playback)."""
        assert self.media_url is not None, "open() first"
        url = with_query(self.media_url, _HLS_msn=msn, _HLS_part=part)
        return self._get("blocking_reload", url, timeout_s=deadline_s, msn=msn, part=part, record=False)[0]

    def follow(self, window_s: float) -> Iterator[FetchEvent]:
        """Open (if needed) and step for `window_s` seconds, yielding every fetch event as it happens."""
        if self.media_url is None:
            yield from self.open()
        ends = time.monotonic() + window_s
        while time.monotonic() < ends:
            yield from self.step()

    def watch(self, window_s: float) -> list[FetchEvent]:
        """`follow` collected into a list."""
        return list(self.follow(window_s))
