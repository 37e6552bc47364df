"""Mutating procedures over the API: an RTMP publish of the recording's own stream, and :sendEvent to it.

Only streams this recording published are touched (their names start with omh-rec-); nothing is
deleted; the encoder stops when the procedure ends, whatever happened.
"""

from __future__ import annotations

import json
import math
import time
from urllib.parse import quote

from ome_harness.media.encoder import EncoderSettings
from ome_harness.recording.model import TimelineEntry
from ome_harness.recording.session import STREAM_PREFIX, ProcedureStopped, Session

LISTING_DEADLINE_S = 15.0
POLL_S = 0.25
STATS_GAP_S = 2.0


def _stream_path(s: Session, stream: str) -> str:
    return (
        f"/v1/vhosts/{quote(s.target.vhost, safe='')}/apps/{quote(s.target.app, safe='')}/streams/"
        f"{quote(stream, safe='')}"
    )


def start_and_wait_listed(
    s: Session, step: str = "first-listing", settings: EncoderSettings | None = None
) -> str:
    """Publish a fresh stream over RTMP; record the stream list every 0.25 s until it is listed."""
    stream = s.new_stream_name()
    encoder = s.publish_rtmp(stream, settings)
    streams_path = _stream_path(s, "").rstrip("/")
    started, entries = time.monotonic(), []
    while time.monotonic() - started < min(LISTING_DEADLINE_S, s.left()):
        encoder.check_alive()
        sent = time.monotonic() - started
        answer = s.api(step, "GET", streams_path, keep=False)
        listed = answer.status == 200 and stream in _names(answer.body)
        entries.append(
            TimelineEntry(
                "streams",
                round(sent, 2),
                round(time.monotonic() - started, 2),
                answer.status,
                f"listed={'yes' if listed else 'no'}",
            )
        )
        if listed:
            break
        time.sleep(POLL_S)
    s.timeline(
        step,
        entries,
        [
            f"fresh RTMP publish of the recording's own stream at t=0; the stream list "
            f"every {POLL_S} s until it is listed ({LISTING_DEADLINE_S:g} s at most)"
        ],
    )
    if not entries or not entries[-1].extra.endswith("yes"):
        raise ProcedureStopped(f"the stream was not listed within {LISTING_DEADLINE_S:g} s of publishing")
    return stream


def _names(body: str) -> list[str]:
    try:
        names = json.loads(body).get("response")
    except (ValueError, AttributeError):
        return []
    return names if isinstance(names, list) else []


def rtmp_publish(s: Session) -> None:
    """Time to first listing, the list, the stream's detail, its stats twice (they must move), stats above."""
    stream = start_and_wait_listed(s)
    vhost, app = quote(s.target.vhost, safe=""), quote(s.target.app, safe="")
    s.api("streams", "GET", _stream_path(s, "").rstrip("/"))
    s.api("stream-detail", "GET", _stream_path(s, stream))
    stats = f"/v1/stats/current/vhosts/{vhost}/apps/{app}/streams/{quote(stream, safe='')}"
    s.api("stats-stream", "GET", stats)
    s.sleep(STATS_GAP_S)
    later = s.api("stats-stream-later", "GET", stats)
    first = s.recording.observations.get(f"{s.procedure}/stats-stream")
    moved = first is not None and _bytes_in(later.body) > _bytes_in(first.body) >= 0
    s.note(
        "stats-moving",
        f"totalBytesIn moved over {STATS_GAP_S:g} s: {'yes' if moved else 'no'}",
        ["derived from stats-stream and stats-stream-later: a live stream's counters must move"],
    )
    s.api("stats-app", "GET", f"/v1/stats/current/vhosts/{vhost}/apps/{app}")
    s.api("stats-vhost", "GET", f"/v1/stats/current/vhosts/{vhost}")
    s.api("stats-server", "GET", "/v1/stats/current")


def _bytes_in(body: str) -> int:
    try:
        return int(json.loads(body)["response"]["totalBytesIn"])
    except (ValueError, KeyError, TypeError):
        return -1


def kept_break_ms(segment_s: float) -> int:
    """A break OME's LL-HLS keeps: longer than 1.5 × the segment duration (cue_10s_* vs cue_2s_*)."""
    return int(math.ceil(segment_s * 1.5 + 4) * 1000)


