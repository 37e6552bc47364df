"""Put a SCTE-35 cue into a live stream by the path this OME version offers.

API path (v0.19.0–v0.20.5): `POST …:sendEvent` with `eventFormat: scte35` and a splice insert.
v0.21.0 removed it (400 `eventFormat is not supported: [scte35]`), and no version turns SCTE-35
sections of an MPEG-TS input into markers (ome-api.md; samples/v0.21.0-media/inband_*): from
v0.21.0 on there is no on-demand insertion. `inband.py` stays only as a probe that proves it.

A 200 is not an insertion either: v0.20's LL-HLS publisher drops a break that is not longer
than 1.5 × the application's segment duration (`break_rule.py`); `CueSent.not_applied` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeBadRequest
from ome_harness.ome.versions import LAST_SCTE35_API_RELEASE, OmeVersion, capabilities
from ome_harness.scte35.break_rule import honoured, not_applied_reason, read_segment_duration

Path = Literal["api", "in-band"]


class CueRefused(Exception):
    """OME refused the cue; `message` is OME's own text without its decoration."""

    def __init__(self, message: str, *, version: str | None, body: dict[str, Any]) -> None:
        self.message, self.version, self.body = message, version, body
        hint = ""
        if version is not None and not capabilities(version).scte35_api:
            hint = " — " + no_insertion_words(version)
        super().__init__(f"OME refused the SCTE-35 cue: {message}{hint}")


def no_insertion_words(version: str | OmeVersion) -> str:
    """Why a version offers no on-demand SCTE-35 insertion, in one sentence."""
    return (f"OME v{version} has no on-demand SCTE-35 insertion: v0.21.0 removed it from :sendEvent (400 "
            "'eventFormat is not supported: [scte35]'), and no version reads SCTE-35 sections from an MPEG-TS "
            f"input; v{LAST_SCTE35_API_RELEASE} is the last release with the API path")


@dataclass(frozen=True)
class CueSent:
    """A cue as sent: what the verifier must find again in the output.

    `not_applied` is set when OME accepted the cue but will drop it (the break-length rule)."""

    event_id: int
    out: bool
    duration_s: float | None
    at: datetime
    path: Path
    not_applied: str | None = None


def available_paths(version: str | OmeVersion) -> list[Path]:
    """On-demand insertion paths this version offers: the API in v0.19.0–v0.20.5, none after."""
    return ["api"] if capabilities(version).scte35_api else []


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
                     version: str | None = None, segment_s: float | None = None) -> CueSent:
    """POST the cue through `:sendEvent`; OME's 400 becomes CueRefused with OME's message.

    With the application's LL-HLS `segment_s`, a break OME will drop is marked `not_applied`."""
    request = body if body is not None else splice_insert_body(event_id, out=out, duration_s=duration_s)
    sent_at = datetime.now(UTC)
    try:
        client.send_event(vhost, app, stream, request)
    except OmeBadRequest as exc:
        raise CueRefused(exc.message, version=version, body=request) from None
    duration_ms = duration_s * 1000 if out and duration_s else None
    dropped = segment_s is not None and not honoured(duration_ms, segment_s)
    return CueSent(event_id=event_id, out=out, duration_s=duration_s if out else None, at=sent_at, path="api",
                   not_applied=not_applied_reason(segment_s) if dropped and segment_s is not None else None)


def insert_cue(client: OmeClient, publication: Any, *, event_id: int, duration_s: float | None = None,
               version: str | None = None, segment_s: float | None = None) -> CueSent:
    """A cue-out through the API, judged against the application's segment duration (read when not given).

    On v0.21.0+ OME refuses it (CueRefused, in words that say no on-demand path exists)."""
    version = version or client.version().version
    if segment_s is None and capabilities(version).scte35_api:
        segment_s = read_segment_duration(client, publication.vhost, publication.app)
    return send_cue_via_api(client, publication.vhost, publication.app, publication.name, event_id=event_id,
                            duration_s=duration_s, version=version, segment_s=segment_s)


def attempt_cue_via_api(client: OmeClient, vhost: str, app: str, stream: str, *, event_id: int = 1,
                        duration_s: float | None = None, body: dict[str, Any] | None = None,
                        version: str | None = None, segment_s: float | None = None) -> CueSent | CueRefused:
    """Like send_cue_via_api, but OME's refusal is returned as an outcome to assert on."""
    try:
        return send_cue_via_api(client, vhost, app, stream, event_id=event_id, duration_s=duration_s, body=body,
                                version=version, segment_s=segment_s)
    except CueRefused as refusal:
        return refusal
