"""What a backend's cue did on an OME whose received events the harness cannot list: its LL-HLS output.

On the emulator the harness reads what OME received; a real OME tells nobody (and answers 200 even
to a cue it drops, ome-api.md), so there the proof is the effect a viewer gets: the segment cut at
the cue time for a break OME keeps, and no cut for a cue the backend refused.
"""

from __future__ import annotations

from datetime import datetime

from ome_harness.scte35.insertion import CueSent
from ome_harness.scte35.verify import CueVerification, verify_cue_in_llhls, wait_for_room_to_cut
from ome_harness.target.base import OmeTarget

WAIT_S = 15.0


def prepare_visible_cut(target: OmeTarget, stream: str) -> None:
    """Wait for a moment whose cut would not fall on a regular segment boundary (see verify.py)."""
    wait_for_room_to_cut(target.llhls_url(stream))


def _verify(target: OmeTarget, stream: str, sent_at: datetime, duration_ms: int | None,
            event_id: int | None) -> CueVerification:
    sent = CueSent(event_id=event_id if event_id is not None else 0, out=True, at=sent_at, path="api",
                   duration_s=duration_ms / 1000 if duration_ms else None)
    return verify_cue_in_llhls(target.llhls_url(stream), sent, wait_s=WAIT_S)


def expect_cut(target: OmeTarget, stream: str, sent_at: datetime, duration_ms: int | None,
               event_id: int | None = None) -> CueVerification:
    verification = _verify(target, stream, sent_at, duration_ms, event_id)
    if not verification.cut_found:
        raise AssertionError(f"OME answered, but its LL-HLS output shows no cut at the cue time: "
                             f"{verification.summary()}")
    return verification


def expect_no_cut(target: OmeTarget, stream: str, sent_at: datetime, duration_ms: int | None) -> CueVerification:
    verification = _verify(target, stream, sent_at, duration_ms, None)
    if verification.cut_found:
        raise AssertionError(f"the backend refused the cue, yet OME's LL-HLS output is cut at the cue time: "
                             f"{verification.summary()}")
    return verification
