"""Insert SCTE-35 splice sections into a live MPEG-TS byte stream (the in-band path of OME v0.21+).

The PMT gains a SCTE-35 elementary stream (stream_type 0x86) and the 'CUEI' registration
descriptor SCTE 35 §8.1 asks for; at the chosen time the section goes out in its own packet,
right before the first video keyframe at or after it, with splice_time = that keyframe's PTS.
The splice info itself is built by threefive. The same author's injector (superkabuki 0.0.63)
was tried first: it crashes with threefive 3.x (`_pusi_flag` on bytes), so this module keeps the
TS handling minimal and is tested by reading its output back with threefive and ffprobe.
Assumes what ffmpeg's muxer writes: one program, PAT and PMT each in a single packet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threefive.crc import crc32

from ome_harness.scte35.splice import splice_insert

PACKET = 188
SYNC = 0x47
SCTE35_STREAM_TYPE = 0x86
VIDEO_STREAM_TYPES = {0x1B: "H264", 0x24: "H265", 0x02: "MPEG2"}
CUEI = b"\x05\x04CUEI"


@dataclass
class _Scheduled:
    event_id: int
    at_s: float
    duration_s: float | None
    out: bool


@dataclass(frozen=True)
class Inserted:
    event_id: int
    out: bool
    duration_s: float | None
    pts_s: float
    offset_s: float
    section: bytes


@dataclass
class Scte35Injector:
    """A streaming filter: `feed(bytes) -> bytes`, cues scheduled in seconds after the first video PTS."""

    pid: int = 0x1F0
    pmt_pid: int | None = None
    video_pid: int | None = None
    inserted: list[Inserted] = field(default_factory=list)
    _pending: list[_Scheduled] = field(default_factory=list)
    _buffer: bytes = b""
    _cc: int = 0
    _first_pts: int | None = None
    elapsed_s: float = 0.0

    def schedule(
        self, event_id: int, at_s: float, *, duration_s: float | None = None, out: bool = True
    ) -> None:
        self._pending.append(_Scheduled(event_id, at_s, duration_s, out))
        self._pending.sort(key=lambda s: s.at_s)

    def feed(self, data: bytes) -> bytes:
        data = self._buffer + data
        usable = len(data) - len(data) % PACKET
        self._buffer = data[usable:]
        out = bytearray()
        for start in range(0, usable, PACKET):
            out += self._packet(data[start:start + PACKET])
        return bytes(out)

    # -- per packet -------------------------------------------------------------------------
    def _packet(self, packet: bytes) -> bytes:
        if packet[0] != SYNC:
            raise ValueError("lost MPEG-TS sync (byte 0x47 expected every 188 bytes)")
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        start = bool(packet[1] & 0x40)
        if pid == 0 and start and self.pmt_pid is None:
            self.pmt_pid = _pmt_pid(_section(packet))
        elif pid == self.pmt_pid and start:
            return self._rewrite_pmt(packet)
        elif pid == self.video_pid and start:
            return self._before_keyframe(packet) + packet
        return packet

    def _rewrite_pmt(self, packet: bytes) -> bytes:
        section = _section(packet)
        program_info_length = ((section[10] & 0x0F) << 8) | section[11]
        program_info = section[12:12 + program_info_length]
        streams = section[12 + program_info_length:-4]
        index = 0
        while index + 5 <= len(streams):
            stream_type = streams[index]
            es_pid = ((streams[index + 1] & 0x1F) << 8) | streams[index + 2]
            if stream_type in VIDEO_STREAM_TYPES and self.video_pid is None:
                self.video_pid = es_pid
            if es_pid == self.pid:
                return packet  # already carries our stream (a repeated, already rewritten PMT)
            index += 5 + (((streams[index + 3] & 0x0F) << 8) | streams[index + 4])
        if CUEI not in program_info:
            program_info += CUEI
        scte35 = bytes([SCTE35_STREAM_TYPE, 0xE0 | (self.pid >> 8), self.pid & 0xFF, 0xF0, 0x00])
        body = (section[3:10] + bytes([0xF0 | (len(program_info) >> 8), len(program_info) & 0xFF])
                + program_info + streams + scte35)
        length = len(body) + 4
        head = bytes([section[0], 0xB0 | (length >> 8), length & 0xFF])
        new_section = head + body
        new_section += crc32(new_section).to_bytes(4, "big")
        return _single_packet(packet, new_section)

    def _before_keyframe(self, packet: bytes) -> bytes:
        pts = _pes_pts(packet)
        if pts is None:
            return b""
        if self._first_pts is None:
            self._first_pts = pts
        offset = ((pts - self._first_pts) % (1 << 33)) / 90_000
        self.elapsed_s = offset
        if not self._pending or not _random_access(packet):
            return b""
        out = b""
        while self._pending and self._pending[0].at_s <= offset:
            cue = self._pending.pop(0)
            section = splice_insert(
                cue.event_id, out=cue.out, duration_s=cue.duration_s, pts_s=pts / 90_000
            ).bites
            out += self._scte35_packet(bytes(section))
            self.inserted.append(Inserted(cue.event_id, cue.out, cue.duration_s, pts / 90_000, offset,
                                          bytes(section)))
        return out

    def _scte35_packet(self, section: bytes) -> bytes:
        header = bytes([SYNC, 0x40 | (self.pid >> 8), self.pid & 0xFF, 0x10 | self._cc])
        self._cc = (self._cc + 1) & 0x0F
        payload = b"\x00" + section
        if len(payload) > PACKET - 4:
            raise ValueError("splice info section too long for one TS packet")
        return header + payload + b"\xff" * (PACKET - 4 - len(payload))


def _payload(packet: bytes) -> bytes:
    control = (packet[3] >> 4) & 0x3
    offset = 4
    if control & 0x2:
        offset += 1 + packet[4]
    return packet[offset:] if control & 0x1 else b""


def _section(packet: bytes) -> bytes:
    payload = _payload(packet)
    pointer = payload[0]
    body = payload[1 + pointer:]
    length = ((body[1] & 0x0F) << 8) | body[2]
    return body[:3 + length]


def _single_packet(original: bytes, section: bytes) -> bytes:
    payload = b"\x00" + section
    if len(payload) > PACKET - 4:
        raise ValueError("rewritten PMT does not fit one TS packet")
    header = bytes([original[0], original[1], original[2], 0x10 | (original[3] & 0x0F)])
    return header + payload + b"\xff" * (PACKET - 4 - len(payload))


def _pmt_pid(pat: bytes) -> int | None:
    for index in range(8, len(pat) - 4, 4):
        program = (pat[index] << 8) | pat[index + 1]
        if program != 0:
            return ((pat[index + 2] & 0x1F) << 8) | pat[index + 3]
    return None


def _random_access(packet: bytes) -> bool:
    return bool((packet[3] & 0x20) and packet[4] > 0 and packet[5] & 0x40)


def _pes_pts(packet: bytes) -> int | None:
    pes = _payload(packet)
    if len(pes) < 14 or pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    return (((p[0] >> 1) & 0x07) << 30) | (p[1] << 22) | ((p[2] >> 1) << 15) | (p[3] << 7) | (p[4] >> 1)
