"""The named, versioned procedures a recording runs, with their deadlines; one line each in PROCEDURES.

A procedure's version changes when the questions it asks change, so two recordings of different
versions of a procedure are not compared as if they asked the same thing. `planned` names the ones the
issue asks for that are not built yet: their observations in a recording are "cannot run", said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ome_harness.recording.procedures.api import api_errors, read_api
from ome_harness.recording.procedures.edge import edge_viewer
from ome_harness.recording.procedures.llhls import llhls_playlists, llhls_warmup
from ome_harness.recording.procedures.media_more import llhls_25fps, srt_publish, webrtc_signalling
from ome_harness.recording.procedures.publishing import delete_own_stream, rtmp_publish, send_event
from ome_harness.recording.session import Session


@dataclass(frozen=True)
class Procedure:
    name: str
    version: int
    run: Callable[[Session], None]
    deadline_s: float
    mutating: bool = False
    needs: tuple[str, ...] = ()  # media addresses it cannot do without: rtmp, llhls, srt, webrtc
    tolerance: str = ""  # how fidelity compares its observations (in the report)

    @property
    def summary(self) -> str:
        return (self.run.__doc__ or "").strip().split("\n")[0]


PROCEDURES: dict[str, Procedure] = {
    p.name: p
    for p in (
        Procedure(
            "api-read",
            1,
            read_api,
            20.0,
            tolerance="status, envelope, field names and types; values differ between servers",
        ),
        Procedure(
            "api-errors",
            1,
            api_errors,
            30.0,
            tolerance="status, envelope, OME's message with names in it replaced",
        ),
        Procedure(
            "rtmp-publish",
            1,
            rtmp_publish,
            40.0,
            mutating=True,
            needs=("rtmp",),
            tolerance="first listing: listed within the deadline (not how fast); stats: the counters move",
        ),
        Procedure(
            "send-event",
            1,
            send_event,
            60.0,
            mutating=True,
            needs=("rtmp",),
            tolerance="status and message per format; the chunklist after the kept break: a cut or none",
        ),
        Procedure(
            "llhls-playlists",
            1,
            llhls_playlists,
            90.0,
            mutating=True,
            needs=("rtmp", "llhls"),
            tolerance="playlist tags and their rules; a reload held (answered > 0.2 s) or not; a far-future "
            "reload unanswered",
        ),
        Procedure(
            "llhls-warmup",
            1,
            llhls_warmup,
            45.0,
            mutating=True,
            needs=("rtmp", "llhls"),
            tolerance="each series as its sequence of classes (refused, 201, held > 2 s, at once); a 201 "
            "may be missed (its window is shorter than the 0.25 s interval, v0.21.0's capture)",
        ),
        Procedure(
            "delete-own-stream",
            1,
            delete_own_stream,
            40.0,
            mutating=True,
            needs=("rtmp",),
            tolerance="status and envelope of each answer; 'later' is 2 s after the DELETE",
        ),
        Procedure(
            "srt-publish",
            1,
            srt_publish,
            40.0,
            mutating=True,
            needs=("srt",),
            tolerance="which track figures are 0 at the first listing; fields and types after",
        ),
        Procedure(
            "llhls-25fps",
            1,
            llhls_25fps,
            45.0,
            mutating=True,
            needs=("rtmp", "llhls"),
            tolerance="playlist tags and rules; PART-TARGET compared as written",
        ),
        Procedure(
            "webrtc-signalling",
            1,
            webrtc_signalling,
            40.0,
            mutating=True,
            needs=("rtmp", "webrtc"),
            tolerance="the reply's field names and types (SDP and candidates differ by run)",
        ),
        Procedure(
            "edge",
            1,
            edge_viewer,
            45.0,
            needs=("edge",),  # a viewer only: read-only apart from the viewer (the edge's pull is OME's)
            tolerance="status, envelope, field names and types of each answer before and after the viewer; "
            "the offer's field names (the SDP elided); the edge's log not reachable (not recorded)",
        ),
    )
}

# Asked for by issue 21, not built yet: a recording's observations under these names cannot be compared.
PLANNED: dict[str, str] = {}

DEFAULT_ORDER = tuple(PROCEDURES)


def select(names: list[str] | None) -> list[Procedure]:
    """The procedures named (all when None), in the registry's order; an unknown name raises ValueError."""
    if not names:
        return list(PROCEDURES.values())
    unknown = [n for n in names if n not in PROCEDURES]
    if unknown:
        planned = [n for n in unknown if n in PLANNED]
        detail = f" ({', '.join(planned)}: planned, not built yet)" if planned else ""
        raise ValueError(f"unknown procedure {', '.join(unknown)}{detail}; known: {', '.join(PROCEDURES)}")
    return [p for p in PROCEDURES.values() if p.name in names]
