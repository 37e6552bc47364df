"""LL-HLS playlists for ingested streams, at OME's paths, with OME v0.20's SCTE-35 behaviour.

The video and AAC audio tracks of an RTMP publish are served as real fMP4 (init, parts, segments:
fmp4.py; the audio rendition lists the video's parts, each holding the AAC frames that arrived while
it was open); SRT-ingested media answers tiny placeholders. Blocking reloads are held until the
asked part is listed (docs/playback.md has every fact and gap). The timeline comes
from the encoder's own frames (timestamps and keyframes): segments close on the first keyframe
past each multiple of the segment duration (a fixed grid: a cut does not move it), parts close
every part target. As measured on a real v0.20.0 (samples/v0.20.0-media/cue_*):
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
import math
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ome_harness.emulator import flv, fmp4
from ome_harness.emulator.state import EmulatedStream, EmulatorState, ReceivedEvent, now, ome_time
from ome_harness.scte35.break_rule import honoured, min_break_ms
from ome_harness.scte35.splice import splice_insert

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
PLACEHOLDER = b"\x00\x00\x00\x08free"  # an empty MP4 box: not media, just something to fetch
# Frames measured before PART-TARGET is fixed (a stream's PART-TARGET does not change: RFC 8216bis).
PART_TARGET_FRAMES = 25
# How long a new stream answers `201 Created` (empty body) before its requests are held. Real OME v0.20.0
# answered one 201 between a 404 and a held request 0.25 s apart (llhls_warmup_timeline.txt); v0.21.0's
# capture caught none (its requests were 0.25 s apart too). The window's length is not recorded: 0.3 s
# lets a viewer polling every 0.25 s see it, as the v0.20.0 capture did.
CREATED_WINDOW_S = 0.3


@dataclass
class Part:
    start: datetime
    independent: bool
    duration: float = 0.0
    samples: list[fmp4.Sample] = field(default_factory=list)  # the ingested H.264 frames it carries
    emsgs: list[bytes] = field(default_factory=list)  # timed metadata (id3v2 events) placed before its moof
    audio: list[fmp4.AudioSample] = field(default_factory=list)  # AAC frames that arrived while it was open


@dataclass
class Segment:
    sequence: int
    start: datetime
    duration: float = 0.0
    parts: list[Part] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class _Cut:
    at: datetime
    kind: str  # "out" | "in"
    event_id: int | None
    duration_s: float | None = None
    # For a cue-in OME scheduled itself: the segment that held its moment (it ends on the grid).
    held_by: int | None = None


class Timeline:
    """The segment/part timeline of one stream, driven by its frames and cut by cues."""

    def __init__(self, stream: EmulatedStream, *, segment_s: float, part_s: float, segment_count: int,
                 daterange: bool) -> None:
        self.stream = stream
        self.key = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")[:8]
        self.segment_s, self.part_s, self.segment_count = segment_s, part_s, segment_count
        self.daterange = daterange
        self.origin: datetime | None = None
        self.first_ts: int | None = None
        self.last_ts = 0
        self.segments: list[Segment] = []
        self.cuts: list[_Cut] = []
        self.returns: list[_Cut] = []
        self._outs: dict[int | None, datetime] = {}
        self._sequence = 0
        self._next_boundary: datetime | None = None
        self.avc_record: bytes | None = None
        self.size: tuple[int, int] | None = None  # the ingested video's true size (from its SPS)
        self._last_sample: fmp4.Sample | None = None
        self.audio_config: tuple[bytes, int, int] | None = None  # AudioSpecificConfig, rate, channels
        self._audio_next: int | None = None  # decode time (in samples) of the next AAC frame
        # When OME created the stream (its LL-HLS answers 201 for a short while: see LlhlsPackager).
        self.created = time.monotonic()
        self._frame_steps: list[int] = []  # the first frame intervals (ms): PART-TARGET follows them
        self._part_target: float | None = None

    # -- input ------------------------------------------------------------------------------
    def frame(self, timestamp_ms: int, keyframe: bool, *, sample: bytes | None = None, cts_ms: int = 0,
              config: bytes | None = None) -> None:
        """Place a frame on the timeline; its H.264 data (if given) goes into the part it falls in."""
        self._place_frame(timestamp_ms, keyframe)
        if config is not None and config != self.avc_record:
            avc = flv.parse_avc_config(b"\x00" * 5 + config)
            self.avc_record, self.size = config, (avc.width, avc.height) if avc else None
        if sample is None or self.avc_record is None or not self.segments:
            return
        if self._last_sample is not None:
            self._last_sample.duration_ms = max(0, timestamp_ms - self._last_sample.dts_ms)
        self._last_sample = fmp4.Sample(timestamp_ms, cts_ms, keyframe, sample)
        self.segments[-1].parts[-1].samples.append(self._last_sample)

    def audio_frame(self, timestamp_ms: int, data: bytes, config: bytes, samplerate: int,
                    channels: int) -> None:
        """Put an AAC frame into the part open now; its decode time runs on in 1024-sample steps from the
        RTMP timestamp of the first, re-anchored when the encoder's timestamps jump by more than 2 frames."""
        self.audio_config = (config, samplerate, channels)
        if not self.segments:
            return  # before the first video frame: no part to hold it (the video opens the timeline)
        anchored = round(timestamp_ms * samplerate / 1000)
        if self._audio_next is None or abs(anchored - self._audio_next) > 2 * fmp4.AAC_FRAME_SAMPLES:
            self._audio_next = anchored
        self.segments[-1].parts[-1].audio.append(fmp4.AudioSample(self._audio_next, data))
        self._audio_next += fmp4.AAC_FRAME_SAMPLES

    def _place_frame(self, timestamp_ms: int, keyframe: bool) -> None:
        if self.first_ts is None:
            self.first_ts, self.origin = timestamp_ms, now()
        assert self.origin is not None
        if len(self._frame_steps) < PART_TARGET_FRAMES and timestamp_ms > self.last_ts and self.segments:
            self._frame_steps.append(timestamp_ms - self.last_ts)
        self.last_ts = timestamp_ms
        at = self.origin + timedelta(milliseconds=timestamp_ms - self.first_ts)
        current = self.segments[-1] if self.segments else None
        if current is None:
            self._next_boundary = at + timedelta(seconds=self.segment_s)
            self._open(at, keyframe, [])
            return
        for ret in self.returns:
            if ret.held_by is None and ret.at <= at:
                ret.held_by = current.sequence
        tags = self._cut_tags(current, at) if keyframe else None
        if tags is not None:
            self._close(current, at)
            self._open(at, keyframe, tags)
            return
        part = current.parts[-1]
        if (at - part.start).total_seconds() >= self.part_s - 0.001:
            part.duration = (at - part.start).total_seconds()
            current.parts.append(Part(start=at, independent=keyframe))

    def _cut_tags(self, current: Segment, at: datetime) -> list[str] | None:
        """At a keyframe: None to go on, or the tags of the segment that starts here."""
        assert self._next_boundary is not None
        tags: list[str] = []
        close = False
        # An API cue takes effect at the next keyframe (OME: "Force segment flush immediately").
        due = [c for c in self.cuts if c.at <= at]
        if due:
            self.cuts = [c for c in self.cuts if c.at > at]
            tags += [t for c in due for t in self._tags(c, at)]
            self.returns += [_Cut(at + timedelta(seconds=c.duration_s), "in", c.event_id, c.duration_s)
                             for c in due if c.kind == "out" and c.duration_s]
            close = True
        # OME's own cue-in: the segment after the one holding the return is cut at its next keyframe.
        back = [r for r in self.returns if r.held_by is not None and current.sequence > r.held_by
                and at > current.start]
        if back:
            self.returns = [r for r in self.returns if r not in back]
            tags += [t for r in back for t in self._tags(r, at)]
            close = True
        if at >= self._next_boundary - timedelta(milliseconds=1):
            while self._next_boundary <= at + timedelta(milliseconds=1):
                self._next_boundary += timedelta(seconds=self.segment_s)
            close = True
        return tags if close else None

    def cue(self, kind: str, at: datetime, event_id: int | None, duration_s: float | None) -> None:
        """A cue accepted by the API: cut at the next keyframe; a cue-out with a duration schedules its
        cue-in."""
        if kind == "in":
            self.returns = [r for r in self.returns if r.event_id != event_id]
        self.cuts.append(_Cut(at, kind, event_id, duration_s))
        self.cuts.sort(key=lambda c: c.at)

    def _open(self, at: datetime, keyframe: bool, tags: list[str]) -> None:
        self.segments.append(
            Segment(self._sequence, at, parts=[Part(start=at, independent=keyframe)], tags=tags)
        )
        self._sequence += 1
        # Keep the live window: segment_count closed segments plus the open one.
        del self.segments[:-(self.segment_count + 1)]

    @staticmethod
    def _close(segment: Segment, at: datetime) -> None:
        segment.duration = (at - segment.start).total_seconds()
        last = segment.parts[-1]
        last.duration = (at - last.start).total_seconds()
        if last.duration <= 0:
            segment.parts.pop()

    def _tags(self, cut: _Cut, at: datetime) -> list[str]:
        if cut.kind == "out":
            self._outs[cut.event_id] = at
        if not self.daterange:
            return []
        event_id = cut.event_id if cut.event_id is not None else 1
        cue = splice_insert(event_id, out=cut.kind == "out", duration_s=cut.duration_s)
        if cut.kind == "out":
            planned = f",PLANNED-DURATION={cut.duration_s:.3f}" if cut.duration_s else ""
            return [
                f'#EXT-X-DATERANGE:ID="{event_id}",START-DATE="{ome_time(at)}"{planned},SCTE35-OUT={cue.hex()}'
            ]
        started = self._outs.get(cut.event_id, at)
        return [
            f'#EXT-X-DATERANGE:ID="{event_id}",START-DATE="{ome_time(started)}",END-DATE="{ome_time(at)}",'
            f"DURATION={(at - started).total_seconds():.3f},SCTE35-IN={cue.hex()}"
        ]

    # -- readiness (a young stream) -----------------------------------------------------------
    def created_window(self) -> bool:
        """Whether OME would still answer `201 Created` (empty body): the stream exists, not started."""
        return time.monotonic() - self.created < CREATED_WINDOW_S

    def finished_segments(self) -> int:
        """How many segments have been closed since the publish began."""
        return max(0, self._sequence - 1)

    def ready_for(self, segments: int, *, held: bool) -> bool:
        """Whether a playlist request waiting for `segments` finished segments is answered now.

        Real OME v0.20.0 (llhls_warmup_timeline.txt): a master sent just after the first segment closed
        was answered at once (sent 6.38 s, answered 6.52 s), while those held since 1.55 s were all
        answered together at 6.98 s, one part later; the first chunklists likewise, one segment later,
        with 2 segments and 25 parts listed. So a new request needs the segments finished, a held one
        also the next segment's first part.
        """
        finished = self.finished_segments()
        if finished != segments:
            return finished > segments
        return not held or len(self.segments[-1].parts) >= 2

    @property
    def part_target_s(self) -> float:
        """PART-TARGET as OME advertises it: the real part length, whole frames of at least the configured
        part (llhls_chunklist_25fps.m3u8: 13 frames = 0.520000 at 25 fps; 0.500000 at 30 fps)."""
        if self._part_target is None:
            if len(self._frame_steps) < PART_TARGET_FRAMES:
                return self.part_s
            step_s = sum(self._frame_steps) / len(self._frame_steps) / 1000
            frames = math.ceil(self.part_s / step_s - 0.01)  # 0.01: 30 fps in whole ms is still 15 frames
            self._part_target = round(max(self.part_s, frames * step_s), 3)
        return self._part_target

    # -- output -----------------------------------------------------------------------------
    def lists(self, msn: int, part: int) -> bool:
        """Whether the chunklist lists part `part` of segment `msn` (a closed segment lists them all)."""
        for segment in self.segments:
            if segment.sequence == msn:
                return segment is not self.segments[-1] or part < len(segment.parts) - 1
        return bool(self.segments) and msn < self.segments[0].sequence

    def find_part(self, msn: int, index: int) -> tuple[Part, bool] | None:
        """The part and whether it is complete (listed), or None when outside the live window."""
        for segment in self.segments:
            if segment.sequence == msn and index < len(segment.parts):
                complete = segment is not self.segments[-1] or index < len(segment.parts) - 1
                return segment.parts[index], complete
        return None

    def part_media(self, msn: int, index: int) -> bytes | None:
        found = self.find_part(msn, index)
        if found is None or not found[0].samples:
            return None
        return b"".join(found[0].emsgs) + fmp4.fragment(msn * 1000 + index + 1, found[0].samples)

    def segment_media(self, msn: int) -> bytes | None:
        segment = next((s for s in self.segments if s.sequence == msn), None)
        if segment is None or segment is self.segments[-1]:
            return None
        return b"".join(b"".join(p.emsgs) + fmp4.fragment(msn * 1000 + i + 1, p.samples)
                        for i, p in enumerate(segment.parts))

    def init_media(self) -> bytes | None:
        if self.avc_record is None or self.size is None:
            return None
        return fmp4.init_section(self.avc_record, *self.size)

    def audio_init_media(self) -> bytes | None:
        return None if self.audio_config is None else fmp4.audio_init_section(*self.audio_config)

    def audio_part_media(self, msn: int, index: int) -> bytes | None:
        found = self.find_part(msn, index)
        if found is None or not found[0].audio:
            return None
        return fmp4.audio_fragment(msn * 1000 + index + 1, found[0].audio)

    def audio_segment_media(self, msn: int) -> bytes | None:
        segment = next((s for s in self.segments if s.sequence == msn), None)
        if segment is None or segment is self.segments[-1]:
            return None
        return b"".join(fmp4.audio_fragment(msn * 1000 + i + 1, p.audio) for i, p in enumerate(segment.parts))

    def chunklist(self, track: int, kind: str, session: str) -> str:
        name = f"{kind}_{self.key}_llhls"
        closed = self.segments[:-1]
        target = max([round(self.segment_s)] + [round(s.duration) for s in closed])
        part_target = self.part_target_s
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}",
                 f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={part_target * 3:.6f}",
                 f"#EXT-X-PART-INF:PART-TARGET={part_target:.6f}",
                 f"#EXT-X-MEDIA-SEQUENCE:{self.segments[0].sequence if self.segments else 0}",
                 f'#EXT-X-MAP:URI="init_{track}_{kind}_{self.key}_llhls.m4s?session={session}"']
        shown, hint = self.segments, None
        if len(self.segments) >= 2 and len(self.segments[-1].parts) == 1:
            # The frame that closed a segment's last part opened the next segment: until that one's first
            # part is done, OME lists the closed segment's parts without its EXTINF and hints the NEXT
            # segment's part 0 (llhls_preload_hint_at_segment_end.m3u8); the reload for that part then
            # gets the EXTINF and part 0 (llhls_blocking_reload_across_segment.m3u8.http).
            shown = self.segments[:-1]
            hint = f"part_{track}_{self.segments[-1].sequence}_0_{name}.m4s?session={session}"
        # OME lists parts only for the most recent segments (about three part-hold-backs).
        with_parts = {s.sequence for s in shown[-3:]}
        for segment in shown:
            lines.extend(segment.tags)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{ome_time(segment.start)}")
            is_open = segment is shown[-1]
            if segment.sequence in with_parts:
                parts = segment.parts[:-1] if is_open and hint is None else segment.parts
                for index, part in enumerate(parts):
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    lines.append(f'#EXT-X-PART:DURATION={part.duration:.6f},URI="part_{track}_{segment.sequence}_'
                                 f'{index}_{name}.m4s?session={session}"{independent}')
            if is_open:
                hint = hint or (f"part_{track}_{segment.sequence}_{len(segment.parts) - 1}_{name}.m4s"
                                f"?session={session}")
                lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{hint}"')
            else:
                lines += [
                    f"#EXTINF:{segment.duration:.6f},",
                    f"seg_{track}_{segment.sequence}_{name}.m4s?session={session}",
                ]
        return "\n".join(lines) + "\n"


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

