"""SRT ingest for the emulator: MPEG-TS over real SRT (libsrt), with a real OME's track warm-up.

The facts it models (`../shared/ome-api.md`, "SRT ingest"; `../shared/samples/36_*`, `37_*`,
`v0.20.0-media/srt_detail_*`, `v0.21.0-media/srt_detail_*`):
- the publisher's address is `srt://HOST:PORT?streamid=VHOST/APP/STREAM`, the payload MPEG-TS;
- the stream is listed ~0.9 s after the encoder connects, before its tracks are known: video
  framerate 0.0, audio samplerate 0 and channel 0 (v0.21.0: video width/height 0 as well), no outputs;
- ~1 s later the tracks are filled (the first frame rate is an estimate), and they settle over the
  next seconds; the outputs are still empty 1 s after listing and present 2 s after it;
- the input has a `Data` track besides video and audio; `sourceType` is "SRT" and `sourceUrl`
  `SRT://IP:PORT` (v0.21.0 appends `/srt`).
No capture shows how OME refuses an SRT caller (unknown application, a name already live): the
emulator rejects it in the handshake, so the encoder fails to connect, as with a refused RTMP publish.
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass, field

from ome_harness.emulator import libsrt
from ome_harness.emulator.mpegts import TsDemuxer
from ome_harness.emulator.rtmp import MediaSink
from ome_harness.emulator.state import AudioSpec, EmulatedStream, EmulatorState, VideoSpec
from ome_harness.ome.versions import OmeVersion

# ome-api.md: "the stream is listed ~0.9 s after the encoder connects".
LISTED_AFTER_S = 0.9
# srt_detail_after_1s: the tracks are filled ~1 s after the first listing.
TRACKS_AFTER_S = 1.0
# srt_detail_after_1s (v0.20.0): outputs still []; srt_detail_after_2s (v0.21.0): outputs present.
OUTPUTS_AFTER_S = 2.0
# How often the filled track figures (bit rates, measured frame rate) are refreshed.
REFRESH_S = 1.0
POLL_MS = 50
V0_21_0 = OmeVersion(0, 21, 0)


def parse_streamid(streamid: str) -> tuple[str, str, str] | None:
    """(vhost, app, stream) from OME's streamid convention `VHOST/APP/STREAM`; None when malformed."""
    parts = streamid.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        return None
    vhost, app, name = parts
    return vhost, app, name.split("?", 1)[0]


@dataclass
class _Publisher:
    sock: int
    vhost: str
    app: str
    name: str
    source_url: str
    connected: float = field(default_factory=time.monotonic)
    demuxer: TsDemuxer = field(default_factory=TsDemuxer)
    stream: EmulatedStream | None = None
    listed_at: float = 0.0
    filled: bool = False
    unreported: int = 0
    window: tuple[float, int, int] = (0.0, 0, 0)


