"""What the SCTE-35 scenarios do, so that their steps stay one or two lines (pytest lives here, not in
scte35/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ome_harness.config import HarnessConfig
from ome_harness.ome.client import OmeClient
from ome_harness.ome.versions import OmeVersion, capabilities
from ome_harness.results import CheckResult, Status
from ome_harness.scte35.break_rule import (
    app_segment_duration,
    break_for,
    not_applied_reason,
    too_short_break,
)
from ome_harness.scte35.insertion import CueSent, insert_cue, no_insertion_words
from ome_harness.scte35.verify import CueTolerance, CueVerification, verify_cue_in_llhls, wait_for_room_to_cut
from ome_harness.target.base import OmeTarget

V0_21_0 = OmeVersion(0, 21, 0)


def segment_duration(client: OmeClient, target: OmeTarget) -> float:
    """The application's LL-HLS segment duration from OME's app config (OME's default if it names none)."""
    return app_segment_duration(client, target.vhost, target.app)


def skip_unless_insertion_possible(version: str) -> None:
    """On v0.21+ the scenario is reported as impossible on this version, in words, never as a pass."""
    if not capabilities(version).scte35_api:
        pytest.skip(f"impossible on this version: {no_insertion_words(version)}")


def as_version_without_scte35(target: OmeTarget, version: str, on_teardown: Callable[[], Any]) -> None:
    """Nothing to do on v0.21+; the emulator plays v0.21.0 for this scenario; a real v0.20 cannot."""
    if not capabilities(version).scte35_api:
        return
    if target.kind != "emulator" or target.emulator is None:
        pytest.skip(
            f"OME v{version} still takes SCTE-35 through its API (this scenario needs v0.21.0 or newer)"
        )
    state = target.emulator.state
    before, state.version = state.version, OmeVersion.parse("0.21.0")
    on_teardown(lambda: setattr(state, "version", before))


def insert_timed_cue(
    client: OmeClient, target: OmeTarget, publication: Any, segment_s: float, *, event_id: int, kept: bool
) -> CueSent:
    """A cue-out sent where its cut can be seen, with a break the application keeps (or exactly the limit)."""
    duration = break_for(segment_s) if kept else too_short_break(segment_s)
    wait_for_room_to_cut(target.llhls_url(publication.name, publication.app), segment_s=segment_s)
    return insert_cue(client, publication, event_id=event_id, duration_s=duration, segment_s=segment_s)


def send_inband_cue(publication: Any, *, event_id: int, duration_s: float) -> CueSent:
    """The in-band probe: SCTE-35 sections in the SRT publish's MPEG-TS, at the next keyframe."""
    publication.encoder.cue_now(event_id, duration_s=duration_s)
    return publication.encoder.wait_sent(event_id, timeout_s=10)


def _verify(target: OmeTarget, publication: Any, cue: CueSent, cfg: HarnessConfig) -> CueVerification:
    tolerance = CueTolerance(skew_s=cfg.media.clock_skew_s)
    return verify_cue_in_llhls(target.llhls_url(publication.name, publication.app), cue, tolerance=tolerance)


def expect_cue_in_output(
    target: OmeTarget, publication: Any, cue: CueSent, cfg: HarnessConfig
) -> CueVerification:
    verification = _verify(target, publication, cue, cfg)
    assert verification.ok, verification.summary()
    return verification


def expect_no_cut(target: OmeTarget, publication: Any, cue: CueSent, cfg: HarnessConfig) -> CueVerification:
    verification = _verify(target, publication, cue, cfg)
    assert not verification.cut_found, f"the output is cut at the cue time: {verification.summary()}"
    return verification


def expect_not_applied(cue: CueSent, segment_s: float) -> None:
    assert isinstance(cue, CueSent), f"OME refused the cue: {cue}"
    assert cue.not_applied == not_applied_reason(segment_s), cue


def expect_capability_words(capability: CheckResult, version: str) -> None:
    if OmeVersion.parse(version) >= V0_21_0:
        assert capability.status is Status.WARN and "no on-demand SCTE-35 insertion" in capability.summary, (
            capability
        )
        assert capability.facts["paths"] == [], capability
    else:
        assert capability.status is Status.OK and "v0.21.0 removed" in capability.summary, capability
        assert capability.facts["paths"] == ["api"], capability
