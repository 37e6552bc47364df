"""The target: where OME's API, ingest and playback are, and whether we own it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ome_harness.config import HarnessConfig
from ome_harness.ome.client import Connection, OmeClient, open_connection
from ome_harness.ome.errors import OmeError

if TYPE_CHECKING:  # the emulator (uvicorn, its ingests) loads only when a run uses it
    from ome_harness.emulator.server import EmulatorServer

from ome_harness.target.media_addresses import (
    APP_SECTIONS,
    NAMES,
    MediaAddresses,
    MediaNotOffered,
    configured_addresses,
    unknown_address,
)


class UseConfiguredToken:
    """The default of `OmeTarget.client(token=...)`: the target's own token.

    A sentinel (httpx's USE_CLIENT_DEFAULT), because None already means "send no token at all".
    """

    def __repr__(self) -> str:
        return "USE_CONFIGURED_TOKEN"


USE_CONFIGURED_TOKEN = UseConfiguredToken()


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
    webrtc_base: str | None = None
    # Where each base above came from (config, Server.xml, the launched OME) for reports.
    media_sources: dict[str, str] = field(default_factory=dict)
    # The in-process emulator when kind == "emulator" (tests read its state); None otherwise.
    emulator: EmulatorServer | None = None
    image: str | None = None
    image_digest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _connection: Connection | None = field(default=None, repr=False, compare=False)

    def connection(self) -> Connection:
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

    def client(self, token: str | None | UseConfiguredToken = USE_CONFIGURED_TOKEN, *,
               connection: Connection | None = None) -> OmeClient:
        """A fresh API client (pass a token to override the configured one, None for no auth).

        With `connection` (from `open_connection`) it reuses that keep-alive pool instead of its own.
        """
        chosen = self.token if isinstance(token, UseConfiguredToken) else token
        return OmeClient(self.api_url, chosen, connect_timeout=self.connect_timeout,
                         read_timeout=self.read_timeout, connection=connection)

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

    def media_addresses(self) -> MediaAddresses:
        bases = {p: getattr(self, f"{p}_base") for p in ("rtmp", "srt", "llhls", "webrtc")}
        return MediaAddresses(bases, dict(self.media_sources))

    def _base(self, protocol: str) -> str:
        """The protocol's base URL; an unknown one refuses in one line (never OME's default ports)."""
        base = getattr(self, f"{protocol}_base")
        if not base:
            raise unknown_address(protocol, self.kind)
        return base

    def rtmp_url(self, stream: str, app: str | None = None) -> str:
        return f"{self._base('rtmp')}/{app or self.app}/{stream}"

    def srt_url(self, stream: str, app: str | None = None) -> str:
        # OME's SRT streamid convention: vhost/app/stream.
        return f"{self._base('srt')}?streamid={self.vhost}/{app or self.app}/{stream}"

    def llhls_url(self, stream: str, app: str | None = None) -> str:
        return f"{self._base('llhls')}/{app or self.app}/{stream}/llhls.m3u8"

    def webrtc_url(self, stream: str, app: str | None = None) -> str:
        return f"{self._base('webrtc')}/{app or self.app}/{stream}"

    def expect_offered(self, client: OmeClient, protocol: str, app: str | None = None) -> None:
        """Refuse when OME's config of the application has no provider/publisher for the protocol.

        What the API can tell about media: the app's `providers`/`publishers` (samples/04_app.http); ports
        are not in it. An unknown app or an unreadable config says nothing, so nothing is refused then.
        """
        section, key = APP_SECTIONS[protocol]
        try:
            config = client.app(self.vhost, app or self.app)
        except OmeError:
            return
        enabled = getattr(config, section)
        if enabled and key not in enabled:
            raise MediaNotOffered(f"OME's config of {self.vhost}/{app or self.app} has no {NAMES[protocol]} "
                                  f"({section}: {', '.join(sorted(enabled))}), so the harness does not "
                                  "publish there")


def attach_target(cfg: HarnessConfig) -> OmeTarget:
    token = cfg.api.token.get_secret_value() if cfg.api.token else None
    media = configured_addresses(cfg, cfg.api.url, strict=False)
    return OmeTarget(kind="url", api_url=cfg.api.url, token=token, vhost=cfg.api.vhost, app=cfg.api.app,
                     connect_timeout=cfg.api.connect_timeout, read_timeout=cfg.api.read_timeout,
                     **bases_of(media))


def bases_of(media: MediaAddresses) -> dict[str, Any]:
    return {**{f"{p}_base": v for p, v in media.bases.items()}, "media_sources": media.sources}
