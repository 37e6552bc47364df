"""Read the facts that matter from an OME Server.xml (API bind, token, ports, addresses).

OME's example configs read env vars as `${env:NAME:default}`; values are resolved the same way.
The API needs two pieces: `Bind/Managers/API/Port` and `Managers/API/AccessToken` — the official
image ships with the first commented out, which is why 8081 is often closed.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ome_harness.config import ConfigError

_ENV_REF = re.compile(r"\$\{env:(?P<name>[A-Za-z0-9_]+)(?::(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class ServerXml:
    path: Path
    api_enabled: bool
    api_port: int | None
    access_token: str | None
    ips: tuple[str, ...]
    rtmp_port: int | None = None
    srt_port: int | None = None
    llhls_port: int | None = None
    webrtc_port: int | None = None  # WebRTC signalling (shares 3333 with LL-HLS in the example configs)
    vhosts: tuple[str, ...] = ()
    apps: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def listens_ipv6(self) -> bool:
        return any(ip in ("::", "[::]") or ":" in ip for ip in self.ips)


def _resolve(text: str | None, env: Mapping[str, str]) -> str | None:
    if text is None:
        return None
    return _ENV_REF.sub(lambda m: env.get(m.group("name"), m.group("default") or ""), text.strip())


def _port(node: ET.Element | None, env: Mapping[str, str]) -> int | None:
    value = _resolve(node.text if node is not None else None, env)
    if not value:
        return None
    # Ports may carry a protocol suffix ("4000/udp") or a list ("4000-4005"): the first number counts.
    match = re.match(r"\d+", value)
    return int(match.group()) if match else None


def read_server_xml(path: Path | str, env: Mapping[str, str] | None = None) -> ServerXml:
    env = os.environ if env is None else env
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read Server.xml: {exc.strerror}") from None
    except ET.ParseError as exc:
        raise ConfigError(f"{path}: not valid XML: {exc}") from None
    if root.tag != "Server":
        raise ConfigError(f"{path}: not an OME Server.xml (root element is <{root.tag}>, expected <Server>)")
    api_bind = root.find("Bind/Managers/API")
    token = _resolve(root.findtext("Managers/API/AccessToken"), env)
    ips = tuple(_resolve(ip.text, env) or "*" for ip in root.findall("IP")) or ("*",)
    vhosts = root.findall("VirtualHosts/VirtualHost")
    return ServerXml(
        path=path,
        api_enabled=api_bind is not None and root.find("Managers/API") is not None,
        api_port=_port(root.find("Bind/Managers/API/Port"), env),
        access_token=token or None,
        ips=ips,
        rtmp_port=_port(root.find("Bind/Providers/RTMP/Port"), env),
        srt_port=_port(root.find("Bind/Providers/SRT/Port"), env),
        llhls_port=_port(root.find("Bind/Publishers/LLHLS/Port"), env),
        webrtc_port=_port(root.find("Bind/Publishers/WebRTC/Signalling/Port"), env),
        vhosts=tuple(v.findtext("Name", "").strip() for v in vhosts),
        apps={v.findtext("Name", "").strip(): tuple(a.findtext("Name", "").strip()
                                                    for a in v.findall("Applications/Application"))
              for v in vhosts},
    )
