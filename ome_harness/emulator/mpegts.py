"""Enough of an MPEG-TS demuxer to learn an SRT input's tracks from the bytes an encoder sends.

PAT → PMT → the elementary streams (H.264 0x1B, AAC/ADTS 0x0F); from the PES packets: the SPS
(size), PTS/DTS (frame rate, B-frames), keyframes (random-access flag or an IDR NAL unit) and the
ADTS header (sample rate, channels). Other stream types (SCTE-35 0x86, metadata) are counted as
seen and otherwise ignored, as OME's own TS depacketizer does (`../shared/ome-api.md`, in-band
SCTE-35).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ome_harness.emulator.flv import AAC_RATES, parse_sps

PACKET = 188
SYNC = 0x47
STREAM_H264, STREAM_AAC_ADTS = 0x1B, 0x0F
# How much of a video PES is scanned for SPS and IDR NAL units (they come first in an access unit).
SCAN_BYTES = 4096

# (timestamp in ms, keyframe): one call per video access unit.
FrameListener = Callable[[int, bool], None]
# (table id): one call per PSI section on a PID of another stream type, which OME does not read.
SectionListener = Callable[[int], None]


@dataclass
class TsTracks:
    """What the demuxer has learned so far; zeros until the bytes told."""

    video_codec: str | None = None
    width: int = 0
    height: int = 0
    has_bframes: bool = False
    video_frames: int = 0
    key_frames: int = 0
    first_pts_ms: int | None = None
    last_pts_ms: int = 0
    video_bytes: int = 0
    audio_codec: str | None = None
    samplerate: int = 0
    channels: int = 0
    audio_bytes: int = 0
    other_stream_types: set[int] = field(default_factory=set)

    def framerate(self) -> float:
        """Frames per second measured over the PTS span seen so far (0.0 before two frames)."""
        if self.first_pts_ms is None or self.last_pts_ms <= self.first_pts_ms or self.video_frames < 2:
            return 0.0
        return (self.video_frames - 1) * 1000 / (self.last_pts_ms - self.first_pts_ms)

    def key_frame_interval(self) -> float:
        return self.video_frames / self.key_frames if self.key_frames else 0.0


class TsDemuxer:
    """Feed it TS bytes in any slicing; it fills `tracks` and reports video frames to `on_frame`."""

    def __init__(self, on_frame: FrameListener | None = None) -> None:
        self.tracks = TsTracks()
        self.on_frame = on_frame
        self.on_ignored_section: SectionListener | None = None
        self._other_pids: set[int] = set()
        self._rest = b""
        self._pmt_pids: set[int] = set()
        self._video_pid: int | None = None
        self._audio_pid: int | None = None
        self._video_head = bytearray()
        self._video_scanned = True
        self._key = False
        self._dts_ms = 0

    def feed(self, data: bytes) -> None:
        data = self._rest + data
        offset = 0
        while offset + PACKET <= len(data):
            if data[offset] != SYNC:
                # Lost sync (a partial message): look for the next sync byte.
                offset += 1
                continue
            self._packet(data[offset:offset + PACKET])
            offset += PACKET
        self._rest = data[offset:]

    def _packet(self, packet: bytes) -> None:
        start = bool(packet[1] & 0x40)
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        control = (packet[3] >> 4) & 0x3
        index = 4
        random_access = False
        if control & 0x2:
            length = packet[4]
            if length and index + 1 < PACKET:
                random_access = bool(packet[5] & 0x40)
            index += 1 + length
        if not control & 0x1 or index >= PACKET:
            return
        payload = packet[index:]
        if pid == 0 and start:
            self._pat(payload)
        elif pid in self._pmt_pids and start:
            self._pmt(payload)
        elif pid == self._video_pid:
            self._video(payload, start, random_access)
        elif pid == self._audio_pid:
            self.tracks.audio_bytes += len(payload)
            if start and not self.tracks.samplerate:
                self._adts(_pes_payload(payload))
        elif pid in self._other_pids and start and self.on_ignored_section is not None:
            section = _section(payload)
            if section:
                self.on_ignored_section(section[0])

    def _pat(self, payload: bytes) -> None:
        section = _section(payload)
        for at in range(8, len(section) - 4, 4):
            program, pid = int.from_bytes(section[at:at + 2], "big"), int.from_bytes(section[at + 2:at + 4], "big")
            if program:
                self._pmt_pids.add(pid & 0x1FFF)

    def _pmt(self, payload: bytes) -> None:
        section = _section(payload)
        if len(section) < 12:
            return
        at = 12 + (int.from_bytes(section[10:12], "big") & 0x0FFF)
        while at + 5 <= len(section) - 4:
            stream_type, pid = section[at], int.from_bytes(section[at + 1:at + 3], "big") & 0x1FFF
            if stream_type == STREAM_H264 and self._video_pid is None:
                self._video_pid, self.tracks.video_codec = pid, "H264"
            elif stream_type == STREAM_AAC_ADTS and self._audio_pid is None:
                self._audio_pid, self.tracks.audio_codec = pid, "AAC"
            elif stream_type not in (STREAM_H264, STREAM_AAC_ADTS):
                self.tracks.other_stream_types.add(stream_type)
                self._other_pids.add(pid)
            at += 5 + (int.from_bytes(section[at + 3:at + 5], "big") & 0x0FFF)

    def _video(self, payload: bytes, start: bool, random_access: bool) -> None:
        tracks = self.tracks
        tracks.video_bytes += len(payload)
        if start:
            self._finish_scan()
            stamps = _pes_stamps(payload)
            if stamps is None:
                return
            pts, dts = stamps
            pts_ms = pts // 90
            tracks.has_bframes = tracks.has_bframes or (dts is not None and dts != pts)
            if tracks.first_pts_ms is None:
                tracks.first_pts_ms = pts_ms
            # Frame rate from presentation order: B-frames make single PTS steps go backwards.
            tracks.last_pts_ms = max(tracks.last_pts_ms, pts_ms)
            tracks.video_frames += 1
            self._key = random_access
            self._dts_ms = (dts if dts is not None else pts) // 90
            self._video_head = bytearray(_pes_payload(payload))
            self._video_scanned = False
        elif not self._video_scanned:
            self._video_head += payload
        if not self._video_scanned and len(self._video_head) >= SCAN_BYTES:
            self._finish_scan()

    def _finish_scan(self) -> None:
        if self._video_scanned:
            return
        self._video_scanned = True
        key = self._key
        for nal in _nal_units(bytes(self._video_head)):
            kind = nal[0] & 0x1F
            key = key or kind == 5
            if kind == 7 and not self.tracks.width:
                size = parse_sps(nal)
                if size:
                    self.tracks.width, self.tracks.height = size
        self.tracks.key_frames += key
        if self.on_frame is not None:
            self.on_frame(self._dts_ms, key)

    def _adts(self, data: bytes) -> None:
        if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF0 != 0xF0:
            return
        rate_index = (data[2] >> 2) & 0x0F
        if rate_index < len(AAC_RATES):
            self.tracks.samplerate = AAC_RATES[rate_index]
            self.tracks.channels = ((data[2] & 0x1) << 2) | (data[3] >> 6)


def _section(payload: bytes) -> bytes:
    """A PSI section (pointer field skipped), cut to its declared length."""
    if not payload:
        return b""
    body = payload[1 + payload[0]:]
    if len(body) < 3:
        return b""
    return body[:3 + (int.from_bytes(body[1:3], "big") & 0x0FFF)]


def _timestamp(data: bytes) -> int:
    return (((data[0] >> 1) & 0x07) << 30) | (data[1] << 22) | ((data[2] >> 1) << 15) | (data[3] << 7) | (data[4] >> 1)


def _pes_stamps(payload: bytes) -> tuple[int, int | None] | None:
    """(PTS, DTS or None) in 90 kHz ticks from a PES header."""
    if len(payload) < 14 or payload[:3] != b"\x00\x00\x01":
        return None
    flags = payload[7] >> 6
    if not flags & 0x2:
        return None
    pts = _timestamp(payload[9:14])
    dts = _timestamp(payload[14:19]) if flags == 0x3 and len(payload) >= 19 else None
    return pts, dts


def _pes_payload(payload: bytes) -> bytes:
    if len(payload) < 9 or payload[:3] != b"\x00\x00\x01":
        return b""
    return payload[9 + payload[8]:]


def _nal_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    units: list[bytes] = []
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        begin = at + 3
        at = data.find(b"\x00\x00\x01", begin)
        end = len(data) if at < 0 else at
        unit = data[begin:end].rstrip(b"\x00")
        if unit:
            units.append(unit)
    return units
