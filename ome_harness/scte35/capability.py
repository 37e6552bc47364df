"""Which SCTE-35 insertion paths this OME offers, and the v0.21 upgrade trap (diagnose's `scte35` check).

Verdicts: v0.19–v0.20.x is OK — the API path works today — with the upgrade warning in its words;
v0.21+ is WARN, because the backends this harness serves insert cues through `:sendEvent`, which
that version refuses.
"""

from __future__ import annotations

from ome_harness.ome.versions import OmeVersion, capabilities
from ome_harness.results import CheckResult, Evidence, Status
from ome_harness.scte35.insertion import available_paths

CHECK_ID = "scte35"
TITLE = "SCTE-35 insertion paths"


def diagnose_scte35_capability(version: str | OmeVersion | None) -> CheckResult:
    """SKIP without a version; OK while the API path exists; WARN where only in-band (or nothing) is left."""
    if version is None:
        return CheckResult(id=CHECK_ID, title=TITLE, status=Status.SKIP,
                           summary="OME's version is unknown (GET /v1/version did not answer): "
                                   "cannot tell which SCTE-35 paths it offers")
    try:
        caps = capabilities(version)
    except ValueError:
        return CheckResult(id=CHECK_ID, title=TITLE, status=Status.SKIP,
                           summary=f"OME reported a version the harness cannot read: {version!r}")
    paths = available_paths(caps.version)
    v = f"v{caps.version}"
    evidence = [
        Evidence(what="API path (:sendEvent eventFormat scte35)",
                 outcome="accepted (v0.19.0–v0.20.5)" if caps.scte35_api
                 else "refused with 400 'eventFormat is not supported: [scte35]'" if caps.version >= OmeVersion(0, 21, 0)
                 else "not available before v0.19.0"),
        Evidence(what="in-band path (SCTE-35 sections in an MPEG-TS source over SRT/UDP)",
                 outcome="supported" if caps.scte35_inband else "not documented for this version"),
    ]
    facts = {"version": str(caps.version), "paths": paths, "event_formats": list(caps.event_formats)}
    if caps.scte35_api:
        return CheckResult(
            id=CHECK_ID, title=TITLE, status=Status.OK, evidence=evidence, facts=facts,
            summary=f"{v} takes SCTE-35 through the API (:sendEvent); v0.21.0 removed that path — a backend "
                    "that inserts cues through the API will get 400 'eventFormat is not supported' after an upgrade",
            remediation="Before upgrading to v0.21 or later, move cue insertion in-band: have the encoder send "
                        "SCTE-35 sections in MPEG-TS over SRT (or UDP), or keep OME pinned to v0.20.x.")
    if caps.scte35_inband:
        return CheckResult(
            id=CHECK_ID, title=TITLE, status=Status.WARN, evidence=evidence, facts=facts,
            summary=f"{v} takes SCTE-35 only in-band (MPEG-TS over SRT/UDP); :sendEvent answers 400 "
                    "'eventFormat is not supported: [scte35]' — a backend still calling it is broken",
            remediation="A backend that inserts cues with :sendEvent must switch to in-band SCTE-35 from the encoder.")
    return CheckResult(
        id=CHECK_ID, title=TITLE, status=Status.WARN, evidence=evidence, facts=facts,
        summary=f"{v} offers no SCTE-35 insertion path (the API path arrived in v0.19.0)",
        remediation="Upgrade OME: v0.20.x takes cues through the API, v0.21+ in-band from MPEG-TS sources.")
