"""The container feature says which image it launched; against a URL or the emulator it is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["container_fixtures"]
pytestmark = [pytest.mark.docker, pytest.mark.container]


def test_with_target_container_the_report_names_the_image_the_run_targets(run_cli, standin_image: str,
                                                                          tmp_path: Path) -> None:
    run = run_cli("run", "--target", "container", "--image", standin_image, "--out", str(tmp_path / "out"),
                  "-k", "container")
    assert run.code == 0, run.output
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    scenarios = [r for r in data["results"] if r["kind"] == "scenario"]  # the diagnosis's checks come first
    assert [r["status"] for r in scenarios] == ["OK", "OK"], data["results"]
    for result in scenarios:
        assert f"image: {standin_image} (the image the run targets)" in result["summary"], result
    assert f"image: {standin_image}" in (tmp_path / "out" / "test-report.md").read_text()
