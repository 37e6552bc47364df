"""Mutating procedures on the viewer's side: LL-HLS of a warm stream, and the timeline of a young one.

Facts they ask about: playback/llhls_*.http (master, chunklist, blocking reload, part and hinted part
headers, the far-future reload OME never answers), llhls_preload_hint_at_segment_end.m3u8 and the
young stream's timeline (llhls_warmup_timeline.txt: 404, one 201, then held answers).
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import httpx

from ome_harness.recording.model import TimelineEntry
from ome_harness.recording.procedures.publishing import first_chunklist_url
from ome_harness.recording.session import ProcedureStopped, Session

MASTER_DEADLINE_S = 20.0
FAR_FUTURE_WAIT_S = 8.0  # the capture's client gave up after 20 s; 8 s shows the same (held, no 400)
WARMUP_WINDOW_S = 10.0
WARMUP_INTERVAL_S = 0.25
WARMUP_REQUEST_TIMEOUT_S = 15.0
_PART = re.compile(r'#EXT-X-PART:.*URI="(?P<uri>[^"]+)"')
_HINT = re.compile(r'#EXT-X-PRELOAD-HINT:.*URI="(?P<uri>[^"]+)"')
_MSN = re.compile(r"#EXT-X-MEDIA-SEQUENCE:(\d+)")


def _wait_master(s: Session, url: str) -> str:
    """The master once OME serves it (a young stream's first seconds are 404, then held)."""
    started = time.monotonic()
    while time.monotonic() - started < min(MASTER_DEADLINE_S, s.left()):
        answer = s.media("master", url, timeout_s=12.0, keep=False)
        if answer.status == 200:
            return answer.body
        time.sleep(0.5)
    raise ProcedureStopped(f"the master playlist was not served within {MASTER_DEADLINE_S:g} s of publishing")


def newest_position(chunklist: str) -> tuple[int, int] | None:
    """(msn, part index) of the newest listed part, counted as OME's URIs do (their own part numbers)."""
    parts = _PART.findall(chunklist)
    if not parts:
        return None
    segments = chunklist.count("#EXTINF")
    msn_start = int(m.group(1)) if (m := _MSN.search(chunklist)) else 0
    # Parts after the last EXTINF belong to the segment being built; count them.
    tail = chunklist.rsplit("#EXTINF", 1)[-1]
    open_parts = len(_PART.findall(tail)) if segments else len(parts)
    if open_parts:
        return msn_start + segments, open_parts - 1
    return msn_start + segments - 1, len(_PART.findall(chunklist.rsplit("#EXTINF", 2)[-2])) - 1


def reload_url(chunklist_url: str, msn: int, part: int) -> str:
    base = chunklist_url.split("?", 1)[0]
    return f"{base}?_HLS_msn={msn}&_HLS_part={part}"


def llhls_playlists(s: Session) -> None:
    """master, chunklist, blocking reload of the next part, a part's and the hinted part's headers, the
    far-future reload, and the chunklist when the newest part closes a segment with the reload across."""
    from ome_harness.recording.procedures.publishing import start_and_wait_listed

    stream = start_and_wait_listed(s, "live-stream-listed")
    master_url = s.target.llhls_url(stream)
    _wait_master(s, master_url)
    master = s.media("master", master_url)
    chunklist_url = first_chunklist_url(master_url, master.body)
    if not chunklist_url:
        raise ProcedureStopped("the master playlist names no chunklist")
    chunklist = s.media("chunklist", chunklist_url, timeout_s=12.0)
    position = newest_position(chunklist.body)
    if position is None:
        raise ProcedureStopped("the chunklist lists no parts")
    msn, part = position
    reload = s.media("blocking-reload", reload_url(chunklist_url, msn, part + 1), timeout_s=5.0)
    newest = _PART.findall(reload.body or chunklist.body)
    if newest:
        s.media("part", urljoin(chunklist_url, newest[-1]))
    hint = _HINT.search(reload.body or chunklist.body)
    if hint:
        s.media("preload-hint", urljoin(chunklist_url, hint.group("uri")), timeout_s=5.0)
    s.media("far-future-reload", reload_url(chunklist_url, msn + 50, 0), timeout_s=FAR_FUTURE_WAIT_S)
    _segment_end(s, chunklist_url)


def _segment_end(s: Session, chunklist_url: str) -> None:
    """Reload part by part until the newest part is a segment's last: the hint then names the next
    segment's part 0 and no EXTINF closes the segment yet (llhls_preload_hint_at_segment_end.m3u8); then
    the reload for that hinted part (llhls_blocking_reload_across_segment.m3u8.http)."""
    per_segment = max(1, round(s.segment_s / s.part_s))
    current = s.media("segment-end-probe", chunklist_url, keep=False)
    for _ in range(2 * per_segment + 2):
        position = newest_position(current.body)
        if position is None or s.left() < 6:
            return
        msn, part = position
        if part == per_segment - 1:
            current.key = f"{s.procedure}/segment-end-chunklist"
            s.recording.add(current)
            s.media("blocking-reload-across-segment", reload_url(chunklist_url, msn + 1, 0), timeout_s=5.0)
            return
        current = s.media(
            "segment-end-probe", reload_url(chunklist_url, msn, part + 1), timeout_s=5.0, keep=False
        )


def llhls_warmup(s: Session) -> None:
    """A fresh publish at t=0; the master every 0.25 s and, once a master answered 200, the first chunklist
    every 0.25 s, each request on its own (held ones overlap): when each was sent and answered."""
    stream = s.new_stream_name()
    master_url = s.target.llhls_url(stream)
    entries: list[TimelineEntry] = []
    lock = threading.Lock()
    chunklist: list[str] = []
    client = s.stack.enter_context(
        httpx.Client(timeout=WARMUP_REQUEST_TIMEOUT_S, limits=httpx.Limits(max_connections=200))
    )
    # On an interruption the client closes first: requests in flight end at once.
    pool = s.stack.enter_context(ThreadPoolExecutor(max_workers=100, thread_name_prefix="omh-warmup"))
    s.stack.callback(client.close)

    def fetch(series: str, url: str, sent: float, t0: float) -> None:
        status, extra = None, ""
        try:
            answer = client.get(url)
            status = answer.status_code
            if series == "master" and status == 200 and not chunklist:
                chunklist.append(first_chunklist_url(master_url, answer.text) or "")
            if series == "chunklist" and status == 200:
                extra = f"segments={answer.text.count('#EXTINF')} parts={answer.text.count('#EXT-X-PART:')}"
        except httpx.HTTPError:
            pass
        answered = round(time.monotonic() - t0, 2) if status is not None else None
        with lock:
            entries.append(TimelineEntry(series, round(sent, 2), answered, status, extra))

    s.publish_rtmp(stream)
    t0 = time.monotonic()
    futures = []
    while (now := time.monotonic() - t0) < WARMUP_WINDOW_S and s.left() > WARMUP_REQUEST_TIMEOUT_S:
        futures.append(pool.submit(fetch, "master", master_url, now, t0))
        if chunklist and chunklist[0]:
            futures.append(pool.submit(fetch, "chunklist", chunklist[0], now, t0))
        time.sleep(WARMUP_INTERVAL_S)
    for future in futures:
        future.result(timeout=WARMUP_REQUEST_TIMEOUT_S + 5)
    entries.sort(key=lambda e: (e.sent_s, e.series != "master"))
    s.timeline(
        "timeline",
        entries,
        [
            f"fresh RTMP publish (ffmpeg -re, 640x360 30 fps, GOP 1 s) at t=0; a master request every "
            f"{WARMUP_INTERVAL_S} s;",
            "once a master has answered 200, also its first video chunklist (no "
            f"_HLS_msn) every {WARMUP_INTERVAL_S} s; each request times out after "
            f"{WARMUP_REQUEST_TIMEOUT_S:g} s.",
        ],
    )
