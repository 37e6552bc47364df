"""API-to-viewer latency of timed metadata: `:sendEvent` id3v2 carrying its send time, found in LL-HLS parts.

Method "id3v2 sendEvent → part": the harness POSTs `:sendEvent` with `eventFormat: id3v2` and a TXXX
frame `omh-sent` = its own send time in epoch ms (the body shape OME v0.20/v0.21 accept:
sendEvent_id3v2_accepted.http); the viewer follows the stream and looks for that frame in each
part it downloads. Latency = part downloaded − send time, on this host's one clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from ome_harness.playback.llhls_viewer import FetchEvent, LlhlsViewer

DESCRIPTION = "omh-sent"
_FOUND = re.compile(rb"omh-sent\x00(\d{10,16})")
METHOD = "id3v2 sendEvent (TXXX omh-sent) → first part carrying it downloaded"


def event_body(sent_ms: int) -> dict[str, object]:
    return {"eventFormat": "id3v2", "eventType": "video",
            "events": [{"frameType": "TXXX", "info": DESCRIPTION, "data": str(sent_ms)}]}


def sent_times_in(body: bytes) -> list[int]:
    return [int(m) for m in _FOUND.findall(body)]


def metadata_latencies(events: list[FetchEvent]) -> dict[int, float]:
    """Send time (ms) → seconds until the first downloaded part carrying it."""
    seen: dict[int, float] = {}
    for event in events:
        if event.kind == "part" and event.ok:
            for sent in sent_times_in(event.body):
                seen.setdefault(sent, event.at - sent / 1000)
    return seen


def measure(viewer: LlhlsViewer, send: Callable[[dict[str, object]], None], *, window_s: float,
            every_s: float = 1.0) -> tuple[dict[int, float], list[int]]:
    """Follow with `viewer` (keep_media=True) for `window_s`, sending one event every `every_s`.

    Returns (latency by send time, send times never seen). The send goes between two player steps:
    one thread, no sleeps beyond the player's own blocking reloads.
    """
    if viewer.media_url is None:
        viewer.open()
    sent: list[int] = []
    ends = time.monotonic() + window_s
    next_send = time.monotonic()
    while time.monotonic() < ends:
        if time.monotonic() >= next_send and time.monotonic() < ends - 2 * every_s:
            sent_ms = int(time.time() * 1000)
            send(event_body(sent_ms))
            sent.append(sent_ms)
            next_send += every_s
        viewer.step()
    found = metadata_latencies(viewer.events)
    return found, [s for s in sent if s not in found]
