"""What the fetched LL-HLS media really is (ffprobe), and how late the live edge runs behind the encoder.

Live edge latency (method "encoder media clock"): the test encoder runs ffmpeg with `-re`, so the
frame with media timestamp T leaves it at (encoder start + T). That timestamp travels in-band
(RTMP timestamp → the part's fMP4 `tfdt` + sample durations), so the newest frame of a part is
known from the part's own bytes; latency = when the part finished downloading − when that frame was
sent. The encoder's start is taken when its process starts, a little before its first frame, so
the number errs high (by ffmpeg's start-up time), never low. It assumes the server keeps the
encoder's timestamps (the emulator does; OME rebasing them would show as a wrong, flagged value).
"""

from __future__ import annotations

import json
import statistics
import struct
import subprocess
import time
from dataclasses import dataclass

from ome_harness.playback.llhls_viewer import FetchEvent

FFPROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class MediaFacts:
    codec: str
    width: int
    height: int
    framerate: float
    frames: int
    gaps: list[str]  # "a 0.400 s gap before 12.300 s" for each hole in the decode timeline


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    count: int
    method: str

    def __str__(self) -> str:
        return f"p50 {self.p50:.3f} s, p95 {self.p95:.3f} s over {self.count} ({self.method})"


def percentiles(values: list[float], method: str) -> Percentiles | None:
    if not values:
        return None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Percentiles(statistics.median(ordered), p95, len(ordered), method)


def probe(media: bytes, *, ffprobe: str = "ffprobe") -> MediaFacts:
    """Decode init + parts with ffprobe: the video stream's codec, size, frame rate and timestamp gaps."""
    command = [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
               "stream=codec_name,width,height,avg_frame_rate,r_frame_rate:packet=dts_time,duration_time",
               "-of", "json", "-i", "pipe:0"]
    done = subprocess.run(command, input=media, capture_output=True, timeout=FFPROBE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise ValueError(
            f"ffprobe could not read the fetched media: {done.stderr.decode(errors='replace')[-200:]}"
        )
    data = json.loads(done.stdout or b"{}")
    streams = data.get("streams") or []
    if not streams:
        raise ValueError("the fetched media has no video stream")
    stream = streams[0]
    rate = stream.get("avg_frame_rate") or stream.get("r_frame_rate") or "0/1"
    num, _, den = rate.partition("/")
    framerate = float(num) / float(den or 1) if float(den or 1) else 0.0
    packets = [p for p in data.get("packets") or [] if "dts_time" in p]
    gaps = []
    for before, after in zip(packets, packets[1:], strict=False):
        expected = float(before["dts_time"]) + float(before.get("duration_time") or 0)
        hole = float(after["dts_time"]) - expected
        if hole > 0.5 / max(framerate, 1.0):  # more than half a frame missing between two frames
            gaps.append(f"a {hole:.3f} s gap before {float(after['dts_time']):.3f} s")
    return MediaFacts(
        stream.get("codec_name", "?"),
        int(stream.get("width", 0)),
        int(stream.get("height", 0)),
        round(framerate, 3),
        len(packets),
        gaps,
    )


def contiguous_media(events: list[FetchEvent]) -> bytes:
    """The init section plus the longest run of consecutive parts fetched (with kept media)."""
    init = next((e.body for e in events if e.kind == "init" and e.ok and e.body), b"")
    parts = [e for e in events if e.kind == "part" and e.ok and e.body]
    runs: list[list[FetchEvent]] = []
    for event in parts:
        if runs and _follows(runs[-1][-1], event):
            runs[-1].append(event)
        else:
            runs.append([event])
    best = max(runs, key=len) if runs else []
    return init + b"".join(e.body for e in best)


def _follows(before: FetchEvent, after: FetchEvent) -> bool:
    assert before.msn is not None and before.part is not None and after.msn is not None
    return (after.msn, after.part) == (before.msn, before.part + 1) or (after.msn == before.msn + 1
                                                                         and after.part == 0)


def mismatches(facts: MediaFacts, *, codec: str, width: int, height: int, framerate: float) -> list[str]:
    """Differences between what was decoded and what the encoder sent, in words."""
    found = []
    if facts.codec.lower() != codec.lower():
        found.append(f"codec {facts.codec}, the encoder sent {codec}")
    if (facts.width, facts.height) != (width, height):
        found.append(f"{facts.width}x{facts.height}, the encoder sent {width}x{height}")
    if abs(facts.framerate - framerate) > 0.5:
        found.append(f"{facts.framerate:g} fps, the encoder sent {framerate:g}")
    return found


def last_frame_ms(fragment: bytes) -> int | None:
    """Decode time (ms) of the newest sample in an fMP4 part: last moof's tfdt + its sample durations.

    Returns None when the part has no moof/tfdt/trun it can read (e.g. a placeholder).
    """
    newest: int | None = None
    offset = 0
    while offset + 8 <= len(fragment):
        size, kind = struct.unpack(">I4s", fragment[offset:offset + 8])
        if size < 8:
            return newest
        if kind == b"moof":
            newest = _moof_last_dts(fragment[offset + 8:offset + size]) or newest
        offset += size
    return newest


def _moof_last_dts(moof: bytes) -> int | None:
    traf = _child(moof, b"traf")
    if traf is None:
        return None
    tfdt, trun = _child(traf, b"tfdt"), _child(traf, b"trun")
    if tfdt is None or trun is None:
        return None
    base = struct.unpack(">Q", tfdt[4:12])[0] if tfdt[0] == 1 else struct.unpack(">I", tfdt[4:8])[0]
    flags = int.from_bytes(trun[1:4], "big")
    count = struct.unpack(">I", trun[4:8])[0]
    if not flags & 0x100 or count == 0:
        return base
    cursor = 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    per_sample = 4 * sum(bool(flags & bit) for bit in (0x100, 0x200, 0x400, 0x800))
    durations = [struct.unpack(">I", trun[cursor + i * per_sample:cursor + i * per_sample + 4])[0]
                 for i in range(count)]
    return base + sum(durations[:-1])


def _child(box: bytes, kind: bytes) -> bytes | None:
    offset = 0
    while offset + 8 <= len(box):
        size, name = struct.unpack(">I4s", box[offset:offset + 8])
        if size < 8:
            return None
        if name == kind:
            return box[offset + 8:offset + size]
        offset += size
    return None


def wall_clock_of(monotonic_s: float) -> float:
    """A `time.monotonic()` instant (e.g. `FfmpegEncoder.started_at`) on the wall clock."""
    return time.time() - (time.monotonic() - monotonic_s)


def live_edge_latencies(events: list[FetchEvent], encoder_start_wall: float, *, timescale: int = 1000,
                        first_frame_ms: int = 0) -> list[float]:
    """Per part: download finished − send time of its newest frame (method in the module docstring)."""
    found = []
    for event in events:
        if event.kind != "part" or not event.ok or not event.body:
            continue
        newest = last_frame_ms(event.body)
        if newest is None:
            continue
        sent = encoder_start_wall + (newest * 1000 / timescale - first_frame_ms) / 1000
        found.append(event.at - sent)
    return found
