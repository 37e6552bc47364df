"""`ome-harness run` writes one report in every format, each read back by a real consumer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from ome_harness.report.schema import SCHEMA_PATH, schema_text

REPO = Path(__file__).resolve().parent.parent
NO_TOOLS = "not media and not docker and not container"
READ_ONLY = f"{NO_TOOLS} and not backend and not mutating"
SECTIONS = [
    "# OvenMediaEngine Test Report",
    "## Test Results Summary",
    "### OME API Connection Status",
    "### Test Results",
    "### Scenarios",
    "## Issues Found",
    "## Backend Endpoints",
    "## Implementation Status",
    "### Completed Features",
    "### Pending Items",
    "## Next Steps",
    "## Notes",
]


def _validate(data: dict) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run against the emulator and the reference backend, shared by the format checks below."""
    out = tmp_path_factory.mktemp("run") / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_") and k != "GITHUB_STEP_SUMMARY"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ome_harness",
            "run",
            "--target",
            "emulator",
            "--out",
            str(out),
            "-m",
            NO_TOOLS,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=out.parent,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return out


def test_the_markdown_report_has_the_example_reports_sections_in_order(healthy_run: Path) -> None:
    text = (healthy_run / "test-report.md").read_text()
    positions = [text.find(s) for s in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), list(zip(SECTIONS, positions, strict=True))
    assert "OME API emulator — not a real OvenMediaEngine" in text and "**Harness version:** " in text
    assert "**Mode:** mutating" in text
    for endpoint in ("Stream Start", "Stream Stop", "SCTE-35 Insertion", "Stream Listing", "Stream Details",
                     "Channel Listing"):
        assert f"#### {endpoint} Endpoint" in text
    assert text.count("- **Status:** VERIFIED") == 6
    assert "- [x] Stream stop (channel deactivation + OME stream deletion)" in text
    assert "#### Stream lifecycle through the backend" in text  # scenarios grouped by feature


def test_results_json_follows_the_shipped_schema(healthy_run: Path) -> None:
    data = json.loads((healthy_run / "results.json").read_text())
    _validate(data)
    kinds = {r["kind"] for r in data["results"]}
    assert kinds == {"check", "scenario"} and data["exit_code"] == 0
    assert {e["key"]: e["status"] for e in data["endpoints"]} == dict.fromkeys(
        ["start", "stop", "scte35", "listing", "details", "channels"], "VERIFIED")


def test_the_scenarios_verdict_counts_scenarios_and_shows_the_checks_beside(healthy_run: Path) -> None:
    # Issue 20: the verdict under "Scenarios" once counted the diagnosis's checks as scenarios
    # ("57 passed" where pytest said 50).
    data = json.loads((healthy_run / "results.json").read_text())
    scenarios = [r for r in data["results"] if r["kind"] == "scenario"]
    checks = [r for r in data["results"] if r["kind"] == "check"]
    ok = sum(r["status"] == "OK" for r in scenarios)
    assert data["scenario_counts"]["OK"] == ok and sum(data["scenario_counts"].values()) == len(scenarios)
    assert sum(data["check_counts"].values()) == len(checks) > 0
    said = f"{len(scenarios)} scenario(s): {ok} passed, 0 failed"
    beside = f"diagnosis beside them: {len(checks)} check(s)"
    for name in ("test-report.md", "test-report.html"):
        text = (healthy_run / name).read_text()
        assert said in text and beside in text, (name, text[text.find("Verdict"):][:300])


def test_a_results_file_with_a_misspelled_or_wrong_field_fails_the_schema(healthy_run: Path) -> None:
    data = json.loads((healthy_run / "results.json").read_text())
    data["results"][0]["statuss"] = "OK"
    with pytest.raises(jsonschema.ValidationError):
        _validate(data)
    data = json.loads((healthy_run / "results.json").read_text())
    data["endpoints"][0]["status"] = "PROBABLY FINE"
    with pytest.raises(jsonschema.ValidationError):
        _validate(data)


def test_the_shipped_schema_matches_the_result_model() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "run: python -m ome_harness.report.schema"


def test_junit_has_one_testcase_per_check_and_scenario_with_target_properties(healthy_run: Path) -> None:
    data = json.loads((healthy_run / "results.json").read_text())
    xml = JUnitXml.fromfile(str(healthy_run / "junit.xml"))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == len(data["results"])
    suites = list(xml)
    assert suites[0].name == "diagnosis"
    props = {p.name: p.value for p in suites[0].properties()}
    assert props["ome_version"] == "0.20.0" and props["target"].startswith("emulator: http://")
    assert not any(isinstance(r, Failure) for case in cases for r in case.result)


def test_cucumber_json_lists_every_scenario_with_its_steps(healthy_run: Path) -> None:
    data = json.loads((healthy_run / "results.json").read_text())
    features = json.loads((healthy_run / "cucumber.json").read_text())
    elements = [e for f in features for e in f["elements"]]
    assert len(elements) == sum(r["kind"] == "scenario" for r in data["results"])
    assert all(f["uri"].endswith(".feature") and f["keyword"] == "Feature" for f in features)
    steps = [s for e in elements for s in e["steps"]]
    assert steps and all(s["result"]["status"] == "passed" for s in steps)
    assert all(isinstance(s["result"]["duration"], int) and s["line"] > 0 for s in steps)


def test_cucumber_json_is_complete_when_xdist_runs_the_scenarios(tmp_path: Path) -> None:
    # pytest-bdd 9.0.1's own --cucumberjson writes [] under xdist (../shared/ecosystem-notes.md).
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    runs = {}
    for name, extra in (("serial", []), ("xdist", ["-n", "2"])):
        out = tmp_path / name
        proc = subprocess.run([sys.executable, "-m", "pytest", "steps", "-q", "-p", "no:cacheprovider",
                               "--omh-report", str(out), "-m", READ_ONLY, *extra], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:]
        features = json.loads((out / "cucumber.json").read_text())
        runs[name] = sorted((f["name"], e["name"], tuple(s["result"]["status"] for s in e["steps"]))
                            for f in features for e in f["elements"])
        assert json.loads((out / "results.json").read_text())["target"]["version"] == "0.20.0"
    assert len(runs["serial"]) >= 16
    assert runs["xdist"] == runs["serial"]


def test_the_markdown_report_is_appended_to_the_github_step_summary(run_cli, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("## Earlier step\n")
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-m", "connectivity",
                  env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert run.code == 0, run.output
    text = summary.read_text()
    assert text.startswith("## Earlier step\n") and "# OvenMediaEngine Test Report" in text


def test_fail_on_warn_fails_a_run_whose_diagnosis_only_warns(run_cli, tmp_path: Path) -> None:
    # v0.21.0 removed SCTE-35 from the API: the diagnosis's scte35 check warns (scte35/capability.py).
    env = {"OMH_EMULATOR__VERSION": "0.21.0"}
    lenient = run_cli(
        "run", "--target", "emulator", "--out", str(tmp_path / "a"), "-m", "connectivity", env=env
    )
    strict = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "b"), "-m", "connectivity",
                     "--fail-on", "warn", env=env)
    assert lenient.code == 0, lenient.output
    assert strict.code == 1, strict.output
    assert json.loads((tmp_path / "b" / "results.json").read_text())["fail_on"] == "warn"
    assert "Version caveat:" in (tmp_path / "a" / "test-report.md").read_text()


def test_fail_on_rejects_other_words(run_cli) -> None:
    run = run_cli("run", "--fail-on", "sometimes")
    assert run.code == 2 and "choose warn or error" in run.stderr
