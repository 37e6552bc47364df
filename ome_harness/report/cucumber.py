"""Cucumber JSON, built from the collected scenario results (so it is complete under pytest-xdist too).

pytest-bdd 9.0.1's own `--cucumberjson` writes an empty list when xdist runs the scenarios
(../shared/ecosystem-notes.md); this one comes from the results the controller gathered.
Format: cucumber/cucumber-json-schema (features → elements → steps, durations in nanoseconds).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ome_harness.report.render import renderer
from ome_harness.results import CheckResult, Report, Status


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _step(step: Any, skipped_reason: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": step.status, "duration": int(step.duration_ms * 1_000_000)}
    if step.error:
        result["error_message"] = step.error
    elif skipped_reason and step.status == "skipped":
        result["error_message"] = skipped_reason
    return {"keyword": f"{step.keyword} ", "name": step.name, "line": step.line, "result": result,
            "match": {"location": ""}}


def _element(result: CheckResult) -> dict[str, Any]:
    run = result.scenario
    assert run is not None
    reason = result.summary if result.status is Status.SKIP else None
    steps = [_step(s, reason) for s in run.steps]
    if result.status is Status.ERROR and not any(s["result"]["status"] in ("failed", "undefined") for s in steps):
        # Failed outside a step (a fixture in setup or teardown): say so on the first step that did not pass.
        target = next((s for s in steps if s["result"]["status"] != "passed"), steps[-1] if steps else None)
        if target is not None:
            target["result"].update(status="failed", error_message=result.summary)
    return {"id": f"{_id(run.feature)};{_id(run.scenario)}", "keyword": "Scenario", "type": "scenario",
            "name": run.scenario, "line": run.line, "description": "",
            "tags": [{"name": f"@{t}", "line": run.line - 1} for t in run.tags if t not in run.feature_tags],
            "steps": steps}


@renderer("cucumber", kinds=("run",), filename="cucumber.json")
def render_cucumber(report: Report, template_dir: Path | None = None) -> str:
    features: dict[str, dict[str, Any]] = {}
    for result in report.scenarios:
        run = result.scenario
        if run is None:
            continue
        feature = features.setdefault(run.feature_file or run.feature, {
            "uri": run.feature_file, "id": _id(run.feature), "keyword": "Feature", "name": run.feature,
            "description": "", "line": run.feature_line,
            "tags": [{"name": f"@{t}", "line": 1} for t in run.feature_tags], "elements": []})
        feature["elements"].append(_element(result))
    return json.dumps(list(features.values()), indent=2, ensure_ascii=False) + "\n"
