"""OME v0.20's break-length rule: a 200 from `:sendEvent` is not an insertion.

Measured on a real v0.20.0 (samples/v0.20.0-media/cue_2s_*): the LL-HLS publisher refuses a
marker whose duration is not greater than 1.5 × the application's LL-HLS segment duration, in
its log only — `Failed to insert marker (... msg: Duration of the marker must be greater than
9000.000000 ms ...)` with the default 6 s segments — and nothing changes in the output. The
segment duration is the application's `publishers.llhls.segmentDuration` (GET .../apps/APP).
"""

from __future__ import annotations

import math
from typing import Any

from ome_harness.ome.client import OmeClient

# OME's own default when an application does not set it (samples/04_app.http shows "6").
DEFAULT_SEGMENT_S = 6.0
FACTOR = 1.5


def min_break_ms(segment_s: float) -> float:
    """The break must be *greater* than this (9000 ms for 6 s segments)."""
    return FACTOR * segment_s * 1000


def honoured(duration_ms: float | None, segment_s: float) -> bool:
    """Would OME's LL-HLS publisher keep this break? A cue without a duration is not judged here."""
    return duration_ms is None or duration_ms > min_break_ms(segment_s)


def not_applied_reason(segment_s: float) -> str:
    """The harness's words for a break OME accepts through the API and then drops."""
    return (f"accepted by the API, not applied: the break must exceed {min_break_ms(segment_s):.0f} ms "
            f"for this application's segment duration ({segment_s:g} s)")


def break_for(segment_s: float) -> float:
    """A break length in whole seconds that the target honours, with a second of margin."""
    return float(math.floor(min_break_ms(segment_s) / 1000) + 1)


def too_short_break(segment_s: float) -> float:
    """A break OME refuses: exactly the limit (the rule is 'greater than')."""
    return min_break_ms(segment_s) / 1000


def segment_duration_of(app_publishers: dict[str, Any]) -> float | None:
    """The LL-HLS segment duration in an application's `publishers` (None: no LL-HLS publisher)."""
    llhls = app_publishers.get("llhls")
    if not isinstance(llhls, dict):
        return None
    try:
        return float(llhls.get("segmentDuration", DEFAULT_SEGMENT_S))
    except (TypeError, ValueError):
        return DEFAULT_SEGMENT_S


def read_segment_duration(client: OmeClient, vhost: str, app: str) -> float | None:
    """The application's LL-HLS segment duration as OME reports it (None: the app has no LL-HLS)."""
    return segment_duration_of(client.app(vhost, app).publishers)


def app_segment_duration(client: OmeClient, vhost: str, app: str) -> float:
    """The application's LL-HLS segment duration, OME's default when it names none."""
    return read_segment_duration(client, vhost, app) or DEFAULT_SEGMENT_S
