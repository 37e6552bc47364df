"""What the FLV tag headers of an RTMP publish tell about its tracks (codec, size, rates).

RTMP audio/video messages carry FLV tag bodies: a first byte with codec and frame type, then
for AVC/AAC a packet type whose 0 marks the decoder configuration (AVC sequence header /
AudioSpecificConfig). Sizes come from the SPS inside the AVC header (onMetaData may lie or be
absent), sample rates from the AudioSpecificConfig (the FLV rate bits say 44 kHz for every AAC).
"""

from __future__ import annotations

from dataclasses import dataclass

VIDEO_CODECS = {2: "H263", 3: "SCREEN", 4: "VP6", 5: "VP6A", 6: "SCREEN2", 7: "H264", 12: "H265"}
AUDIO_CODECS = {2: "MP3", 10: "AAC", 11: "SPEEX", 14: "MP3"}
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


@dataclass(frozen=True)
class VideoTag:
    codec: str
    keyframe: bool
    config: bool


@dataclass(frozen=True)
class AudioTag:
    codec: str
    config: bool


@dataclass(frozen=True)
class AvcConfig:
    profile: int
    level: int
    width: int
    height: int


@dataclass(frozen=True)
class AacConfig:
    object_type: int
    samplerate: int
    channels: int


def parse_video_tag(body: bytes) -> VideoTag | None:
    if not body:
        return None
    codec = VIDEO_CODECS.get(body[0] & 0x0F, f"codec {body[0] & 0x0F}")
    config = codec == "H264" and len(body) > 1 and body[1] == 0
    return VideoTag(codec=codec, keyframe=body[0] >> 4 == 1, config=config)


def parse_audio_tag(body: bytes) -> AudioTag | None:
    if not body:
        return None
    codec = AUDIO_CODECS.get(body[0] >> 4, f"codec {body[0] >> 4}")
    return AudioTag(codec=codec, config=codec == "AAC" and len(body) > 1 and body[1] == 0)


def parse_aac_config(body: bytes) -> AacConfig | None:
    """AudioSpecificConfig after the 2-byte FLV audio header: 5 bits object type, 4 rate index, 4 channels."""
    if len(body) < 4:
        return None
    bits = int.from_bytes(body[2:4], "big")
    object_type, rate_index, channels = bits >> 11, (bits >> 7) & 0x0F, (bits >> 3) & 0x0F
    if rate_index >= len(AAC_RATES):
        return None
    return AacConfig(object_type=object_type, samplerate=AAC_RATES[rate_index], channels=channels)


def parse_avc_config(body: bytes) -> AvcConfig | None:
    """AVCDecoderConfigurationRecord after the 5-byte FLV video header; the first SPS gives the size."""
    record = body[5:]
    if len(record) < 8 or record[0] != 1 or record[5] & 0x1F == 0:
        return None
    sps_length = int.from_bytes(record[6:8], "big")
    sps = record[8:8 + sps_length]
    if len(sps) != sps_length:
        return None
    try:
        width, height = _sps_size(_unescape(sps[1:]))
    except IndexError:
        return None
    return AvcConfig(profile=record[1], level=record[3], width=width, height=height)


def parse_sps(nal: bytes) -> tuple[int, int] | None:
    """Width and height from an H.264 SPS NAL unit (header byte included), as an MPEG-TS input carries it."""
    try:
        return _sps_size(_unescape(nal[1:]))
    except IndexError:
        return None


def _unescape(nal: bytes) -> bytes:
    # Emulation prevention: 00 00 03 xx in a NAL unit stands for 00 00 xx.
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bit(self) -> int:
        value = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _sps_size(sps: bytes) -> tuple[int, int]:
    """Width and height from an H.264 SPS (ITU-T H.264 7.3.2.1.1), cropping applied."""
    bits = _Bits(sps)
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags + level
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bit()
        bits.ue()
        bits.ue()
        bits.bit()
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()
    width_mbs, height_map_units = bits.ue() + 1, bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()
    bits.bit()  # direct_8x8_inference_flag
    crop = (0, 0, 0, 0)
    if bits.bit():
        crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue())
    crop_x = 1 if chroma_format in (0, 3) else 2
    crop_y = (1 if chroma_format in (0, 3) else 2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_map_units * 16 - crop_y * (crop[2] + crop[3])
    return width, height


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last
