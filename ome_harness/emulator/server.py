"""Run the emulator on real loopback sockets, in-process (tests) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import uvicorn

from ome_harness.addresses import dial_host
from ome_harness.config import ConfigError, HarnessConfig
from ome_harness.emulator.api import OmeApi
from ome_harness.emulator.edge import EdgeApi, EdgeOrigin
from ome_harness.emulator.libsrt import SrtUnavailable
from ome_harness.emulator.llhls import LlhlsPackager
from ome_harness.emulator.rtmp import RtmpIngest
from ome_harness.emulator.srt import SrtIngest
from ome_harness.emulator.state import EmulatorState, Faults
from ome_harness.serving import LoopbackServer, bind_sockets, uvicorn_config


@dataclass
class EmulatorSettings:
    hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    port: int = 0
    token: str = "ome-harness-emulator-token"
    version: str = "0.20.0"
    vhost: str = "default"
    apps: tuple[str, ...] = ("app",)
    # Media side (None: not served). OME's defaults are 1935, 9999/udp and 3333; 0 picks free ports (tests).
    rtmp_port: int | None = 0
    srt_port: int | None = 0
    llhls_port: int | None = 0
    llhls_daterange: bool = False
    llhls_segment_s: float = 6.0
    llhls_part_s: float = 0.5
    faults: tuple[str, ...] = ()  # see apply_faults
    # Edge mode: no app until a viewer on the LL-HLS/signalling port asks; pulls through this origin's
    # REST API — not OVT (emulator/edge.py).
    edge_of: EdgeOrigin | None = None


def emulator_settings(cfg: HarnessConfig, *, default_ports: tuple[int, int, int] = (0, 0, 0),
                      default_srt_port: int = 0) -> EmulatorSettings:
    """Settings from the config's emulator section; a port left at 0 takes its default (0 = a free port)."""
    section = cfg.emulator
    api, rtmp, llhls = default_ports
    return EmulatorSettings(hosts=tuple(section.hosts), port=section.port or api,
                            token=section.token.get_secret_value(), version=section.version,
                            vhost=cfg.api.vhost, apps=(cfg.api.app,), rtmp_port=section.rtmp_port or rtmp,
                            srt_port=section.srt_port or default_srt_port,
                            llhls_port=section.llhls_port or llhls, llhls_daterange=section.llhls_daterange,
                            llhls_segment_s=section.llhls_segment_s,
                            faults=tuple(section.faults))


def apply_faults(server: EmulatorServer, faults: tuple[str, ...]) -> None:
    """`name` switches a Faults flag on, `name=value` sets a number; `ignore_cues` drops cues from LL-HLS."""
    known = {f.name: f.type for f in fields(Faults)}
    for fault in faults:
        name, _, value = fault.partition("=")
        if name == "ignore_cues":
            server.llhls.ignore_cues = True
        elif name in known:
            setattr(server.state.faults, name, float(value) if value else True)
        else:
            raise ConfigError(
                f"unknown emulator fault {name!r}; known: {', '.join(sorted([*known, 'ignore_cues']))}"
            )


