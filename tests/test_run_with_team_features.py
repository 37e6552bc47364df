"""`ome-harness run --features DIR`: a team's own Gherkin runs with the harness's shared steps, in the same
report."""

from __future__ import annotations

import json
from pathlib import Path

FEATURE = """\
Feature: Our OME is ready for the morning show
  Scenario: The API answers with our token
    Given an OME target
    When the connection is diagnosed
    Then the "api" check passes

  Scenario: Our channel can be started
    Given the stream backend
    And a new channel
    When the channel is started
    Then the backend answers 200

  Scenario: A step nobody wrote
    Given an OME target
    When the moon is full
"""


def test_a_teams_own_features_run_with_the_shared_steps(run_cli, tmp_path: Path) -> None:
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "morning.feature").write_text(FEATURE)
    run = run_cli(
        "run",
        "--target",
        "emulator",
        "--features",
        str(tmp_path / "ours"),
        "-k",
        "test_team_features",
        "--out",
        str(tmp_path / "out"),
    )
    assert run.code == 1, run.output
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    status = {r["scenario"]["scenario"]: r["status"] for r in data["results"] if r["kind"] == "scenario"}
    assert status == {"The API answers with our token": "OK", "Our channel can be started": "OK",
                      "A step nobody wrote": "ERROR"}
    text = (tmp_path / "out" / "test-report.md").read_text()
    assert "#### Our OME is ready for the morning show" in text
    assert "Step definition is not found" in text
    cucumber = json.loads((tmp_path / "out" / "cucumber.json").read_text())
    statuses = [s["result"]["status"] for f in cucumber for e in f["elements"] for s in e["steps"]]
    assert "undefined" in statuses


def test_features_must_be_a_folder_of_feature_files(run_cli, tmp_path: Path) -> None:
    run = run_cli("run", "--features", str(tmp_path))
    assert run.code == 2 and "not a folder with .feature files" in run.stderr
