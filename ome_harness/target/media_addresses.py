"""Where an OME takes and serves media: RTMP and SRT ingest, LL-HLS playback, WebRTC signalling.

For an OME the harness launched (emulator, container) it knows the addresses. For any other the
API's address says nothing about them: real deployments put the API on an internal address and
ingest/playback on public names, other ports, TLS or a CDN. So they come from the config
(`endpoints.*`, `OMH_ENDPOINTS__*`, `run --rtmp-url ...`), else from a given Server.xml (its
`Bind/Providers` and `Bind/Publishers` ports, on the API's host), else they stay unknown and the
harness refuses to publish — it never assumes OME's example-config ports (1935/9999/3333) there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ome_harness.addresses import url_host
from ome_harness.config import ConfigError, HarnessConfig
from ome_harness.ome.server_xml import read_server_xml

Protocol = Literal["rtmp", "srt", "llhls", "webrtc"]
PROTOCOLS: tuple[Protocol, ...] = ("rtmp", "srt", "llhls", "webrtc")
NAMES = {"rtmp": "RTMP ingest", "srt": "SRT ingest", "llhls": "LL-HLS playback",
         "webrtc": "WebRTC signalling"}
FLAGS = {"rtmp": "--rtmp-url", "srt": "--srt-url", "llhls": "--llhls-url", "webrtc": "--webrtc-url"}
EXAMPLES = {"rtmp": "rtmp://HOST:PORT", "srt": "srt://HOST:PORT", "llhls": "http://HOST:PORT",
            "webrtc": "ws://HOST:PORT"}
_SCHEMES = {"rtmp": "rtmp", "srt": "srt", "llhls": "http", "webrtc": "ws"}
# Which part of OME's application config enables each (ome-api.md, samples/04_app.http).
APP_SECTIONS = {"rtmp": ("providers", "rtmp"), "srt": ("providers", "srt"), "llhls": ("publishers", "llhls"),
                "webrtc": ("publishers", "webrtc")}


class MediaAddressUnknown(ConfigError):
    """The target's address for a protocol is not known: one line saying how to give it."""


class MediaNotOffered(AssertionError):
    """OME's application config has no provider/publisher for the protocol: publishing there cannot work."""


@dataclass
class MediaAddresses:
    """Base URLs (`scheme://host:port`) per protocol, None when unknown, and where each came from."""

    bases: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(PROTOCOLS))
    sources: dict[str, str] = field(default_factory=dict)

    def described(self) -> str:
        """One line for reports: every address and its source, or 'unknown'."""
        return "; ".join(f"{NAMES[p]} {self.bases[p]} ({self.sources[p]})" if self.bases.get(p)
                         else f"{NAMES[p]} unknown" for p in PROTOCOLS)


def unknown_address(protocol: str, kind: str = "url") -> MediaAddressUnknown:
    if kind != "url":
        return MediaAddressUnknown(f"this {kind} target offers no {NAMES[protocol]}")
    return MediaAddressUnknown(
        f"the {NAMES[protocol]} address of this OME is unknown, and the harness does not guess OME's default "
        f"ports on the API's host: pass {FLAGS[protocol]} {EXAMPLES[protocol]} (or set endpoints.{protocol}, "
        f"OMH_ENDPOINTS__{protocol.upper()}), or give OME's Server.xml with --server-xml")


def configured_addresses(cfg: HarnessConfig, api_url: str, *, strict: bool = True) -> MediaAddresses:
    """The addresses of an OME the harness did not launch: config first, then a given Server.xml's ports.

    A broken Server.xml is a ConfigError when `strict`; otherwise (a diagnosis, whose own check reports
    the file) its ports just stay unknown.
    """
    found = MediaAddresses()
    for protocol in PROTOCOLS:
        value = getattr(cfg.endpoints, protocol)
        if value:
            found.bases[protocol] = value
            found.sources[protocol] = f"endpoints.{protocol}"
    path = cfg.checks.server_xml
    if path is None or all(found.bases.values()):
        return found
    try:
        facts = read_server_xml(path)
    except ConfigError:
        if strict:
            raise
        return found
    ports = {"rtmp": facts.rtmp_port, "srt": facts.srt_port, "llhls": facts.llhls_port,
             "webrtc": facts.webrtc_port}
    host = url_host(urlsplit(api_url).hostname or "localhost")
    for protocol in PROTOCOLS:
        if found.bases[protocol] is None and ports[protocol]:
            found.bases[protocol] = f"{_SCHEMES[protocol]}://{host}:{ports[protocol]}"
            found.sources[protocol] = f"port from {path}, on the API's host"
    return found


def launched_addresses(kind: str, rtmp: str | None, srt: str | None, llhls: str | None,
                       webrtc: str | None = None) -> MediaAddresses:
    """The addresses of an OME the harness started itself (it chose or was told the ports)."""
    bases: dict[str, str | None] = {"rtmp": rtmp, "srt": srt, "llhls": llhls, "webrtc": webrtc}
    return MediaAddresses(bases, {p: f"the launched {kind}" for p, v in bases.items() if v})


def require_ingest_address(cfg: HarnessConfig, scenarios: int) -> None:
    """Before a run on an OME the harness did not launch: publishing scenarios need its RTMP address."""
    if configured_addresses(cfg, cfg.api.url).bases["rtmp"] is None:
        raise MediaAddressUnknown(f"{scenarios} selected @media scenario(s) would publish to this OME, but "
                                  f"{unknown_address('rtmp')}; or leave them out with -m 'not media'")
