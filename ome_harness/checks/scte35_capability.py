"""Diagnose's `scte35` check: the version read by the API check, judged by ome_harness.scte35.capability."""

from __future__ import annotations

from ome_harness.checks.context import CheckContext
from ome_harness.checks.registry import check
from ome_harness.results import CheckResult
from ome_harness.scte35.capability import TITLE, diagnose_scte35_capability


@check("scte35", TITLE, needs=("api",), order=65)
def diagnose_scte35(ctx: CheckContext) -> CheckResult:
    api = ctx.done.get("api")
    version = api.facts.get("version") if api else None
    return diagnose_scte35_capability(str(version) if version else None)
