"""Whether this OME can take a SCTE-35 cue on demand at all, and whether it keeps the breaks (diagnose's `scte35`).

Facts (../shared/ome-api.md, samples/v0.20.0-media, samples/v0.21.0-media):
- v0.19.0–v0.20.5 take cues through `:sendEvent`, but the LL-HLS publisher drops a break that is
  not longer than 1.5 × the application's segment duration, in its log only (200 all the same);
- v0.21.0 removed `scte35` from `:sendEvent` (400), and no version reads SCTE-35 sections from an
  MPEG-TS input: there is no on-demand insertion from v0.21.0 on (v0.20.5 is the last with it).

The diagnosis is read-only: what it says about the API path is *by version*, not tried, and its
evidence says so. Whether the deployment's backend offers SCTE-35 comes from the backend's `.env`
(`--env-file`): any `SCTE35_*` setting that is not false/0/off says it does, and `SCTE35_BREAK_MS`
is the break length it uses (ome_harness/scte35/backend_env.py).
"""

from __future__ import annotations

from ome_harness.ome.versions import LAST_SCTE35_API_RELEASE, OmeVersion, capabilities
from ome_harness.results import BY_VERSION, CheckResult, Evidence, Status
from ome_harness.scte35.backend_env import BackendScte35
from ome_harness.scte35.break_rule import honoured, min_break_ms
from ome_harness.scte35.insertion import available_paths, no_insertion_words

CHECK_ID = "scte35"
TITLE = "SCTE-35 insertion"
INBAND_IGNORED = ("ignored in every version: OME logs 'Ignored unsupported or unknown section (table id: 252)' "
                  "and no marker follows")


def diagnose_scte35_capability(version: str | OmeVersion | None, *, segment_s: float | None = None,
                               backend: BackendScte35 | None = None) -> CheckResult:
    """SKIP without a version; ERROR when the backend offers SCTE-35 and OME cannot insert it (or drops its
    breaks); WARN when OME has no on-demand insertion; OK when the API path exists and the breaks fit."""
    if version is None:
        return CheckResult(id=CHECK_ID, title=TITLE, status=Status.SKIP,
                           summary="OME's version is unknown (GET /v1/version did not answer): "
                                   "cannot tell whether it takes SCTE-35 cues")
    try:
        caps = capabilities(version)
    except ValueError:
        return CheckResult(id=CHECK_ID, title=TITLE, status=Status.SKIP,
                           summary=f"OME reported a version the harness cannot read: {version!r}")
    v = f"v{caps.version}"
    evidence = [
        Evidence(what="API path (:sendEvent eventFormat scte35)", obtained=BY_VERSION,
                 outcome="accepted with 200 (v0.19.0–v0.20.5)" if caps.scte35_api
                 else "refused with 400 'eventFormat is not supported: [scte35]'"
                 if caps.version >= OmeVersion(0, 21, 0) else "not available before v0.19.0"),
        Evidence(what="in-band SCTE-35 (sections in an MPEG-TS input over SRT/UDP)", obtained=BY_VERSION,
                 outcome=INBAND_IGNORED),
    ]
    if segment_s is not None:
        evidence.append(Evidence(what="LL-HLS segment duration (GET .../apps/APP publishers.llhls)",
                                 outcome=f"{segment_s:g} s: a break must exceed {min_break_ms(segment_s):.0f} ms"))
    if backend is not None:
        evidence.append(Evidence(what=f"backend SCTE-35 ({backend.source})", outcome=backend.describe()))
    facts: dict[str, object] = {"version": str(caps.version), "paths": available_paths(caps.version),
                                "event_formats": list(caps.event_formats), "on_demand_insertion": caps.scte35_api}
    if segment_s is not None:
        facts.update(llhls_segment_s=segment_s, min_break_ms=min_break_ms(segment_s))
    offers = backend is not None and backend.offers
    if not caps.scte35_api:
        summary = no_insertion_words(caps.version)
        if caps.version < OmeVersion(0, 19, 0):
            summary = f"{v} has no on-demand SCTE-35 insertion (the API path arrived in v0.19.0)"
        if offers:
            return CheckResult(
                id=CHECK_ID, title=TITLE, status=Status.ERROR, evidence=evidence, facts=facts,
                summary=f"the backend offers SCTE-35 insertion, but {summary}",
                remediation=f"Run OME v{LAST_SCTE35_API_RELEASE} (the last release whose :sendEvent takes scte35) "
                            "for this backend, or stop offering on-demand SCTE-35: no setting of this version "
                            "and no in-band SCTE-35 from the encoder brings it back.")
        return CheckResult(
            id=CHECK_ID, title=TITLE, status=Status.WARN, evidence=evidence, facts=facts,
            summary=summary + " (no backend .env given: pass --env-file to judge the backend)",
            remediation=f"A backend that inserts SCTE-35 cues needs OME v{LAST_SCTE35_API_RELEASE} or older.")
    rule = ""
    if segment_s is not None:
        rule = (f"; a 200 is not an insertion: OME's LL-HLS drops (in its log only) a break not longer than "
                f"{min_break_ms(segment_s):.0f} ms (1.5 × this application's {segment_s:g} s segments)")
    upgrade = (f"Stay on v0.20.x (v{LAST_SCTE35_API_RELEASE} at most) while a backend inserts cues: v0.21.0 removed "
               "SCTE-35 from :sendEvent and no version reads SCTE-35 from an MPEG-TS input.")
    if backend is not None and backend.break_ms is not None and segment_s is not None \
            and not honoured(backend.break_ms, segment_s):
        return CheckResult(
            id=CHECK_ID, title=TITLE, status=Status.ERROR if offers else Status.WARN, evidence=evidence,
            facts=facts,
            summary=f"the backend's {backend.break_ms:g} ms breaks are accepted by {v}'s API and dropped by its "
                    f"LL-HLS publisher: a break must exceed {min_break_ms(segment_s):.0f} ms for this "
                    f"application's {segment_s:g} s segments",
            remediation=f"Use breaks longer than {min_break_ms(segment_s):.0f} ms, or shorten the application's "
                        f"<LLHLS><SegmentDuration> so that 1.5 × it is below the break length. {upgrade}")
    return CheckResult(
        id=CHECK_ID, title=TITLE, status=Status.OK, evidence=evidence, facts=facts,
        summary=f"{v} takes SCTE-35 through the API (:sendEvent){rule}; v0.21.0 removed that path",
        remediation=upgrade)
