"""What each OME release can and cannot do, keyed by the version `GET /v1/version` names.

Sources: OME's source at each release tag (see ../shared/ome-api.md). `cue` events exist in
v0.18–v0.20.5, `scte35` events in v0.19.0–v0.20.5; v0.21.0 removed both from `:sendEvent`
(400 `eventFormat is not supported`). SCTE-35 sections in an MPEG-TS input are ignored by every
version (`Ignored unsupported or unknown section (table id: 252)`, samples/v0.21.0-media): from
v0.21.0 on there is no on-demand SCTE-35 insertion at all; v0.20.5 is the last release with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class OmeVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> OmeVersion:
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(f"not an OME version: {text!r}")
        return cls(*(int(g) for g in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


_V = OmeVersion.parse
LAST_SCTE35_API_RELEASE = "0.20.5"
"""The last OME release whose `:sendEvent` takes `scte35` (ome-api.md: v0.21.0 removed it)."""


@dataclass(frozen=True)
class Capabilities:
    """What a version offers (the scte35 check puts the consequences into words)."""

    version: OmeVersion
    scte35_api: bool
    cue_api: bool

    @property
    def event_formats(self) -> tuple[str, ...]:
        formats = ["id3v2"]
        if self.cue_api:
            formats.append("cue")
        if self.scte35_api:
            formats.append("scte35")
        return tuple(formats)


def capabilities(version: str | OmeVersion) -> Capabilities:
    v = version if isinstance(version, OmeVersion) else OmeVersion.parse(version)
    return Capabilities(
        version=v,
        scte35_api=_V("0.19.0") <= v < _V("0.21.0"),
        cue_api=_V("0.18.0") <= v < _V("0.21.0"),
    )
