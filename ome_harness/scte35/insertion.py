"""Put a SCTE-35 cue into a live stream by the path this OME version offers.

API path (v0.19.0–v0.20.5): `POST …:sendEvent` with `eventFormat: scte35` and a splice insert.
v0.21.0 removed it (400 `eventFormat is not supported: [scte35]`): markers must then arrive
in-band, as SCTE-35 sections in an MPEG-TS source (SRT or MPEG-TS/UDP) — see `inband.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeBadRequest
from ome_harness.ome.versions import OmeVersion, capabilities

Path = Literal["api", "in-band"]


class CueRefused(Exception):
    """OME refused the cue; `message` is OME's own text without its decoration."""

    def __init__(self, message: str, *, version: str | None, body: dict[str, Any]) -> None:
        self.message, self.version, self.body = message, version, body
        hint = ""
        if version is not None and not capabilities(version).scte35_api:
            hint = (f" — OME v{version} takes SCTE-35 only in-band (SCTE-35 sections in an MPEG-TS source over "
                    "SRT or UDP); the API path exists in v0.19.0–v0.20.5")
        super().__init__(f"OME refused the SCTE-35 cue: {message}{hint}")


@dataclass(frozen=True)
class CueSent:
    """A cue as sent: what the verifier must find again in the output."""

    event_id: int
    out: bool
    duration_s: float | None
    at: datetime
    path: Path


def available_paths(version: str | OmeVersion) -> list[Path]:
    """Insertion paths this version offers (in-band needs an MPEG-TS ingest: SRT or UDP)."""
    caps = capabilities(version)
    paths: list[Path] = []
    if caps.scte35_api:
        paths.append("api")
    if caps.scte35_inband:
        paths.append("in-band")
    return paths


def choose_path(version: str | OmeVersion) -> Path:
    """The API where the version has it (no encoder change needed), otherwise in-band."""
    return "api" if capabilities(version).scte35_api else "in-band"


def splice_insert_body(event_id: int, *, out: bool = True, duration_s: float | None = None,
                       auto_return: bool = True) -> dict[str, Any]:
    """The `:sendEvent` body of OME v0.19–v0.20.5 for a splice insert (duration in milliseconds)."""
    event: dict[str, Any] = {"spliceCommand": "spliceInsert", "id": event_id, "type": "out" if out else "in"}
    if out and duration_s:
        event["duration"] = int(round(duration_s * 1000))
        event["autoReturn"] = auto_return
    return {"eventFormat": "scte35", "events": [event]}


def send_cue_via_api(client: OmeClient, vhost: str, app: str, stream: str, *, event_id: int, out: bool = True,
                     duration_s: float | None = None, body: dict[str, Any] | None = None,
                     version: str | None = None) -> CueSent:
    """POST the cue through `:sendEvent`; OME's 400 becomes CueRefused with OME's message."""
    request = body if body is not None else splice_insert_body(event_id, out=out, duration_s=duration_s)
    sent_at = datetime.now(UTC)
    try:
        client.send_event(vhost, app, stream, request)
    except OmeBadRequest as exc:
        raise CueRefused(exc.message, version=version, body=request) from None
    return CueSent(event_id=event_id, out=out, duration_s=duration_s if out else None, at=sent_at, path="api")


class CuePathUnavailable(Exception):
    """The version's only path cannot be used with this publication (e.g. in-band over RTMP)."""


def insert_cue(client: OmeClient, publication: Any, *, event_id: int, duration_s: float | None = None,
               version: str | None = None, timeout_s: float = 10.0) -> CueSent:
    """A cue-out by the path the OME version offers: the API up to v0.20.x, in-band from v0.21.0."""
    version = version or client.version().version
    if choose_path(version) == "api":
        return send_cue_via_api(client, publication.vhost, publication.app, publication.name, event_id=event_id,
                                duration_s=duration_s, version=version)
    publisher = publication.encoder
    if not hasattr(publisher, "cue_now"):
        raise CuePathUnavailable(
            f"OME v{version} takes SCTE-35 only in-band, and this stream is not published as MPEG-TS with "
            "SCTE-35 injection: publish over SRT with in-band SCTE-35")
    publisher.cue_now(event_id, duration_s=duration_s)
    return publisher.wait_sent(event_id, timeout_s)


def attempt_cue_via_api(client: OmeClient, vhost: str, app: str, stream: str, *, event_id: int = 1,
                        duration_s: float | None = None, body: dict[str, Any] | None = None,
                        version: str | None = None) -> CueSent | CueRefused:
    """Like send_cue_via_api, but OME's refusal is returned as an outcome to assert on."""
    try:
        return send_cue_via_api(client, vhost, app, stream, event_id=event_id, duration_s=duration_s, body=body,
                                version=version)
    except CueRefused as refusal:
        return refusal
