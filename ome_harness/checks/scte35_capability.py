"""Diagnose's `scte35` check: the version read by the API check, the application's LL-HLS segment
duration (one read-only GET of its config) and the backend's .env, judged by ome_harness.scte35.capability."""

from __future__ import annotations

from ome_harness.checks.context import CheckContext
from ome_harness.checks.registry import check
from ome_harness.ome.errors import OmeError
from ome_harness.results import CheckResult, Status
from ome_harness.scte35.backend_env import read_backend_scte35
from ome_harness.scte35.break_rule import read_segment_duration
from ome_harness.scte35.capability import TITLE, diagnose_scte35_capability


@check("scte35", TITLE, needs=("api",), order=65)
def diagnose_scte35(ctx: CheckContext) -> CheckResult:
    api = ctx.done.get("api")
    version = api.facts.get("version") if api else None
    segment_s = None
    auth = ctx.done.get("auth")
    if version and (auth is None or auth.status is not Status.ERROR):
        try:
            with ctx.client() as client:
                segment_s = read_segment_duration(client, ctx.target.vhost, ctx.target.app)
        except OmeError:
            segment_s = None  # the vhosts/auth checks say why the app cannot be read
    return diagnose_scte35_capability(str(version) if version else None, segment_s=segment_s,
                                      backend=read_backend_scte35(ctx.env_file))
