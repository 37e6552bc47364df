"""The segment/part timeline of one emulated LL-HLS stream: frames in, segments and parts out, cut by cues.

Driven by the encoder's own frames (timestamps and keyframes): segments close on the first keyframe past
each multiple of the segment duration (a fixed grid: a cut does not move it), parts close every part
target, PART-TARGET follows whole frames (llhls_chunklist_25fps.m3u8). The SCTE-35 cuts follow OME v0.20's
measured behaviour (llhls.py's docstring has the facts); the HTTP side (warm-up, holds, answers) is
llhls.py's.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ome_harness.emulator import flv, fmp4
from ome_harness.emulator.state import EmulatedStream, now, ome_time
from ome_harness.scte35.splice import splice_insert

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
