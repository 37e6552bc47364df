"""LL-HLS playlists for ingested streams, at OME's paths, with OME v0.20's SCTE-35 behaviour.

The video and AAC audio tracks of an RTMP publish are served as real fMP4 (init, parts, segments:
fmp4.py). The audio rendition lists the video's parts, each holding the AAC frames that arrived while it
was open: OME's own audio part boundaries are not recorded. SRT-ingested media answers tiny
placeholders. Blocking reloads are held until the asked part is listed (docs/playback.md has every fact
and gap). The timeline (llhls_timeline.py) comes from the encoder's own frames (timestamps and
keyframes): segments close on the first keyframe past each multiple of the segment duration (a fixed
grid: a cut does not move it), parts close every part target. As measured on a real v0.20.0
(samples/v0.20.0-media/cue_*):
- a cue-out whose break is not longer than 1.5 × the segment duration is refused in OME's log
  only (`Duration of the marker must be greater than 9000.000000 ms`): no cut. The emulator
  keeps that line in `EmulatorState.ome_log` (emulator only, served at OME_LOG_PATH);
- an accepted cue-out cuts the segment at the next keyframe (`Force segment flush immediately`,
  `EXTINF:0.400` then `5.600` in cue_10s), with no tag in the playlist;
- OME schedules the cue-in `duration` later in the media; the segment holding that moment ends
  on the grid and the next one is cut at its next keyframe (cue_10s: a 1 s segment ending
  12.6 s after the out-cut).
Not modelled (no capture): "Too late, marker is included in the samples time range", and the
break rule for `eventFormat: cue` (only scte35 was measured; `cue` keeps the plain cut).
With `daterange=True` the playlist also carries `EXT-X-DATERANGE ... SCTE35-OUT/IN=0x...` built
with threefive, so that every path of the verifier can be exercised (OME v0.20.0 writes none).
`ignore_cues=True` is a fault: cues are accepted by the API but leave no trace in the output.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ome_harness.emulator import fmp4
from ome_harness.emulator.llhls_timeline import Timeline
from ome_harness.emulator.state import EmulatedStream, EmulatorState, ReceivedEvent
from ome_harness.scte35.break_rule import honoured, min_break_ms

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
PLACEHOLDER = b"\x00\x00\x00\x08free"  # an empty MP4 box: not media, just something to fetch
class LlhlsPackager:
    """Keeps a timeline per ingested stream and serves OME-shaped LL-HLS playlists over HTTP."""

    def __init__(self, state: EmulatorState, *, segment_s: float = 6.0, part_s: float = 0.5,
                 segment_count: int = 10, daterange: bool = False) -> None:
        self.state = state
        self.segment_s, self.part_s, self.segment_count = segment_s, part_s, segment_count
        self.daterange = daterange
        self.ignore_cues = False
        self.faults = LlhlsFaults()
        self.blocking_hold_s = 30.0
        self._timelines: dict[tuple[str, str, str], Timeline] = {}
        self._lock = threading.Lock()
        # Notified whenever a timeline changes, so held blocking reloads re-check their part.
        self._listed = threading.Condition(self._lock)
        # Held reloads wait in their own pool: asyncio's default one (a handful of threads on 2 cores)
        # would run out with a few viewers and stall every other request.
        self._holders = ThreadPoolExecutor(max_workers=256, thread_name_prefix="llhls-hold")
        state.subscribe_events(self._on_event)

    def timeline(self, vhost: str, app: str, name: str) -> Timeline | None:
        with self._lock:
            return self._timelines.get((vhost, app, name))

    # -- MediaSink (called by the RTMP ingest) -----------------------------------------------
    def publish_started(self, vhost: str, app: str, stream: EmulatedStream) -> None:
        with self._lock:
            self._timelines[(vhost, app, stream.name)] = Timeline(
                stream, segment_s=self.segment_s, part_s=self.part_s, segment_count=self.segment_count,
                daterange=self.daterange)

    def frame(self, vhost: str, app: str, name: str, timestamp_ms: int, keyframe: bool, *,
              sample: bytes | None = None, cts_ms: int = 0, config: bytes | None = None) -> None:
        with self._lock:
            timeline = self._timelines.get((vhost, app, name))
            if timeline is not None:
                timeline.frame(timestamp_ms, keyframe, sample=sample, cts_ms=cts_ms, config=config)
                self._listed.notify_all()

    def audio(self, vhost: str, app: str, name: str, timestamp_ms: int, data: bytes, *, config: bytes,
              samplerate: int, channels: int) -> None:
        with self._lock:
            timeline = self._timelines.get((vhost, app, name))
            if timeline is not None:
                timeline.audio_frame(timestamp_ms, data, config, samplerate, channels)

    def publish_ended(self, vhost: str, app: str, name: str) -> None:
        with self._lock:
            self._timelines.pop((vhost, app, name), None)
            self._listed.notify_all()

    # -- cues (called by EmulatorState.record_event on the API's thread) --------------------
    def _on_event(self, event: ReceivedEvent) -> None:
        if str(event.body.get("eventFormat", "")).lower() == "id3v2":
            self._timed_metadata(event)
            return
        if self.ignore_cues:
            return
        cue = _cue_of(event.body)
        if cue is None:
            return
        kind, event_id, duration_s = cue
        with self._lock:
            timeline = self._timelines.get((event.vhost, event.app, event.stream))
            timestamp = timeline.last_ts if timeline is not None else 0
            tag = f"Scte35Event-{kind.upper()}"
            segment_s = self.state.llhls_segment_s
            scte35 = str(event.body.get("eventFormat", "")).lower() == "scte35"
            if (
                scte35
                and kind == "out"
                and not honoured(duration_s * 1000 if duration_s else None, segment_s)
            ):
                # OME v0.20.0 answers 200 and refuses the marker in its log only
                # (samples/.../cue_2s_ome_log.txt).
                self.state.log(
                    "E",
                    "LLHLS Publisher | llhls_stream.cpp:1228",
                    f"Failed to insert marker (timestamp: {timestamp}, tag: {tag}, msg: Duration of the "
                    f"marker must be greater than {min_break_ms(segment_s):.6f} ms : {tag})",
                )
                return
            self.state.log(
                "I", "LLHLS Publisher | llhls_stream.cpp:1234", f"Packager(0) - Insert marker: {tag}"
            )
            if timeline is not None:
                timeline.cue(kind, event.at, event_id, duration_s)

    def _timed_metadata(self, event: ReceivedEvent) -> None:
        """An id3v2 `:sendEvent` goes into the part being written now, as an emsg box before its moof.

        No capture shows how OME carries id3v2 events in LL-HLS parts: this is the AOM ID3-in-CMAF
        way (emsg, scheme https://aomedia.org/emsg/ID3), a stand-in and said so in docs/playback.md.
        """
        with self._lock:
            timeline = self._timelines.get((event.vhost, event.app, event.stream))
            if timeline is None or not timeline.segments:
                return
            part = timeline.segments[-1].parts[-1]
            for index, item in enumerate(event.body.get("events") or []):
                if isinstance(item, dict) and str(item.get("frameType", "")).upper() == "TXXX":
                    tag = fmp4.id3_txxx(str(item.get("info", "")), str(item.get("data", "")))
                    part.emsgs.append(fmp4.emsg_id3(tag, timeline.last_ts, index + 1))

    # -- HTTP -------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if self.faults.part_delay_s and request.url.path.rsplit("/", 1)[-1].startswith("part_"):
            await asyncio.sleep(self.faults.part_delay_s)  # on the server's loop: other requests go on
        if self.faults.unavailable():
            await Response(status_code=503, headers={"Server": "OvenMediaEngine"})(scope, receive, send)
            return
        needs = self._young_needs(request)
        if needs is not None:
            # A young stream's playlists are held, not refused, until it is ready (off the event loop).
            await asyncio.get_running_loop().run_in_executor(self._holders, self._hold_until_ready,
                                                             request, needs)
        blocking = _blocking_request(request)
        if blocking is not None:
            # Held off the event loop: the media thread adds parts and notifies the condition.
            await asyncio.get_running_loop().run_in_executor(self._holders, self._hold_until_listed,
                                                             request, *blocking)
        response = self._answer(request, blocking is not None)
        await response(scope, receive, send)

    def _key_of(self, request: Request) -> tuple[str, str, str]:
        app, name = (request.url.path.strip("/").split("/") + ["", ""])[:2]
        return self.state.vhost_names()[0], app, name

    def _young_needs(self, request: Request) -> int | None:
        """The finished segments a playlist request of a young stream waits for, or None: answer now.

        Real OME holds every master until each track has finished its first segment, and the first
        chunklists one segment longer (llhls_warmup_timeline.txt, v0.20.0 and v0.21.0: masters answered
        together at ~7.0 s, chunklists at ~13.0 s with 6 s segments). Before the stream is known it
        answers 404, in its first moments 201 (both at once, in `_answer`). Media files are not held
        (not recorded). Audio chunklists wait like video ones (only video's were recorded).
        """
        file = request.url.path.rsplit("/", 1)[-1]
        if file == "llhls.m3u8":
            needs = 1
        elif file.startswith("chunklist_") and file.endswith("_llhls.m3u8"):
            needs = 2
        else:
            return None
        with self._lock:
            timeline = self._timelines.get(self._key_of(request))
            if timeline is None or timeline.created_window() or timeline.ready_for(needs, held=False):
                return None
        return needs

    def _hold_until_ready(self, request: Request, needs: int) -> None:
        key = self._key_of(request)

        def ready() -> bool:
            timeline = self._timelines.get(key)
            return timeline is None or timeline.ready_for(needs, held=True)  # gone: answer now (404)

        with self._listed:
            self._listed.wait_for(ready, timeout=self.blocking_hold_s)

    def _hold_until_listed(self, request: Request, msn: int, part: int) -> None:
        """Wait until the playlist lists part `part` of segment `msn` (or the hold limit passes).

        Real OME never answers a reload asked far ahead (no answer within 20 s in
        llhls_blocking_reload_far_future.txt); it does not reject it with 400 as RFC 8216bis
        suggests. The emulator holds it too, but only `blocking_hold_s`: after that it answers 503
        (what RFC 8216bis asks for) — no fact says what OME does past 20 s.
        """
        if self.faults.hang_blocking_reloads:
            msn += 10_000  # a fault: never listed, held for the whole hold limit
        if self.faults.reloads_not_held:
            return
        key = self._key_of(request)
        with self._listed:
            self._listed.wait_for(lambda: self._is_listed(key, msn, part), timeout=self.blocking_hold_s)

    def _is_listed(self, key: tuple[str, str, str], msn: int, part: int) -> bool:
        timeline = self._timelines.get(key)
        if timeline is None:
            return True  # the stream ended: answer now (404)
        return timeline.lists(msn, part)

    def _answer(self, request: Request, blocking: bool = False) -> Response:
        # Headers as captured from OME v0.20/v0.21 (llhls_*.http); playlists are gzip-encoded there.
        headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true",
                   "Access-Control-Allow-Methods": "OPTIONS, GET, HEAD", "Vary": "Origin",
                   "Server": "OvenMediaEngine"}
        if self.faults.cors_allow_origin != "*":  # a fault: OME's CrossDomains left out, or another site
            headers.pop("Access-Control-Allow-Origin")
            if self.faults.cors_allow_origin:
                headers["Access-Control-Allow-Origin"] = self.faults.cors_allow_origin
        parts = request.url.path.strip("/").split("/")
        if request.method not in ("GET", "HEAD") or len(parts) != 3:
            return Response(status_code=404, headers=headers)
        app, name, file = parts
        vhost = self.state.vhost_names()[0]
        with self._lock:
            timeline = self._timelines.get((vhost, app, name))
            if timeline is None:
                return Response(status_code=404, headers=headers)  # not known (yet): at once, empty body
            if file.endswith(".m3u8") and (timeline.created_window() or not timeline.segments):
                # OME's LL-HLS publisher: "stream has created but not started yet" (llhls_warmup_timeline.txt)
                return Response(status_code=201, headers=headers)
            if not timeline.segments:
                return Response(status_code=404, headers=headers)
            if blocking:
                msn, part = _blocking_request(request) or (0, 0)
                if not timeline.lists(msn, part) and not self.faults.reloads_not_held:
                    return Response(status_code=503, headers=headers)
            session = request.query_params.get("session")
            if session:
                timeline.stream.llhls_request(session)  # the stats API's LL-HLS connections
            else:
                session = f"{secrets.randbelow(90) + 10}_{secrets.token_hex(4)}"
            if file == "llhls.m3u8":
                return _playlist(_master(app, name, timeline, session), request, headers, blocking=False)
            if file.startswith("chunklist_") and file.endswith("_llhls.m3u8"):
                track, kind = file.split("_")[1:3]
                if kind in ("video", "audio") and track.isdigit():
                    text = timeline.chunklist(int(track), kind, session)
                    if self.faults.target_duration is not None:
                        text = re.sub(r"#EXT-X-TARGETDURATION:\d+",
                                      f"#EXT-X-TARGETDURATION:{self.faults.target_duration}", text)
                    return _playlist(text, request, headers, blocking=blocking)
            if file.endswith(".m4s"):
                if file.startswith("part_") and self.faults.parts_missing:
                    return Response(status_code=404, headers=headers)
                media = _media_of(timeline, file)
                if media is False:
                    return Response(status_code=404, headers=headers)
                # Real frames for the video and AAC tracks of an RTMP publish; an SRT input still answers
                # a placeholder: the emulator does not demux MPEG-TS media (said in docs/playback.md).
                return Response(
                    PLACEHOLDER if media is None else media, media_type="video/mp4", headers=headers
                )
        return Response(status_code=404, headers=headers)


def _media_of(timeline: Timeline, file: str) -> bytes | None | bool:
    """The fMP4 bytes of init_/part_/seg_ files of the video or AAC audio track; None: no media
    (placeholder); False: a part or segment that is not (or no longer) in the live window."""
    fields = file.split("_")
    if "audio" in fields and timeline.audio_config is not None:
        return _audio_media_of(timeline, fields)
    if "video" not in fields or timeline.avc_record is None:
        return None
    try:
        if fields[0] == "init":
            return timeline.init_media()
        if fields[0] == "part":
            media = timeline.part_media(int(fields[2]), int(fields[3]))
        elif fields[0] == "seg":
            media = timeline.segment_media(int(fields[2]))
        else:
            return None
    except ValueError:
        return False
    return False if media is None else media


def _audio_media_of(timeline: Timeline, fields: list[str]) -> bytes | None | bool:
    try:
        if fields[0] == "init":
            return timeline.audio_init_media()
        if fields[0] == "part":
            media = timeline.audio_part_media(int(fields[2]), int(fields[3]))
        elif fields[0] == "seg":
            media = timeline.audio_segment_media(int(fields[2]))
        else:
            return None
    except ValueError:
        return False
    return False if media is None else media


@dataclass
class LlhlsFaults:
    """Faults a test can switch on to prove the viewer's checks catch them (not OME behaviour)."""

    target_duration: int | None = None  # EXT-X-TARGETDURATION replaced by this (a lie)
    hang_blocking_reloads: bool = False  # blocking reloads are held until the hold limit
    parts_missing: bool = False  # every part URI answers 404
    reloads_not_held: bool = False  # blocking reloads answered at once, the asked part not yet listed
    # Ways the LL-HLS side fails under load, for the load verdict to name: they stand for an overloaded
    # origin or edge, or a proxy in front of it.
    unavailable_from: float | None = None  # time.monotonic() from which every request answers 503
    part_delay_s: float = 0.0  # each part (`part_*.m4s`) is answered this much later
    # Access-Control-Allow-Origin of every LL-HLS answer: OME's "*" (llhls_*.http), None (left out) or
    # another origin; a browser on any other page then refuses what it fetched.
    cors_allow_origin: str | None = "*"

    def unavailable(self) -> bool:
        return self.unavailable_from is not None and time.monotonic() >= self.unavailable_from


def _blocking_request(request: Request) -> tuple[int, int] | None:
    """(msn, part) of a blocking playlist reload (`_HLS_msn`, optional `_HLS_part`), else None."""
    msn = request.query_params.get("_HLS_msn")
    if msn is None or not msn.isdigit() or not request.url.path.endswith(".m3u8"):
        return None
    part = request.query_params.get("_HLS_part", "0")
    return int(msn), int(part) if part.isdigit() else 0


def _playlist(text: str, request: Request, headers: dict[str, str], *, blocking: bool) -> Response:
    # OME answers a blocking reload with `cache-control: max-age=60` and plain loads with
    # `no-cache, no-store` (llhls_blocking_reload.m3u8.http vs llhls_video_chunklist.m3u8.http).
    headers = {**headers, "Cache-Control": "max-age=60" if blocking else "no-cache, no-store"}
    body = text.encode()
    # Captured with a client that accepts gzip; no fact for one that does not, so plain text then.
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=PLAYLIST_TYPE, headers=headers)


def _master(app: str, name: str, timeline: Timeline, session: str) -> str:
    stream = timeline.stream
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    codecs = []
    audio_group = ""
    if stream.audio is not None:
        lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac_audio",NAME="Audio_1_1",DEFAULT=NO,AUTOSELECT=NO,'
                     f'FORCED=NO,CHANNELS="{stream.audio.channel}",'
                     f'URI="/{app}/{name}/chunklist_1_audio_{timeline.key}_llhls.m3u8?session={session}"')
        codecs.append("mp4a.40.2")
        audio_group = ',AUDIO="aac_audio"'
    lines += ["", ""]
    video = stream.video
    if video is not None:
        codecs.insert(0, "avc1.64001e")
        # OME's API reports 16-aligned heights (352 for 360) but its master names the true size
        # (llhls_master.m3u8.http: RESOLUTION=640x360 for a 640x360 publish): the SPS's, when known.
        width, height = timeline.size or (video.width, video.height - video.height % 16)
        lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={max(stream.bitrate, 1)},RESOLUTION={width}x{height},"
                     f'FRAME-RATE={video.framerate:.3f},CODECS="{",".join(codecs)}"{audio_group}')
        lines.append(f"/{app}/{name}/chunklist_0_video_{timeline.key}_llhls.m3u8?session={session}")
    return "\n".join(lines) + "\n"


def _cue_of(body: dict[str, Any]) -> tuple[str, int | None, float | None] | None:
    """(kind, event id, duration in s) of an accepted scte35 or cue event; None for id3v2."""
    event_format = str(body.get("eventFormat", "")).lower()
    events = body.get("events") or [{}]
    first = events[0] if isinstance(events[0], dict) else {}
    if event_format == "scte35":
        kind, event_id = first.get("type"), first.get("id")
    elif event_format == "cue":
        kind, event_id = first.get("cueType"), None
    else:
        return None
    if kind not in ("out", "in"):
        return None
    duration = first.get("duration")
    duration_s = float(duration) / 1000 if isinstance(duration, int | float) and duration > 0 else None
    return kind, event_id, duration_s

