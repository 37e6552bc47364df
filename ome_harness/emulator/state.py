"""The emulator's in-memory OME: vhosts, apps, streams, their stats, and the faults to inject."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ome_harness.ome.versions import OmeVersion


def now() -> datetime:
    return datetime.now(UTC)


def ome_time(moment: datetime) -> str:
    """OME's timestamps: ISO 8601 with milliseconds and an offset."""
    return moment.isoformat(timespec="milliseconds")


@dataclass
class Faults:
    """Ways to make the emulator behave like a broken deployment (the suite must catch each)."""

    accept_any_token: bool = False
    response_delay_s: float = 0.0
    garbage_json: bool = False
    html: bool = False
    stale_metrics: bool = False
    wrong_shape: bool = False
    # No captured OME does these; they stand for a broken deployment so the report's fault matrix can
    # prove each is named (tests/test_report_faults.py).
    refuse_scte35: bool = (
        False  # every scte35 event refused with the unknown-format 400 (sample 45's wording)
    )
    hide_streams: bool = False  # publishing works but the streams listing stays empty


@dataclass
class VideoSpec:
    codec: str = "H264"
    width: int = 640
    height: int = 360
    framerate: float = 30.0
    bitrate: int = 160_000
    key_frame_interval: float = 30.0
    has_bframes: bool = False


@dataclass
class AudioSpec:
    codec: str = "AAC"
    samplerate: int = 44_100
    channel: int = 1
    bitrate: int = 67_000


@dataclass
class EmulatedStream:
    """One input stream. Bytes come from a real ingest (`record_bytes`) or are simulated from its bitrate."""

    name: str
    source_type: str = "Rtmp"
    source_url: str = "TCP://127.0.0.1:50000"
    video: VideoSpec | None = field(default_factory=VideoSpec)
    audio: AudioSpec | None = field(default_factory=AudioSpec)
    simulated: bool = True
    # False while OME has not set up the stream's outputs yet (an SRT input's first seconds).
    outputs_ready: bool = True
    # Pulled by an edge: its input tracks are the origin's outputs, its outputs `[]`
    # (v0.20.0-media/edge/edge_stream_detail_after_pull.http).
    relayed: bool = False
    created: datetime = field(default_factory=now)
    deleted_at: float | None = None
    on_delete: list[Callable[[], None]] = field(default_factory=list)
    _bytes_in: int = 0
    _last_recv: datetime | None = None
    _frozen: tuple[int, datetime] | None = None
    # LL-HLS session → when it last fetched (time.monotonic()); see llhls_viewers().
    _llhls_sessions: dict[str, float] = field(default_factory=dict)

    def llhls_request(self, session: str) -> None:
        self._llhls_sessions[session] = time.monotonic()

    def llhls_viewers(self, within_s: float = 5.0) -> int:
        """LL-HLS sessions that fetched in the last `within_s` seconds.

        No captured fact says how OME counts LL-HLS connections; the emulator counts distinct session ids
        (the `session` query it hands out in playlist URIs) that were active recently.
        """
        since = time.monotonic() - within_s
        return sum(1 for seen in list(self._llhls_sessions.values()) if seen >= since)

    def record_bytes(self, count: int) -> None:
        self._bytes_in += count
        self._last_recv = now()

    def bytes_in(self, stale: bool) -> tuple[int, datetime]:
        if self.simulated:
            elapsed = (now() - self.created).total_seconds()
            current = (int(elapsed * self.bitrate / 8), now())
        else:
            current = (self._bytes_in, self._last_recv or self.created)
        if stale:
            # A stuck pipeline: counters stop where they were when the fault was noticed.
            if self._frozen is None:
                self._frozen = current
            return self._frozen
        self._frozen = None
        return current

    @property
    def bitrate(self) -> int:
        return (self.video.bitrate if self.video else 0) + (self.audio.bitrate if self.audio else 0)


@dataclass
class ReceivedEvent:
    """A `:sendEvent` the emulator accepted: what a backend test observes."""

    vhost: str
    app: str
    stream: str
    body: dict[str, Any]
    at: datetime = field(default_factory=now)