class SrtIngest:
    """Accepts SRT publishers into an EmulatorState on its own thread; `start` binds, `stop` ends all."""

    def __init__(self, state: EmulatorState, *, sink: MediaSink | None = None) -> None:
        self.state, self.sink = state, sink
        self.port: int | None = None
        self._listener: libsrt.Listener | None = None
        self._publishers: dict[int, _Publisher] = {}
        self._to_drop: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, hosts: tuple[str, ...], port: int) -> int:
        self._listener = libsrt.Listener(hosts, port, self._admit)
        self.port = self._listener.port
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="ome-emulator-srt", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        listener, self._listener = self._listener, None
        if listener is not None:
            for publisher in list(self._publishers.values()):
                self._end(listener, publisher)
            listener.close()

    # -- admission (called by libsrt during the handshake, on its own thread) -----------------
    def _admit(self, streamid: str, _peer: tuple[str, int]) -> bool:
        where = parse_streamid(streamid)
        if where is None:
            return False
        vhost, app, name = where
        # Refused: an application the vhost does not have, or a name already live (as RTMP ingest does).
        connecting = any((p.vhost, p.app, p.name) == where for p in list(self._publishers.values()))
        return self.state.has_app(vhost, app) and self.state.stream(vhost, app, name) is None and not connecting

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        listener = self._listener
        assert listener is not None
        buffer = ctypes.create_string_buffer(libsrt.MAX_PAYLOAD)
        while not self._stopping.is_set():
            for sock, _events in listener.wait(POLL_MS):
                if sock in listener.sockets:
                    self._accept(listener, sock)
                elif sock in self._publishers:
                    self._receive(listener, self._publishers[sock], buffer)
            with self._lock:
                dropping, self._to_drop = self._to_drop, set()
            for sock in dropping:
                if sock in self._publishers:
                    self._end(listener, self._publishers[sock])
            for publisher in list(self._publishers.values()):
                self._advance(publisher)

    def _accept(self, listener: libsrt.Listener, sock: int) -> None:
        accepted = listener.accept(sock)
        if accepted is None:
            return
        caller, streamid, (host, port) = accepted
        where = parse_streamid(streamid)
        if where is None:
            listener.drop(caller)
            return
        vhost, app, name = where
        suffix = "/srt" if self.state.version >= V0_21_0 else ""
        publisher = _Publisher(caller, vhost, app, name, f"SRT://{host}:{port}{suffix}")
        publisher.demuxer.on_frame = lambda ts, key: self._frame(publisher, ts, key)
        publisher.demuxer.on_ignored_section = self._log_ignored_section
        self._publishers[caller] = publisher

    def _receive(self, listener: libsrt.Listener, publisher: _Publisher, buffer: ctypes.Array[ctypes.c_char]
                 ) -> None:
        while True:
            count = listener.receive(publisher.sock, buffer)
            if count < 0:
                self._end(listener, publisher)
                return
            if count == 0:
                return
            publisher.unreported += count
            publisher.demuxer.feed(buffer.raw[:count])

    def _frame(self, publisher: _Publisher, timestamp_ms: int, keyframe: bool) -> None:
        if publisher.stream is not None and self.sink is not None:
            self.sink.frame(publisher.vhost, publisher.app, publisher.name, timestamp_ms, keyframe)

    def _end(self, listener: libsrt.Listener, publisher: _Publisher) -> None:
        self._publishers.pop(publisher.sock, None)
        listener.drop(publisher.sock)
        stream, publisher.stream = publisher.stream, None
        if stream is None:
            return
        # After an API DELETE the state removes the stream itself, a little later (OME's async delete).
        if stream.deleted_at is None:
            self.state.remove_stream(publisher.name, vhost=publisher.vhost, app=publisher.app)
        if self.sink is not None:
            self.sink.publish_ended(publisher.vhost, publisher.app, publisher.name)

    def _drop_later(self, sock: int) -> None:
        """A DELETE through the API (another thread): the loop closes the caller's connection."""
        with self._lock:
            self._to_drop.add(sock)

    def _log_ignored_section(self, table_id: int) -> None:
        # OME's TS depacketizer completes PAT and PMT only and logs every other section, e.g. each SCTE-35
        # splice_info_section (table id 252) of an in-band cue (v0.21.0-media/inband_scte35_ome_log.txt).
        self.state.ome_log.append(f"MPEGTS_DEPACKETIZER | Ignored unsupported or unknown section (table id: {table_id})")

    # -- warm-up --------------------------------------------------------------------------------
    def _advance(self, publisher: _Publisher) -> None:
        now = time.monotonic()
        tracks = publisher.demuxer.tracks
        if publisher.stream is None:
            # Listed once the PMT has named the tracks and 0.9 s have passed since the connect.
            known = tracks.video_codec is not None or tracks.audio_codec is not None
            if known and now - publisher.connected >= LISTED_AFTER_S:
                self._list(publisher, now)
            return
        publisher.stream.record_bytes(publisher.unreported)
        publisher.unreported = 0
        if not publisher.filled and now - publisher.listed_at >= TRACKS_AFTER_S:
            publisher.filled = True
            self._refresh(publisher, now)
        elif publisher.filled and now - publisher.window[0] >= REFRESH_S:
            self._refresh(publisher, now)
        if not publisher.stream.outputs_ready and now - publisher.listed_at >= OUTPUTS_AFTER_S:
            publisher.stream.outputs_ready = True

    def _list(self, publisher: _Publisher, now: float) -> None:
        tracks = publisher.demuxer.tracks
        # srt_detail_at_first_listing: v0.20.0 already shows the size (from the SPS) with a key-frame
        # interval of 1.0; v0.21.0 shows 0 for both. Frame rate, bit rates, sample rate, channels: 0.
        early = self.state.version < V0_21_0
        video = None if tracks.video_codec is None else VideoSpec(
            codec=tracks.video_codec, width=tracks.width if early else 0, height=tracks.height if early else 0,
            framerate=0.0, bitrate=0, key_frame_interval=1.0 if early else 0.0)
        audio = None if tracks.audio_codec is None else AudioSpec(
            codec=tracks.audio_codec, samplerate=0, channel=0, bitrate=0)
        stream = self.state.add_stream(publisher.name, vhost=publisher.vhost, app=publisher.app, simulated=False,
                                       source_type="SRT", source_url=publisher.source_url, video=video,
                                       audio=audio, outputs_ready=False)
        stream.on_delete.append(lambda: self._drop_later(publisher.sock))
        publisher.stream, publisher.listed_at = stream, now
        publisher.window = (now, tracks.video_bytes, tracks.audio_bytes)
        if self.sink is not None:
            self.sink.publish_started(publisher.vhost, publisher.app, stream)

    def _refresh(self, publisher: _Publisher, now: float) -> None:
        """Fill (then keep current) the track figures from what the demuxer measured."""
        stream, tracks = publisher.stream, publisher.demuxer.tracks
        assert stream is not None
        started, video_before, audio_before = publisher.window
        elapsed = max(now - started, 1e-3)
        if stream.video is not None:
            video = stream.video
            video.width, video.height = tracks.width, tracks.height
            # OME reports `framerate` as a whole number (32.0 at first, 30.0 settled: srt_detail_after_*).
            video.framerate = float(round(tracks.framerate()))
            video.bitrate = int((tracks.video_bytes - video_before) * 8 / elapsed)
            video.key_frame_interval = round(tracks.key_frame_interval(), 3)
            video.has_bframes = tracks.has_bframes
        if stream.audio is not None:
            stream.audio.samplerate, stream.audio.channel = tracks.samplerate, tracks.channels
            stream.audio.bitrate = int((tracks.audio_bytes - audio_before) * 8 / elapsed)
        publisher.window = (now, tracks.video_bytes, tracks.audio_bytes)
