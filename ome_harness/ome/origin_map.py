"""An edge's origin map: where an OME edge pulls each stream from, as its vhost says.

OME's `GET /v1/vhosts/{vhost}` on an edge carries `origins.origin[] = {location, pass: {scheme,
urls: {url: [...]}, forwardQueryParams}}` and `origins.properties` (`noInputFailoverTimeout`,
`unusedStreamDeletionTimeout`, milliseconds as strings) — samples/v0.20.0-media/edge/edge_vhost.http,
and OME's openapi v0.21.0 (VHost.origins). An origin's vhost has no `origins`.

What an edge does with it was recorded on v0.20.0 only (ome-api.md "Origin and edge (OVT)"): the
application exists only as the `*` template (invisible in the API: the apps list is `[]`), and a
WebRTC viewer's `request_offer` makes the edge create the app and pull the stream; an LL-HLS viewer
does not. For any other version that behaviour is not recorded and is never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ome_harness.ome.models import VirtualHost

# The versions on which an edge's behaviour before and after its first viewer was captured.
EDGE_RECORDED_VERSIONS = ("0.20.0",)
EDGE_NOT_RECORDED = "edge behaviour not recorded for this version"


@dataclass(frozen=True)
class OriginEntry:
    """One `<Origin>`: the location it serves and where it pulls from."""

    location: str
    scheme: str
    urls: tuple[str, ...]

    def described(self) -> str:
        return f"{self.location} → " + ", ".join(f"{self.scheme}://{u}" for u in self.urls)


@dataclass(frozen=True)
class OriginMap:
    entries: tuple[OriginEntry, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def pulls_over_ovt(self) -> bool:
        """An edge in OME's sense: at least one location pulled over OVT."""
        return any(e.scheme.lower() == "ovt" and e.urls for e in self.entries)

    @property
    def urls(self) -> list[str]:
        return [u for e in self.entries for u in e.urls]

    def described(self) -> str:
        return "; ".join(e.described() for e in self.entries) or "no origin map"

    def unused_deletion_s(self) -> float | None:
        """`unusedStreamDeletionTimeout` in seconds (OME's value is milliseconds), when set."""
        raw = self.properties.get("unusedStreamDeletionTimeout")
        try:
            return int(str(raw)) / 1000 if raw is not None else None
        except ValueError:
            return None


def origin_map(vhost: VirtualHost) -> OriginMap:
    """The vhost's origin map (empty on an origin)."""
    raw: dict[str, Any] = vhost.origins or {}
    entries = []
    for entry in raw.get("origin") or []:
        if not isinstance(entry, dict):
            continue
        passing = entry.get("pass") if isinstance(entry.get("pass"), dict) else {}
        found = (passing.get("urls") or {}).get("url") if isinstance(passing.get("urls"), dict) else None
        urls = found if isinstance(found, list) else [found] if found else []
        entries.append(OriginEntry(location=str(entry.get("location") or "/"),
                                   scheme=str(passing.get("scheme") or ""), urls=tuple(str(u) for u in urls)))
    props = raw.get("properties") if isinstance(raw.get("properties"), dict) else {}
    return OriginMap(tuple(entries), {str(k): str(v) for k, v in props.items()})


def edge_recorded(version: object) -> bool:
    """Whether an edge's on-demand behaviour was captured for this OME version."""
    return str(version or "") in EDGE_RECORDED_VERSIONS


def host_port(url: str) -> tuple[str | None, int | None]:
    """Host and port of an origin-map URL (`host:port/`, maybe with a scheme) or a sourceUrl."""
    parts = urlsplit(url if "://" in url else "//" + url)
    try:
        return parts.hostname, parts.port
    except ValueError:
        return parts.hostname, None
