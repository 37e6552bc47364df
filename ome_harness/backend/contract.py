"""The request and answer bodies of the backend's API: what its OpenAPI document publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

# Ids travel in URL paths and OME stream names: a conservative alphabet keeps both safe.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# No control characters (PostgreSQL refuses NUL in text; logs should not carry escapes).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
OME_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
UINT32_MAX = 0xFFFFFFFF


def _integer_not_bool_or_text(value: Any) -> Any:
    # JSON Schema's integer accepts 1.0 but neither `true` nor "1": pydantic's lax mode would take both.
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


Integer = Annotated[int, BeforeValidator(_integer_not_bool_or_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelCreate(_Body):
    id: str = Field(pattern=ID_PATTERN, description="Channel id used in /api/streams/{channelId}/...")
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    ome_app: str | None = Field(
        None, pattern=OME_NAME_PATTERN, description="OME application (default: backend's)"
    )
    ome_stream: str | None = Field(
        None,
        pattern=OME_NAME_PATTERN,
        description="OME stream name (default: the stream key, as a publisher using the key creates it)",
    )


class MarkerCreate(_Body):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    cue_type: Literal["out", "in"] = "out"
    duration_ms: Integer = Field(
        30_000, ge=0, le=86_400_000, description="Break length; OME schedules the cue-in"
    )
    auto_return: StrictBool = True
    event_id_policy: Literal["fixed", "increment"] = "increment"
    splice_event_id: Integer = Field(1, ge=0, le=UINT32_MAX, description="Fixed id, or the next id to use")


class Scte35Request(_Body):
    marker_id: str = Field(
        min_length=1, max_length=200, description="Id of a marker created with POST /api/markers"
    )


class OmeLocation(BaseModel):
    vhost: str
    app: str
    stream: str


class ChannelOut(BaseModel):
    id: str
    name: str
    status: Literal["active", "inactive"]
    stream_key: str
    ome: OmeLocation
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    deactivated_at: datetime | None


class MarkerOut(BaseModel):
    id: str
    name: str
    cue_type: Literal["out", "in"]
    duration_ms: int
    auto_return: bool
    event_id_policy: Literal["fixed", "increment"]
    splice_event_id: int


class OmeStatus(BaseModel):
    reachable: bool
    version: str | None = None
    message: str | None = None


class StartResult(BaseModel):
    channel_id: str
    status: Literal["active"]
    stream_key: str = Field(description="Publish with this key: rtmp://OME:1935/{app}/{stream}")
    ome: OmeLocation
    ome_status: OmeStatus
    degraded: bool


class StopResult(BaseModel):
    channel_id: str
    status: Literal["inactive"]
    ome: OmeLocation
    ome_stream: Literal["deleted", "not_found", "unknown"] = Field(
        description="deleted: OME accepted the DELETE; not_found: no such stream in OME; unknown: OME "
                    "unreachable "
        "or refused (the channel is inactive all the same; degraded: true)"
    )
    degraded: bool


class Scte35Result(BaseModel):
    channel_id: str
    marker_id: str
    accepted: bool
    ome_version: str
    event: dict[str, Any] = Field(description="The :sendEvent body OME accepted")
    degraded: bool


class StreamSummary(BaseModel):
    name: str
    channel_id: str | None


class StreamList(BaseModel):
    vhost: str
    app: str
    streams: list[StreamSummary]
    degraded: bool


class StreamDetail(BaseModel):
    channel: ChannelOut
    live: bool | None = Field(description="Whether OME lists the stream; null when OME is unreachable")
    ome_stream: dict[str, Any] | None
    metrics: dict[str, Any] | None
    degraded: bool


class AuditEntryOut(BaseModel):
    id: int
    time: datetime
    actor: str
    action: str
    channel_id: str | None
    marker_id: str | None
    outcome: Literal["ok", "rejected", "failed", "degraded"]
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. channel_not_found")
    message: str
    degraded: bool = False
    details: Any = None
