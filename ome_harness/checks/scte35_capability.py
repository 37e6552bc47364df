"""What SCTE-35 paths the running OME version offers, before an upgrade breaks a backend."""

from __future__ import annotations

from ome_harness.checks.context import CheckContext
from ome_harness.checks.registry import check
from ome_harness.ome.versions import capabilities
from ome_harness.results import CheckResult, Status


@check("scte35", "SCTE-35 capability", needs=("api",), order=65)
def diagnose_scte35_capability(ctx: CheckContext) -> CheckResult:
    title = "SCTE-35 capability"
    api = ctx.done.get("api")
    version = api.facts.get("version") if api else None
    if not version:
        return CheckResult(id="scte35", title=title, status=Status.SKIP,
                           summary="not run: the OME version could not be read (see API connectivity)")
    caps = capabilities(str(version))
    facts = {"api_path": caps.scte35_api, "inband_path": caps.scte35_inband, "event_formats": list(caps.event_formats)}
    if caps.scte35_api:
        return CheckResult(
            id="scte35", title=title, status=Status.OK, facts=facts,
            summary=f"v{caps.version}: SCTE-35 through the API (:sendEvent scte35 splice insert); "
                    "removed in v0.21.0 — a backend that inserts cues this way breaks on upgrade",
            remediation="Before upgrading to v0.21+, move cue insertion in-band: publish MPEG-TS over SRT with "
                        "SCTE-35 sections.")
    paths = "in-band only (MPEG-TS over SRT/UDP with SCTE-35 sections)" if caps.scte35_inband else "none known"
    return CheckResult(
        id="scte35", title=title, status=Status.WARN, facts=facts,
        summary=f"v{caps.version}: no SCTE-35 through the API (:sendEvent answers 400 'eventFormat is not "
                f"supported: [scte35]'); paths: {paths}",
        remediation="A backend whose SCTE-35 feature calls :sendEvent fails on this version: insert the cues "
                    "in-band in the encoder's MPEG-TS instead.")
