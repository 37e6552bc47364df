"""RTMP ingest for the emulator: enough of the protocol for an encoder (ffmpeg, OBS) to publish.

Handshake, chunk stream, AMF0 commands (connect, createStream, publish), then audio/video
messages whose FLV headers describe the tracks. The stream is listed once both audio and
video have been configured, as OME does; it is removed when the encoder goes away, and a
DELETE through the API closes the encoder's connection. The pure-Python server on PyPI
(pyrtmp) was not used: it configures the root logger at DEBUG on import, pins an old
bitstring and reads the socket bit by bit; this module keeps the protocol small instead and
is tested against ffmpeg itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ome_harness.emulator import amf0, flv
from ome_harness.emulator.state import AudioSpec, EmulatedStream, EmulatorState, VideoSpec

HANDSHAKE_SIZE = 1536
OUT_CHUNK_SIZE = 4096
# A publish whose tracks never complete (audio-only, video-only) is still listed after this.
TRACK_WAIT_S = 3.0
BITRATE_WINDOW_S = 1.0

MSG_SET_CHUNK_SIZE, MSG_ABORT, MSG_ACK, MSG_USER_CONTROL = 1, 2, 3, 4
MSG_WINDOW_ACK, MSG_PEER_BANDWIDTH, MSG_AUDIO, MSG_VIDEO = 5, 6, 8, 9
MSG_DATA_AMF3, MSG_COMMAND_AMF3, MSG_DATA_AMF0, MSG_COMMAND_AMF0 = 15, 17, 18, 20


class MediaSink(Protocol):
    """Who else wants to know about a publish (the LL-HLS packager)."""

    def publish_started(self, vhost: str, app: str, stream: EmulatedStream) -> None: ...
    def frame(self, vhost: str, app: str, name: str, timestamp_ms: int, keyframe: bool, *,
              sample: bytes | None = None, cts_ms: int = 0, config: bytes | None = None) -> None: ...
    def audio(self, vhost: str, app: str, name: str, timestamp_ms: int, data: bytes, *, config: bytes,
              samplerate: int, channels: int) -> None: ...
    def publish_ended(self, vhost: str, app: str, name: str) -> None: ...


class _Closed(Exception):
    """The session ends (peer gone, refused, or deleted through the API)."""


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    buffer: bytearray = field(default_factory=bytearray)


@dataclass
class _Tracks:
    metadata: dict[str, Any] = field(default_factory=dict)
    video_codec: str | None = None
    avc: flv.AvcConfig | None = None
    avc_record: bytes | None = None  # the AVCDecoderConfigurationRecord itself (the LL-HLS init's avcC)
    audio_codec: str | None = None
    aac: flv.AacConfig | None = None
    aac_record: bytes | None = None  # the AudioSpecificConfig itself (the LL-HLS audio init's esds)
    video_bytes: int = 0
    audio_bytes: int = 0
    first_video_ts: int | None = None
    last_video_ts: int = 0
    video_frames: int = 0
    key_frames: int = 0

    @property
    def complete(self) -> bool:
        video = self.video_codec is not None and (self.video_codec != "H264" or self.avc is not None)
        audio = self.audio_codec is not None and (self.audio_codec != "AAC" or self.aac is not None)
        return video and audio

    def video_spec(self) -> VideoSpec | None:
        if self.video_codec is None:
            return None
        meta = self.metadata
        return VideoSpec(codec=self.video_codec,
                         width=self.avc.width if self.avc else int(meta.get("width") or 0),
                         height=self.avc.height if self.avc else int(meta.get("height") or 0),
                         framerate=float(meta.get("framerate") or 0.0) or self.measured_framerate(),
                         bitrate=int(float(meta.get("videodatarate") or 0) * 1000),
                         key_frame_interval=0.0)

    def audio_spec(self) -> AudioSpec | None:
        if self.audio_codec is None:
            return None
        meta = self.metadata
        return AudioSpec(
            codec=self.audio_codec,
            samplerate=self.aac.samplerate if self.aac else int(meta.get("audiosamplerate") or 0),
            channel=self.aac.channels if self.aac else (2 if meta.get("stereo") else 1),
            bitrate=int(float(meta.get("audiodatarate") or 0) * 1000),
        )

    def measured_framerate(self) -> float:
        if self.first_video_ts is None or self.last_video_ts <= self.first_video_ts:
            return 0.0
        return round((self.video_frames - 1) * 1000 / (self.last_video_ts - self.first_video_ts), 3)


class RtmpIngest:
    """Accepts RTMP publishes into an EmulatorState; run it on an asyncio loop."""

    def __init__(self, state: EmulatorState, *, sink: MediaSink | None = None) -> None:
        self.state, self.sink = state, sink
        self._servers: list[asyncio.base_events.Server] = []
        self._sessions: set[_Session] = set()

    async def serve(self, sockets: list[socket.socket]) -> None:
        for sock in sockets:
            self._servers.append(await asyncio.start_server(self._accept, sock=sock))

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for session in list(self._sessions):
            session.kick()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, reader, writer)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)


class _Session:
    def __init__(
        self, ingest: RtmpIngest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.ingest, self.reader, self.writer = ingest, reader, writer
        self.loop = asyncio.get_running_loop()
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.source_url = f"TCP://{peer[0]}:{peer[1]}"
        self.vhost = ingest.state.vhost_names()[0]
        self.app: str | None = None
        self.name: str | None = None
        self.in_chunk_size, self.out_chunk_size = 128, 128
        self.chunk_streams: dict[int, _ChunkStream] = {}
        self.tracks = _Tracks()
        self.stream: EmulatedStream | None = None
        self.publish_started = 0.0
        self.unreported = 0
        self.window: tuple[float, int, int] = (time.monotonic(), 0, 0)
        # Flow control: acknowledge every `ack_window` bytes received, as the peer's WindowAckSize asks.
        self.received = 0
        self.acked = 0
        self.ack_window = 2_500_000

    # -- life cycle -------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._handshake()
            while True:
                await self._read_chunk()
        except (_Closed, asyncio.IncompleteReadError, ConnectionError, OSError, amf0.AmfError, struct.error):
            pass
        finally:
            self._unpublish()
            self.kick()

    def kick(self) -> None:
        """Drop the connection at once, as OME does on DELETE."""
        with contextlib.suppress(Exception):
            self.writer.transport.abort()

    def _kick_from_any_thread(self) -> None:
        self.loop.call_soon_threadsafe(self.kick)

    def _unpublish(self) -> None:
        state, stream = self.ingest.state, self.stream
        if stream is None or self.app is None or self.name is None:
            return
        self.stream = None
        # After an API DELETE the state removes the stream itself, a little later (OME's async delete).
        if stream.deleted_at is None:
            state.remove_stream(self.name, vhost=self.vhost, app=self.app)
        if self.ingest.sink is not None:
            self.ingest.sink.publish_ended(self.vhost, self.app, self.name)

    # -- transport --------------------------------------------------------------------------
    async def _read(self, count: int) -> bytes:
        data = await self.reader.readexactly(count)
        self.unreported += count
        self.received += count
        return data

    async def _handshake(self) -> None:
        c0c1 = await self._read(1 + HANDSHAKE_SIZE)
        if c0c1[0] != 3:
            raise _Closed
        # S1 with a zero version field: encoders then use the plain handshake (no digest).
        s1 = struct.pack(">II", 0, 0) + os.urandom(HANDSHAKE_SIZE - 8)
        self.writer.write(b"\x03" + s1 + c0c1[1:])
        await self.writer.drain()
        await self._read(HANDSHAKE_SIZE)

    async def _read_chunk(self) -> None:
        first = (await self._read(1))[0]
        fmt, csid = first >> 6, first & 0x3F
        if csid == 0:
            csid = 64 + (await self._read(1))[0]
        elif csid == 1:
            low, high = await self._read(2)
            csid = 64 + low + high * 256
        cs = self.chunk_streams.setdefault(csid, _ChunkStream())
        starting = not cs.buffer
        if fmt <= 2:
            header = await self._read((11, 7, 3)[fmt])
            stamp = int.from_bytes(header[0:3], "big")
            if fmt <= 1:
                cs.length, cs.type_id = int.from_bytes(header[3:6], "big"), header[6]
            if fmt == 0:
                cs.stream_id = int.from_bytes(header[7:11], "little")
            cs.extended = stamp == 0xFFFFFF
            if cs.extended:
                stamp = int.from_bytes(await self._read(4), "big")
            if fmt == 0:
                cs.timestamp, cs.delta = stamp, 0
            else:
                cs.delta = stamp
                cs.timestamp += stamp
        else:
            if cs.extended:
                # Type-3 chunks repeat the extended timestamp field (ffmpeg and OBS write it).
                await self._read(4)
            if starting:
                cs.timestamp += cs.delta
        take = min(self.in_chunk_size, cs.length - len(cs.buffer))
        cs.buffer += await self._read(take)
        if len(cs.buffer) >= cs.length:
            payload, cs.buffer = bytes(cs.buffer), bytearray()
            await self._message(cs.type_id, cs.timestamp, payload)

    def _send(self, csid: int, type_id: int, payload: bytes, stream_id: int = 0) -> None:
        header = bytes([csid]) + struct.pack(">I", 0)[1:] + struct.pack(">I", len(payload))[1:]
        header += bytes([type_id]) + struct.pack("<I", stream_id)
        chunks = [
            payload[i : i + self.out_chunk_size] for i in range(0, len(payload), self.out_chunk_size)
        ] or [b""]
        self.writer.write(header + chunks[0] + b"".join(bytes([0xC0 | csid]) + c for c in chunks[1:]))

    def _command(self, *values: Any, stream_id: int = 0) -> None:
        self._send(3, MSG_COMMAND_AMF0, amf0.encode(*values), stream_id)

    # -- messages ---------------------------------------------------------------------------
    async def _message(self, type_id: int, timestamp: int, payload: bytes) -> None:
        if type_id == MSG_SET_CHUNK_SIZE:
            size = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF if len(payload) >= 4 else 0
            if size < 1:
                # A chunk size of 0 would make every later read take no bytes: a peer gone wrong.
                raise _Closed
            self.in_chunk_size = size
        elif type_id == MSG_WINDOW_ACK and len(payload) >= 4:
            self.ack_window = max(1, struct.unpack(">I", payload[:4])[0])
        elif type_id in (MSG_COMMAND_AMF0, MSG_COMMAND_AMF3):
            await self._on_command(amf0.decode_all(payload[1:] if type_id == MSG_COMMAND_AMF3 else payload))
        elif type_id in (MSG_DATA_AMF0, MSG_DATA_AMF3):
            self._on_data(amf0.decode_all(payload[1:] if type_id == MSG_DATA_AMF3 else payload))
        elif type_id == MSG_VIDEO:
            self._on_video(timestamp, payload)
        elif type_id == MSG_AUDIO:
            self._on_audio(timestamp, payload)
        self._account()
        if self.received - self.acked >= self.ack_window:
            self.acked = self.received
            self._send(2, MSG_ACK, struct.pack(">I", self.received & 0xFFFFFFFF))

    async def _on_command(self, values: list[Any]) -> None:
        if len(values) < 2:
            return
        name, transaction = values[0], values[1]
        args = values[3:]
        if name == "connect":
            await self._on_connect(transaction, values[2] if isinstance(values[2], dict) else {})
        elif name == "createStream":
            self._command("_result", transaction, None, 1.0)
        elif name in ("releaseStream", "FCPublish"):
            self._command("_result", transaction, None, amf0.UNDEFINED)
        elif name == "publish":
            self._on_publish(str(args[0]) if args else "")
        elif name in ("FCUnpublish", "deleteStream", "closeStream"):
            raise _Closed
        await self.writer.drain()

    async def _on_connect(self, transaction: float, command: dict[str, Any]) -> None:
        app = str(command.get("app", "")).split("?", 1)[0].strip("/")
        if not self.ingest.state.has_app(self.vhost, app):
            # OME refuses a publish into an application its vhost does not have.
            self._command("_error", transaction, None, {
                "level": "error", "code": "NetConnection.Connect.Rejected",
                "description": f"Could not find the application: [{self.vhost}/{app}]"})
            await self.writer.drain()
            raise _Closed
        self.app = app
        self._send(2, MSG_WINDOW_ACK, struct.pack(">I", 2_500_000))
        self._send(2, MSG_PEER_BANDWIDTH, struct.pack(">IB", 2_500_000, 2))
        self._send(2, MSG_SET_CHUNK_SIZE, struct.pack(">I", OUT_CHUNK_SIZE))
        self.out_chunk_size = OUT_CHUNK_SIZE
        self._command("_result", transaction, {"fmsVer": "FMS/3,5,2,654", "capabilities": 31.0, "mode": 1.0},
                      {"level": "status", "code": "NetConnection.Connect.Success",
                       "description": "Connection succeeded.", "objectEncoding": 0.0})

    def _on_publish(self, raw_name: str) -> None:
        name = raw_name.split("?", 1)[0]
        if self.app is None or not name or self.ingest.state.stream(self.vhost, self.app, name) is not None:
            # OME refuses a second publisher for a live stream name.
            self._command("onStatus", 0.0, None, {
                "level": "error", "code": "NetStream.Publish.BadName",
                "description": f"Stream name is already in use or invalid: [{name}]"}, stream_id=1)
            raise _Closed
        self.name = name
        self.publish_started = time.monotonic()
        self._send(2, MSG_USER_CONTROL, struct.pack(">HI", 0, 1))
        self._command("onStatus", 0.0, None, {"level": "status", "code": "NetStream.Publish.Start",
                                              "description": f"{name} is now published"}, stream_id=1)

    def _on_data(self, values: list[Any]) -> None:
        if values and values[0] == "@setDataFrame":
            values = values[1:]
        if len(values) >= 2 and values[0] == "onMetaData" and isinstance(values[1], dict):
            self.tracks.metadata = values[1]

    def _on_video(self, timestamp: int, payload: bytes) -> None:
        tag = flv.parse_video_tag(payload)
        if tag is None:
            return
        tracks = self.tracks
        tracks.video_codec = tag.codec
        tracks.video_bytes += len(payload)
        if tag.config:
            tracks.avc = flv.parse_avc_config(payload) or tracks.avc
            tracks.avc_record = payload[5:] if tracks.avc else tracks.avc_record
            return
        if tracks.first_video_ts is None:
            tracks.first_video_ts = timestamp
        tracks.last_video_ts = timestamp
        tracks.video_frames += 1
        tracks.key_frames += tag.keyframe
        self._maybe_list()
        if self.stream is not None and self.ingest.sink is not None and self.app and self.name:
            # The AVCPacket body is already an MP4 sample; the LL-HLS parts carry it as it came.
            cts = int.from_bytes(payload[2:5], "big", signed=True) if tag.codec == "H264" else 0
            self.ingest.sink.frame(self.vhost, self.app, self.name, timestamp, tag.keyframe,
                                   sample=payload[5:] if tag.codec == "H264" else None, cts_ms=cts,
                                   config=tracks.avc_record)

    def _on_audio(self, timestamp: int, payload: bytes) -> None:
        tag = flv.parse_audio_tag(payload)
        if tag is None:
            return
        tracks = self.tracks
        tracks.audio_codec = tag.codec
        tracks.audio_bytes += len(payload)
        if tag.config:
            tracks.aac = flv.parse_aac_config(payload) or tracks.aac
            tracks.aac_record = payload[2:] if tracks.aac else tracks.aac_record
            self._maybe_list()
            return
        self._maybe_list()
        aac, record = tracks.aac, tracks.aac_record
        if (self.stream is not None and self.ingest.sink is not None and self.app and self.name
                and tag.codec == "AAC" and aac is not None and record is not None):
            # The AACPacket body is a raw AAC frame, what an MP4 sample holds; the sequence header's
            # body is the AudioSpecificConfig for the audio init section's esds.
            self.ingest.sink.audio(self.vhost, self.app, self.name, timestamp, payload[2:], config=record,
                                   samplerate=aac.samplerate, channels=aac.channels)

    def _maybe_list(self) -> None:
        if self.stream is not None or self.name is None or self.app is None:
            return
        if not self.tracks.complete and time.monotonic() - self.publish_started < TRACK_WAIT_S:
            return
        state = self.ingest.state
        self.stream = state.add_stream(self.name, vhost=self.vhost, app=self.app, simulated=False,
                                       source_type="Rtmp", source_url=self.source_url,
                                       video=self.tracks.video_spec(), audio=self.tracks.audio_spec())
        self.stream.on_delete.append(self._kick_from_any_thread)
        if self.ingest.sink is not None:
            self.ingest.sink.publish_started(self.vhost, self.app, self.stream)

    def _account(self) -> None:
        """Give the stream the bytes received so far and refresh its measured bitrates."""
        stream = self.stream
        if stream is None:
            return
        stream.record_bytes(self.unreported)
        self.unreported = 0
        started, video_before, audio_before = self.window
        elapsed = time.monotonic() - started
        if elapsed < BITRATE_WINDOW_S:
            return
        tracks = self.tracks
        if stream.video is not None:
            stream.video.bitrate = int((tracks.video_bytes - video_before) * 8 / elapsed)
            stream.video.framerate = stream.video.framerate or tracks.measured_framerate()
            if tracks.key_frames > 1:
                stream.video.key_frame_interval = round(tracks.video_frames / tracks.key_frames, 3)
        if stream.audio is not None:
            stream.audio.bitrate = int((tracks.audio_bytes - audio_before) * 8 / elapsed)
        self.window = (time.monotonic(), tracks.video_bytes, tracks.audio_bytes)

