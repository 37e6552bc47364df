"""The target: where OME's API, ingest and playback are, and whether we own it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ome_harness.addresses import url_host
from ome_harness.config import HarnessConfig
from ome_harness.ome.client import OmeClient, open_connection
from ome_harness.ome.errors import OmeError


@dataclass
class OmeTarget:
    """An OME to examine. `launched` is True when the harness started it (so mutating is fine)."""

    kind: Literal["url", "emulator", "container"]
    api_url: str
    token: str | None = field(repr=False)
    vhost: str = "default"
    app: str = "app"
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    launched: bool = False
    rtmp_base: str | None = None
    srt_base: str | None = None
    llhls_base: str | None = None
    emulator: Any = None
    image: str | None = None
    image_digest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _connection: httpx.Client | None = field(default=None, repr=False, compare=False)

    def connection(self) -> httpx.Client:
        """This target's keep-alive pool, opened on first use and kept until close(): one per target."""
        if self._connection is None or self._connection.is_closed:
            self._connection = open_connection(self.api_url, connect_timeout=self.connect_timeout,
                                               read_timeout=self.read_timeout)
        return self._connection

    def close(self) -> None:
        """Close the keep-alive pool (a later connection() opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def client(self, token: str | None | Literal[False] = False, *,
               connection: httpx.Client | None = None) -> OmeClient:
        """A fresh API client (pass a token to override the configured one, None for no auth).

        With `connection` (from `open_connection`) it reuses that keep-alive pool instead of its own.
        """
        return OmeClient(self.api_url, self.token if token is False else token,
                         connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                         connection=connection)

    def emulated(self) -> bool:
        """True when the target is the built-in emulator (in-process, or the stand-in image behind a URL)."""
        if self.kind == "emulator":
            return True
        if "emulator_identity" not in self.extra:
            # Any answer (even a refusal) carries the emulator's header; no answer means a real OME or none.
            with self.client() as client, contextlib.suppress(OmeError):
                client.version()
            self.extra["emulator_identity"] = client.emulator_identity
        return self.extra["emulator_identity"] is not None

    @property
    def host(self) -> str:
        return urlsplit(self.api_url).hostname or "localhost"

    def rtmp_url(self, stream: str, app: str | None = None) -> str:
        base = self.rtmp_base or f"rtmp://{url_host(self.host)}:1935"
        return f"{base}/{app or self.app}/{stream}"

    def srt_url(self, stream: str, app: str | None = None) -> str:
        # OME's SRT streamid convention: vhost/app/stream.
        base = self.srt_base or f"srt://{url_host(self.host)}:9999"
        return f"{base}?streamid={self.vhost}/{app or self.app}/{stream}"

    def llhls_url(self, stream: str, app: str | None = None) -> str:
        base = self.llhls_base or f"http://{url_host(self.host)}:3333"
        return f"{base}/{app or self.app}/{stream}/llhls.m3u8"


def attach_target(cfg: HarnessConfig) -> OmeTarget:
    token = cfg.api.token.get_secret_value() if cfg.api.token else None
    return OmeTarget(kind="url", api_url=cfg.api.url, token=token, vhost=cfg.api.vhost, app=cfg.api.app,
                     connect_timeout=cfg.api.connect_timeout, read_timeout=cfg.api.read_timeout)


@contextlib.contextmanager
def emulator_target(cfg: HarnessConfig) -> Iterator[OmeTarget]:
    from ome_harness.emulator.server import EmulatorServer, emulator_settings

    settings = emulator_settings(cfg)
    with EmulatorServer(settings) as server:
        yield OmeTarget(kind="emulator", api_url=server.url, token=settings.token, vhost=cfg.api.vhost,
                        app=cfg.api.app, connect_timeout=cfg.api.connect_timeout,
                        read_timeout=cfg.api.read_timeout, launched=True, emulator=server,
                        **server.target_addresses())


@contextlib.contextmanager
def open_target(cfg: HarnessConfig) -> Iterator[OmeTarget]:
    """The target the config names; whatever the harness starts here, it also stops."""
    if cfg.target == "emulator":
        opened = emulator_target(cfg)
    elif cfg.target == "container":
        from ome_harness.target.container import container_target

        opened = container_target(cfg)
    else:
        opened = contextlib.nullcontext(attach_target(cfg))
    with opened as target:
        try:
            yield target
        finally:
            target.close()
