"""`ome-harness run`: the bundled scenarios pass on a healthy target and fail, named, on a broken one."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from ome_samples import TOKEN

from ome_harness.emulator import EmulatorServer

READ_ONLY = "not media and not backend and not docker and not container and not mutating"


def test_run_against_the_emulator_passes_every_scenario(run_cli, tmp_path: Path) -> None:
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-m", READ_ONLY)
    assert run.code == 0, run.output
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["counts"]["OK"] >= 16 and data["counts"]["ERROR"] == 0
    assert (
        "OME API emulator — not a real OvenMediaEngine" in (tmp_path / "out" / "test-report.md").read_text()
    )
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"


def test_run_against_a_target_with_a_wrong_token_fails_the_right_scenarios(
        run_cli, tmp_path: Path, emulator: EmulatorServer) -> None:
    run = run_cli("run", "--target", "url", "--api-url", emulator.url, "--token", "wrong-token",
                  "--out", str(tmp_path / "out"), "-m", READ_ONLY)
    assert run.code == 1
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    failed = {r["title"] for r in data["results"] if r["status"] == "ERROR"}
    assert "Authentication with the API access token: The configured token is accepted" in failed
    assert "Authentication with the API access token: A wrong token is refused" not in failed
    text = (tmp_path / "out" / "test-report.md").read_text()
    assert "failed at 'Then the call succeeds'" in text
    assert "wrong-token" not in text


def test_run_never_shows_the_token(run_cli, tmp_path: Path, emulator: EmulatorServer) -> None:
    run = run_cli("run", "--target", "url", "--api-url", emulator.url, "--token", TOKEN,
                  "--out", str(tmp_path / "out"), "-m", READ_ONLY)
    assert run.code == 0, run.output
    files = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    assert TOKEN not in run.output + files


def test_run_with_a_bad_target_is_exit_2(run_cli) -> None:
    run = run_cli("run", "--target", "moon")
    assert run.code == 2 and "choose emulator, url or container" in run.stderr


def test_a_selection_that_matches_nothing_names_no_report(run_cli, tmp_path: Path) -> None:
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-k", "no_such_scenario_xyz")
    assert run.code == 2
    assert "test-report.md" not in run.stdout and not (tmp_path / "out" / "test-report.md").exists()
    assert "ome-harness: error: no scenario matches the -k/-m selection; no report was written" in run.stderr


def test_a_selection_that_does_not_parse_names_no_report(run_cli, tmp_path: Path) -> None:
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-m", "media and (")
    assert run.code == 2
    assert "test-report.md" not in run.stdout and not (tmp_path / "out" / "test-report.md").exists()
    assert "ERROR: Wrong expression passed to '-m'" in run.stderr and "Traceback" not in run.output


def test_the_container_feature_is_skipped_with_its_reason_when_the_target_is_not_a_container(
        run_cli, tmp_path: Path) -> None:
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-k", "container")
    assert run.code == 0, run.output
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    scenarios = [r for r in data["results"] if r["kind"] == "scenario"]  # the diagnosis's checks come first
    assert [r["status"] for r in scenarios] == ["SKIP", "SKIP"], data["counts"]
    assert all("--target emulator names none (run it with --target container" in r["summary"]
               for r in scenarios)


def test_a_run_loads_no_pytest_plugin_installed_beside_the_harness(run_cli, tmp_path: Path) -> None:
    # hypothesis, schemathesis and Locust install pytest plugins in this environment (~2 s of imports
    # per process); pytest's header lists every plugin it loaded from the environment.
    run = run_cli("run", "--target", "emulator", "--out", str(tmp_path / "out"), "-k", "names_its_version",
                  "--workers", "1", "--verbose")
    assert run.code == 0, run.output
    assert "test session starts" in run.stdout
    for plugin in ("hypothesis", "schemathesis", "locust", "anyio"):
        assert plugin not in run.stdout, f"the {plugin} pytest plugin was loaded"