def _scte35(event_id: int, kind: str, duration_ms: int | None = None, auto_return: bool = True) -> dict:
    event: dict = {"spliceCommand": "spliceInsert", "id": event_id, "type": kind}
    if duration_ms is not None:
        event.update(duration=duration_ms, autoReturn=auto_return)
    return {"eventFormat": "scte35", "events": [event]}


def send_event(s: Session) -> None:
    """:sendEvent of every format to the recording's own live stream: a short and a kept SCTE-35 break,
    a cue-in, id3v2, cue, an unknown format, an unknown stream; with LL-HLS, the chunklist after the kept
    break. OME's log (where a dropped break shows) is not reachable over the network: not recorded."""
    stream = start_and_wait_listed(s, "live-stream-listed")
    event = f"{_stream_path(s, stream)}:sendEvent"
    short_ms = int(s.segment_s * 1000 // 3)  # 2 s with 6 s segments, as cue_2s_*
    s.api("scte35-out-short-break", "POST", event, body=_scte35(201, "out", short_ms))
    s.sleep(short_ms / 1000 + 1)
    s.api("scte35-out-kept-break", "POST", event, body=_scte35(202, "out", kept_break_ms(s.segment_s)))
    kept_at = time.monotonic()
    # The bodies of samples 47/48 (and v0.21.0-media's): OME's documented id3v2 and cue formats.
    s.api(
        "id3v2",
        "POST",
        event,
        body={
            "eventFormat": "id3v2",
            "eventType": "video",
            "events": [{"frameType": "TXXX", "info": "ome-harness", "data": "recording"}],
        },
    )
    s.api(
        "cue", "POST", event, body={"eventFormat": "cue", "events": [{"cueType": "out", "duration": 12000}]}
    )
    s.api("unknown-format", "POST", event, body={"eventFormat": "foo", "events": [{"a": 1}]})
    # A name no one publishes: ours, never listed (checked), so no other stream can receive it.
    missing = f"{STREAM_PREFIX}absent-{stream.removeprefix(STREAM_PREFIX)}"
    s.api("unknown-stream", "POST", f"{_stream_path(s, missing)}:sendEvent", body=_scte35(203, "out", 10000))
    s.note(
        "ome-log-kept-break",
        "not recorded: OME's log is not reachable over the network",
        [
            "whether OME inserted or refused the marker is in its log only (cue_*_ome_log.txt were taken on "
            "the server itself); the chunklist after the break shows the effect"
        ],
    )
    if s.target.llhls_base:
        s.sleep(max(0.0, 2.5 * s.segment_s - (time.monotonic() - kept_at)))
        master = s.media("master-after-kept-break", s.target.llhls_url(stream), keep=False)
        chunklist = first_chunklist_url(s.target.llhls_url(stream), master.body)
        if chunklist:
            s.media("chunklist-after-kept-break", chunklist)
    s.api("scte35-in", "POST", event, body={"eventFormat": "scte35", "events": [{"id": 202, "type": "in"}]})


def first_chunklist_url(master_url: str, master: str) -> str | None:
    """The first variant's chunklist, resolved against the master's URL (OME's URIs are absolute paths)."""
    from urllib.parse import urljoin

    line = next((ln.strip() for ln in master.splitlines() if ln.strip() and not ln.startswith("#")), None)
    return urljoin(master_url, line) if line else None


DELETE_SETTLE_S = 2.0  # samples 81-84 were taken "later"; the emulator's lag is 0.3 s (delete_lag_s)


def delete_own_stream(s: Session) -> None:
    """DELETE of the recording's own live stream: the answer, a GET right after (still 200 on v0.20.0,
    sample 85), then later the GET, the list, the stats and a second DELETE (samples 80-84)."""
    stream = start_and_wait_listed(s, "live-stream-listed")
    path = _stream_path(s, stream)
    s.api("delete", "DELETE", path)
    s.api("get-right-after-delete", "GET", path)
    s.sleep(DELETE_SETTLE_S)
    s.api("get-after-delete-later", "GET", path)
    streams = s.api("streams-after-delete-later", "GET", _stream_path(s, "").rstrip("/"))
    if stream in _names(streams.body):
        streams.notes.append("the deleted stream is still listed")
    vhost, app = quote(s.target.vhost, safe=""), quote(s.target.app, safe="")
    s.api(
        "stats-after-delete-later",
        "GET",
        f"/v1/stats/current/vhosts/{vhost}/apps/{app}/streams/{quote(stream, safe='')}",
    )
    s.api("delete-again", "DELETE", path)
