"""What each OME release can and cannot do, keyed by the version `GET /v1/version` names.

Sources: OME's source at each release tag (see ../shared/ome-api.md). `cue` events exist in
v0.18–v0.20.5, `scte35` events in v0.19.0–v0.20.5; v0.21.0 removed both from `:sendEvent`
(400 `eventFormat is not supported`) and takes SCTE-35 only in-band from MPEG-TS sources.
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


@dataclass(frozen=True)
class Capabilities:
    """What a version offers (the scte35 check puts the consequences into words)."""

    version: OmeVersion
    scte35_api: bool
    cue_api: bool
    scte35_inband: bool

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
        # In-band markers from MPEG-TS are documented from v0.21.0; earlier releases are not known to.
        scte35_inband=v >= _V("0.21.0"),
    )
