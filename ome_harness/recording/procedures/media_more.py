"""Mutating procedures beyond RTMP: an SRT publish's first seconds, a 25 fps publish's LL-HLS, and WebRTC
signalling (srt_detail_*.http, llhls_chunklist_25fps.m3u8, webrtc_signalling_*)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import quote

from ome_harness.media.encoder import EncoderSettings, FfmpegEncoder
from ome_harness.recording.compare import unknown_track_figures
from ome_harness.recording.procedures.publishing import first_chunklist_url, start_and_wait_listed
from ome_harness.recording.session import ProcedureStopped, Session

LISTING_DEADLINE_S = 15.0
FILLED_DEADLINE_S = 6.0
LATER_S = 6.0
SIGNALLING_TIMEOUT_S = 8.0
_CREDENTIAL = re.compile(r'("credential"\s*:\s*")[^"]*(")')


def _detail_path(s: Session, stream: str) -> str:
    return (
        f"/v1/vhosts/{quote(s.target.vhost, safe='')}/apps/{quote(s.target.app, safe='')}/streams/"
        f"{quote(stream, safe='')}"
    )


def srt_publish(s: Session) -> None:
    """An SRT publish: the detail the moment it is first listed (track figures 0), once they are filled,
    and later; the stream list."""
    stream = s.new_stream_name()
    encoder = s.stack.enter_context(FfmpegEncoder(s.target.srt_url(stream), EncoderSettings()))
    detail = _detail_path(s, stream)
    started = time.monotonic()
    while True:
        encoder.check_alive()
        if time.monotonic() - started > min(LISTING_DEADLINE_S, s.left()):
            raise ProcedureStopped(f"the SRT stream was not listed within {LISTING_DEADLINE_S:g} s")
        first = s.api("detail-at-first-listing", "GET", detail, keep=False)
        if first.status == 200:
            first.notes.append(f"first listed {time.monotonic() - started:.2f} s after ffmpeg started")
            s.recording.add(first)
            break
        time.sleep(0.1)
    listed_at = time.monotonic()
    while time.monotonic() - listed_at < FILLED_DEADLINE_S:
        filled = s.api("detail-filled", "GET", detail, keep=False)
        if filled.status == 200 and unknown_track_figures(filled.body) == "none":
            filled.notes.append(f"tracks filled {time.monotonic() - listed_at:.2f} s after the first listing")
            s.recording.add(filled)
            break
        time.sleep(0.2)
    s.sleep(LATER_S - (time.monotonic() - listed_at))
    s.api("detail-later", "GET", detail)
    s.api("stream-detail", "GET", detail)
    s.api("streams", "GET", detail.rsplit("/", 1)[0])


def llhls_25fps(s: Session) -> None:
    """A 25 fps publish: its video chunklist once a segment is complete (PART-TARGET follows the frames)."""
    stream = start_and_wait_listed(
        s, "live-stream-listed", EncoderSettings(framerate=25, width=320, height=180)
    )
    master_url = s.target.llhls_url(stream)
    while s.left() > 10:
        master = s.media("master", master_url, timeout_s=12.0, keep=False)
        if master.status == 200:
            break
        time.sleep(0.5)
    else:
        raise ProcedureStopped("the master playlist was not served")
    chunklist = first_chunklist_url(master_url, master.body)
    if not chunklist:
        raise ProcedureStopped("the master playlist names no chunklist")
    while s.left() > 6:
        answer = s.media("chunklist", chunklist, timeout_s=12.0, keep=False)
        if answer.status == 200 and "#EXTINF" in answer.body:
            s.recording.add(answer)
            return
        time.sleep(1.0)
    raise ProcedureStopped("no complete segment was listed in time")


def webrtc_signalling(s: Session) -> None:
    """OME's answer to a WebRTC viewer's `request_offer` for the recording's live stream and for a stream
    that does not exist (the TURN credential in the offer is masked)."""
    stream = start_and_wait_listed(s, "live-stream-listed")
    base = s.target.webrtc_url(stream)
    s.note("offer", _mask(_request_offer(base)), ['reply to {"command": "request_offer"} over the WebSocket'])
    missing = base.rsplit("/", 1)[0] + f"/{stream}-absent"
    s.note("unknown-stream", _mask(_request_offer(missing)), ["the same for a stream that does not exist"])


def _mask(reply: str) -> str:
    return _CREDENTIAL.sub(r"\1********\2", reply)


def _request_offer(url: str) -> str:
    import websockets

    async def ask() -> str:
        try:
            async with asyncio.timeout(SIGNALLING_TIMEOUT_S):
                async with websockets.connect(url, open_timeout=SIGNALLING_TIMEOUT_S) as socket:
                    await socket.send(json.dumps({"command": "request_offer"}))
                    reply = await socket.recv()
        except TimeoutError:
            return f"no answer within {SIGNALLING_TIMEOUT_S:g} s"
        except (OSError, websockets.WebSocketException) as exc:
            return f"no answer: {type(exc).__name__}: {exc}"
        text = reply.decode() if isinstance(reply, bytes) else reply
        try:
            return json.dumps(json.loads(text), indent=1, sort_keys=True)
        except ValueError:
            return text

    return asyncio.run(ask())