class EmulatorServer:
    """The emulator's HTTP API on loopback; a context manager that always stops it."""

    def __init__(self, settings: EmulatorSettings | None = None, state: EmulatorState | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        if not self.settings.token:
            # Real OME logs "Empty <AccessToken> is not allowed" and shuts down (../shared/ome-api.md).
            raise ValueError("the emulator needs an access token: real OME refuses to start with an "
                             "empty one")
        self.state = state or EmulatorState(version=self.settings.version, vhost=self.settings.vhost,
                                            apps=() if self.settings.edge_of else self.settings.apps)
        self.state.llhls_segment_s, self.state.llhls_part_s = (
            self.settings.llhls_segment_s,
            self.settings.llhls_part_s,
        )
        self.app = (EdgeApi(self.state, self.settings.token, self.settings.edge_of) if self.settings.edge_of
                    else OmeApi(self.state, self.settings.token))
        self._api = LoopbackServer(self.app, self.settings.hosts, self.settings.port, name="ome-emulator")
        self.llhls = LlhlsPackager(self.state, segment_s=self.settings.llhls_segment_s,
                                   part_s=self.settings.llhls_part_s, daterange=self.settings.llhls_daterange)
        self.ingest = RtmpIngest(self.state, sink=self.llhls)
        self.srt = SrtIngest(self.state, sink=self.llhls)
        # Why SRT is not served although asked for (libsrt missing); None when it is served or not asked.
        self.srt_unavailable: str | None = None
        # An edge's playback port is its signalling and LL-HLS for pulled streams (emulator/edge.py).
        playback = self.app.playback if isinstance(self.app, EdgeApi) else self.llhls
        self._media = _MediaThread(self.ingest, playback)
        apply_faults(self, self.settings.faults)

    @property
    def port(self) -> int:
        return self._api.port

    @property
    def url(self) -> str:
        """A URL for the first bound address (`localhost` when both loopbacks are bound)."""
        hosts = set(self.settings.hosts)
        host = "localhost" if {"127.0.0.1", "::1"} <= hosts else dial_host(self.settings.hosts[0])
        return f"http://{host}:{self.port}"

    @property
    def rtmp_port(self) -> int | None:
        return self._media.rtmp_port

    @property
    def llhls_port(self) -> int | None:
        return self._media.llhls_port

    @property
    def srt_port(self) -> int | None:
        return self.srt.port

    def target_addresses(self) -> dict[str, str | None]:
        """Ingest and playback bases for an OmeTarget."""
        host = _media_host(self.settings.hosts)
        return {"rtmp_base": f"rtmp://{host}:{self.rtmp_port}" if self.rtmp_port else None,
                "srt_base": f"srt://{host}:{self.srt_port}" if self.srt_port else None,
                "llhls_base": f"http://{host}:{self.llhls_port}" if self.llhls_port else None}

    def start(self) -> EmulatorServer:
        self._start_media()
        try:
            self._api.start()
        except (OSError, RuntimeError):
            self._stop_media()
            raise
        return self

    def serve_forever(self, announce: Callable[[EmulatorServer], None] | None = None,
                      on_signal: Callable[[int], None] | None = None) -> None:
        """Foreground mode for the CLI: returns on SIGINT/SIGTERM (uvicorn handles both).

        `announce` is called once every port is bound (so it can name the ports really taken, 0 being a
        free one) and before anything is served; a port that cannot be bound fails before it.
        `on_signal` is told of each signal uvicorn takes while it serves (serving.py)."""
        self._api.bind()
        try:
            self._start_media()
        except BaseException:
            # A port in use, or a signal while the media side starts: nothing stays bound or running.
            self._stop_media()
            self._api.stop()  # closes the API's bound socket
            raise
        try:
            if announce is not None:
                announce(self)
            self._api.serve_forever(on_signal)
        finally:
            self._stop_media()

    def stop(self) -> None:
        self._api.stop()
        self._stop_media()
        if isinstance(self.app, EdgeApi):
            self.app.close()

    def _start_media(self) -> None:
        self._media.start(self.settings)
        if self.settings.srt_port is None:
            return
        try:
            self.srt.start(self.settings.hosts, self.settings.srt_port)
        except SrtUnavailable as exc:
            # The API and RTMP still serve; SRT scenarios say why they cannot run (testing.require).
            self.srt_unavailable = str(exc)
        except OSError:
            self._media.stop()
            raise

    def _stop_media(self) -> None:
        self.srt.stop()
        self._media.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _media_host(hosts: tuple[str, ...]) -> str:
    """The address encoders and players should use for sockets bound on `hosts`."""
    if any(h in ("127.0.0.1", "0.0.0.0", "") for h in hosts):
        return "127.0.0.1"
    return dial_host(hosts[0])


class _MediaThread:
    """RTMP ingest and the LL-HLS HTTP server on one asyncio loop in a background thread."""

    def __init__(self, ingest: RtmpIngest, llhls: Any) -> None:  # LL-HLS (or an edge's playback) ASGI app
        self.ingest, self.llhls = ingest, llhls
        self.rtmp_port: int | None = None
        self.llhls_port: int | None = None
        self._sockets: list[socket.socket] = []
        self._http: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, settings: EmulatorSettings) -> None:
        rtmp = bind_sockets(settings.hosts, settings.rtmp_port) if settings.rtmp_port is not None else []
        try:
            http = (
                bind_sockets(settings.hosts, settings.llhls_port) if settings.llhls_port is not None else []
            )
        except OSError:
            for sock in rtmp:
                sock.close()
            raise
        self._sockets = rtmp + http
        self.rtmp_port = rtmp[0].getsockname()[1] if rtmp else None
        self.llhls_port = http[0].getsockname()[1] if http else None
        self._http = uvicorn.Server(uvicorn_config(self.llhls))
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(rtmp, http),),
                                        name="ome-emulator-media", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            self.stop()
            raise RuntimeError(f"the emulator's RTMP/LL-HLS side did not start: {self._error}")

    async def _main(self, rtmp: list[socket.socket], http: list[socket.socket]) -> None:
        assert self._http is not None
        try:
            await self.ingest.serve(rtmp)
            if http:
                serving = asyncio.create_task(self._http.serve(sockets=http))
                while not self._http.started and not serving.done():
                    await asyncio.sleep(0.01)
            self._ready.set()
            if http:
                await serving
            else:
                while not self._http.should_exit:
                    await asyncio.sleep(0.05)
        except Exception as exc:  # reported by start(); the thread must not die silently
            self._error = exc
            self._ready.set()
        finally:
            await self.ingest.close()

    def stop(self) -> None:
        if self._http is not None:
            self._http.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets = []

