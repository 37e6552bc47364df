"""Fragmented MP4 (CMAF-style) for one H.264 or AAC track: an init section and moof+mdat fragments.

The emulator's LL-HLS parts carry the ingested media: an RTMP H.264 frame is already what MP4
stores (length-prefixed NAL units, FLV's AVCPacket body) and the FLV sequence header is the
AVCDecoderConfigurationRecord an `avcC` box holds, so no transcoding is needed. OME serves fMP4
parts (`video/mp4`, `init_*.m4s`/`part_*.m4s` in llhls_*.http); the box layout here is the
ordinary ISO BMFF one, not a byte copy of OME's (no capture of part bodies exists). The same holds
for AAC: an FLV AACPacket body is a raw AAC frame and its sequence header is the AudioSpecificConfig
an `esds` holds; OME serves audio as its own rendition (`chunklist_1_audio_*` in llhls_master.m3u8.http).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TIMESCALE = 1000  # RTMP timestamps are milliseconds: keep them as they are


@dataclass
class Sample:
    """One video frame: FLV timestamp (decode time, ms), composition offset (ms), keyframe, data."""

    dts_ms: int
    cts_ms: int
    keyframe: bool
    data: bytes
    duration_ms: int = 0  # set when the next frame arrives


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _single_track_init(*, timescale: int, volume: int, width: int, height: int, handler: bytes,
                       handler_name: bytes, media_header: bytes, sample_entry: bytes) -> bytes:
    """ftyp + moov of one fragmented track (track id 1): what the video and the audio init sections share."""
    mvhd = _full(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, 0),
                 struct.pack(">IH10x", 0x10000, 0x100), _MATRIX, b"\x00" * 24, struct.pack(">I", 2))
    tkhd = _full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, 0), b"\x00" * 8,
                 struct.pack(">HHHH", 0, 0, volume, 0), _MATRIX,
                 struct.pack(">II", width << 16, height << 16))
    mdhd = _full(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, 0), struct.pack(">HH", 0x55C4, 0))
    hdlr = _full(b"hdlr", 0, 0, struct.pack(">I", 0), handler, b"\x00" * 12, handler_name)
    stbl = _box(b"stbl", _full(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
                _full(b"stts", 0, 0, struct.pack(">I", 0)), _full(b"stsc", 0, 0, struct.pack(">I", 0)),
                _full(b"stsz", 0, 0, struct.pack(">II", 0, 0)), _full(b"stco", 0, 0, struct.pack(">I", 0)))
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    minf = _box(b"minf", media_header, dinf, stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    mvex = _box(b"mvex", _full(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    ftyp = _box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6cmfcmp41")
    return ftyp + _box(b"moov", mvhd, trak, mvex)


def init_section(avcc: bytes, width: int, height: int) -> bytes:
    """ftyp + moov for one H.264 track (track id 1) in TIMESCALE units."""
    avc1 = _box(b"avc1", b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 16, struct.pack(">HH", width, height),
                struct.pack(">II", 0x480000, 0x480000), struct.pack(">I", 0), struct.pack(">H", 1),
                b"\x00" * 32, struct.pack(">Hh", 0x18, -1), _box(b"avcC", avcc))
    return _single_track_init(timescale=TIMESCALE, volume=0, width=width, height=height, handler=b"vide",
                              handler_name=b"VideoHandler\x00",
                              media_header=_full(b"vmhd", 0, 1, b"\x00" * 8), sample_entry=avc1)


def fragment(sequence: int, samples: list[Sample]) -> bytes:
    """One moof+mdat holding `samples` (their durations set), decode time of the first in tfdt."""
    if not samples:
        return b""
    entries = b"".join(
        struct.pack(">IIIi", s.duration_ms, len(s.data), 0x02000000 if s.keyframe else 0x01010000, s.cts_ms)
        for s in samples)
    flags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800  # offset, duration, size, flags, cts
    # trun's data offset counts from the moof start to the first sample byte in mdat.
    trun_len = 12 + 8 + 16 * len(samples)
    traf_len = 8 + 16 + 20 + trun_len  # traf header, tfhd, tfdt (version 1), trun
    moof_len = 8 + 16 + traf_len
    trun = _full(b"trun", 1, flags, struct.pack(">Ii", len(samples), moof_len + 8), entries)
    traf = _box(b"traf", _full(b"tfhd", 0, 0x020000, struct.pack(">I", 1)),
                _full(b"tfdt", 1, 0, struct.pack(">Q", samples[0].dts_ms)), trun)
    moof = _box(b"moof", _full(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)
    return moof + _box(b"mdat", *(s.data for s in samples))


# AAC (ISO 14496-3): every raw frame of AAC-LC is 1024 samples; an audio track's timescale is its rate.
AAC_FRAME_SAMPLES = 1024


@dataclass
class AudioSample:
    """One raw AAC frame (FLV AACPacket body after its 2-byte header) and its decode time in samples."""

    dts: int
    data: bytes


def _descriptor(tag: int, payload: bytes) -> bytes:
    # ISO 14496-1 expandable size: one byte while it fits (every descriptor here is small).
    assert len(payload) < 0x80
    return bytes([tag, len(payload)]) + payload


def _esds(audio_specific_config: bytes) -> bytes:
    """The esds box: ES descriptor → DecoderConfig (AAC = object type 0x40, audio stream) → the ASC."""
    decoder_config = _descriptor(4, bytes([0x40, 0x15]) + b"\x00\x00\x00" + struct.pack(">II", 0, 0)
                                 + _descriptor(5, audio_specific_config))
    es = _descriptor(3, struct.pack(">HB", 1, 0) + decoder_config + _descriptor(6, b"\x02"))
    return _full(b"esds", 0, 0, es)


def audio_init_section(audio_specific_config: bytes, samplerate: int, channels: int) -> bytes:
    """ftyp + moov for one AAC track (track id 1, timescale = sample rate): `mp4a` with the encoder's ASC.

    The AudioSpecificConfig is the RTMP AAC sequence header's body, as an MP4 `esds` holds it."""
    mp4a = _box(b"mp4a", b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 8,
                struct.pack(">HHHH", channels, 16, 0, 0), struct.pack(">I", (samplerate << 16) & 0xFFFFFFFF),
                _esds(audio_specific_config))
    return _single_track_init(timescale=samplerate, volume=0x0100, width=0, height=0, handler=b"soun",
                              handler_name=b"SoundHandler\x00",
                              media_header=_full(b"smhd", 0, 0, b"\x00" * 4), sample_entry=mp4a)


