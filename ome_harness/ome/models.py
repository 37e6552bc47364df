"""Typed views of OME's REST payloads (field names follow the samples of a real v0.20.0).

Models accept unknown fields: OME adds fields between releases and a diagnosis must not break
on them. Missing or mistyped fields we rely on make the client raise OmeBadResponse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class OmeModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Version(OmeModel):
    version: str
    git_version: str | None = None


class HostNames(OmeModel):
    names: list[str] = Field(default_factory=list)


class VirtualHost(OmeModel):
    name: str
    distribution: str | None = None
    host: HostNames | None = None
    # An edge's OriginMap (OME's own openapi, VHost.origins.origin[].pass.urls.url[]); absent on an origin.
    origins: dict[str, Any] | None = None


class Application(OmeModel):
    """App config. Values inside are strings and naming is mixed: keep them as raw dicts."""

    name: str
    type: str | None = None
    dynamic: bool | None = None
    providers: dict[str, Any] = Field(default_factory=dict)
    publishers: dict[str, Any] = Field(default_factory=dict)
    output_profiles: dict[str, Any] = Field(default_factory=dict)


def _int_or_none(value: Any) -> Any:
    # Track bitrate is a string up to v0.18 and an integer from v0.19: accept both.
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


class VideoTrack(OmeModel):
    codec: str
    width: int | None = None
    height: int | None = None
    framerate: float | None = None
    bitrate: int | None = None
    key_frame_interval: float | None = None
    has_bframes: bool | None = None

    _bitrate = field_validator("bitrate", mode="before")(_int_or_none)


class AudioTrack(OmeModel):
    codec: str
    samplerate: int | None = None
    channel: int | None = None
    bitrate: int | None = None

    _bitrate = field_validator("bitrate", mode="before")(_int_or_none)


class Track(OmeModel):
    id: int
    name: str | None = None
    type: Literal["Video", "Audio", "Data"]
    video: VideoTrack | None = None
    audio: AudioTrack | None = None


class StreamInput(OmeModel):
    created_time: datetime
    source_type: str
    source_url: str | None = None
    tracks: list[Track] = Field(default_factory=list)


class StreamOutput(OmeModel):
    name: str
    tracks: list[Track] = Field(default_factory=list)
    playlists: list[dict[str, Any]] = Field(default_factory=list)


class Stream(OmeModel):
    name: str
    input: StreamInput
    outputs: list[StreamOutput] = Field(default_factory=list)

    def tracks_of(self, kind: Literal["Video", "Audio", "Data"]) -> list[Track]:
        return [t for t in self.input.tracks if t.type == kind]


class Stats(OmeModel):
    """Counters at server, vhost, app or stream level."""

    total_bytes_in: int
    total_bytes_out: int
    total_connections: int
    max_total_connections: int
    connections: dict[str, int] = Field(default_factory=dict)
    created_time: datetime
    last_updated_time: datetime
    last_recv_time: datetime
    last_sent_time: datetime
    avg_throughput_in: int = 0
    avg_throughput_out: int = 0
    last_throughput_in: int = 0
    last_throughput_out: int = 0
    max_throughput_in: int = 0
    max_throughput_out: int = 0


class EventResult(OmeModel):
    """One item of a `:sendEvents` answer (messages come without the [HTTP] decoration)."""

    message: str
    status_code: int