class EmulatorState:
    """Thread-safe model of one OME server; shared by the HTTP API and in-process test code."""

    def __init__(self, *, version: str = "0.20.0", vhost: str = "default", apps: tuple[str, ...] = ("app",),
                 delete_lag_s: float = 0.3) -> None:
        self.version = OmeVersion.parse(version)
        self.started = now()
        self.delete_lag_s = delete_lag_s
        self.faults = Faults()
        self.events: list[ReceivedEvent] = []
        # The applications' LL-HLS publisher settings, reported in their config like OME's
        # (`publishers.llhls.segmentDuration`/`chunkDuration`); the packager cuts by them.
        self.llhls_segment_s = 6.0
        self.llhls_part_s = 0.5
        # EMULATOR ONLY: the lines a real OME would have written to its log (a real OME's API
        # does not expose them). Served at OME_LOG_PATH; used for the log-only refusals of cues.
        self.ome_log: list[str] = []
        self._vhosts: dict[str, dict[str, dict[str, EmulatedStream]]] = {vhost: {app: {} for app in apps}}
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str, EmulatedStream, str], None]] = []
        self._event_listeners: list[Callable[[ReceivedEvent], None]] = []

    # -- topology ---------------------------------------------------------------------------
    def vhost_names(self) -> list[str]:
        return list(self._vhosts)

    def app_names(self, vhost: str) -> list[str] | None:
        apps = self._vhosts.get(vhost)
        return None if apps is None else list(apps)

    def has_app(self, vhost: str, app: str) -> bool:
        return app in self._vhosts.get(vhost, {})

    def add_app(self, vhost: str, app: str) -> None:
        """Create an application (an edge's dynamic one, on a viewer's first request)."""
        with self._lock:
            self._vhosts[vhost].setdefault(app, {})

    # -- streams ----------------------------------------------------------------------------
    def add_stream(
        self, name: str, *, vhost: str = "default", app: str = "app", **spec: Any
    ) -> EmulatedStream:
        stream = EmulatedStream(name=name, **spec)
        with self._lock:
            self._vhosts[vhost][app][name] = stream
        self._notify("added", stream, f"{vhost}/{app}")
        return stream

    def remove_stream(self, name: str, *, vhost: str = "default", app: str = "app") -> None:
        """The publisher went away: the stream is gone at once."""
        with self._lock:
            stream = self._vhosts.get(vhost, {}).get(app, {}).pop(name, None)
        if stream is not None:
            self._notify("removed", stream, f"{vhost}/{app}")

    def streams(self, vhost: str, app: str) -> list[EmulatedStream]:
        self._reap()
        with self._lock:
            return list(self._vhosts.get(vhost, {}).get(app, {}).values())

    def stream(self, vhost: str, app: str, name: str) -> EmulatedStream | None:
        self._reap()
        with self._lock:
            return self._vhosts.get(vhost, {}).get(app, {}).get(name)

    def delete_stream(self, vhost: str, app: str, name: str) -> bool:
        """OME's DELETE: answered at once, the stream stays visible for `delete_lag_s`."""
        with self._lock:
            stream = self._vhosts.get(vhost, {}).get(app, {}).get(name)
            if stream is None or stream.deleted_at is not None:
                return False
            stream.deleted_at = time.monotonic()
        for disconnect in stream.on_delete:
            disconnect()
        return True

    def all_streams(self, vhost: str | None = None, app: str | None = None) -> list[EmulatedStream]:
        self._reap()
        with self._lock:
            return [s for vh, apps in self._vhosts.items() if vhost in (None, vh)
                    for ap, streams in apps.items() if app in (None, ap) for s in streams.values()]

    def subscribe(self, listener: Callable[[str, EmulatedStream, str], None]) -> None:
        """Be told when streams are added or removed (LL-HLS packaging, tests)."""
        self._listeners.append(listener)

    def subscribe_events(self, listener: Callable[[ReceivedEvent], None]) -> None:
        """Be told of every accepted :sendEvent (the LL-HLS packager cuts segments on cues)."""
        self._event_listeners.append(listener)

    def record_event(self, event: ReceivedEvent) -> None:
        with self._lock:
            self.events.append(event)
        for listener in list(self._event_listeners):
            listener(event)

    def log(self, level: str, where: str, text: str) -> None:
        """Record what a real OME would log (emulator only), in OME's line format."""
        stamp = now().strftime("%Y-%m-%d %H:%M:%S.") + f"{now().microsecond // 1000:03d}"
        with self._lock:
            self.ome_log.append(f"[{stamp}] {level} [emulator] {where} | {text}")

    def _reap(self) -> None:
        deadline = time.monotonic() - self.delete_lag_s
        gone: list[tuple[str, EmulatedStream]] = []
        with self._lock:
            for vh, apps in self._vhosts.items():
                for ap, streams in apps.items():
                    for name, stream in list(streams.items()):
                        if stream.deleted_at is not None and stream.deleted_at <= deadline:
                            del streams[name]
                            gone.append((f"{vh}/{ap}", stream))
        for where, stream in gone:
            self._notify("removed", stream, where)

    def _notify(self, what: str, stream: EmulatedStream, where: str) -> None:
        for listener in list(self._listeners):
            listener(what, stream, where)