def audio_fragment(sequence: int, samples: list[AudioSample]) -> bytes:
    """One moof+mdat of AAC frames (1024 samples each; every frame is a sync sample, trex's default)."""
    if not samples:
        return b""
    entries = b"".join(struct.pack(">II", AAC_FRAME_SAMPLES, len(s.data)) for s in samples)
    flags = 0x000001 | 0x000100 | 0x000200  # data offset, duration, size
    trun_len = 12 + 8 + 8 * len(samples)
    moof_len = 8 + 16 + 8 + 16 + 20 + trun_len
    trun = _full(b"trun", 0, flags, struct.pack(">Ii", len(samples), moof_len + 8), entries)
    traf = _box(b"traf", _full(b"tfhd", 0, 0x020000, struct.pack(">I", 1)),
                _full(b"tfdt", 1, 0, struct.pack(">Q", samples[0].dts)), trun)
    moof = _box(b"moof", _full(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)
    return moof + _box(b"mdat", *(s.data for s in samples))


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3_txxx(description: str, value: str) -> bytes:
    """An ID3v2.4 tag with one TXXX frame (UTF-8), the frame `:sendEvent` id3v2 asks for."""
    body = b"\x03" + description.encode() + b"\x00" + value.encode()
    frame = b"TXXX" + _syncsafe(len(body)) + b"\x00\x00" + body
    return b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame


def emsg_id3(tag: bytes, presentation_ms: int, event_id: int) -> bytes:
    """An `emsg` (version 1) carrying an ID3 tag, scheme https://aomedia.org/emsg/ID3 (AOM's ID3-in-CMAF)."""
    return _full(b"emsg", 1, 0, struct.pack(">IQII", TIMESCALE, presentation_ms, 0, event_id),
                 b"https://aomedia.org/emsg/ID3\x00", b"\x00", tag)
