"""A plain `pip install` gets the features, steps and report templates inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_bundles_features_steps_and_templates(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("ome_harness-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, repo_folder in (
        ("features", "features"),
        ("steps", "steps"),
        ("templates", "reports/templates"),
    ):
        expected = {f"ome_harness/_bundled/{folder}/{p.relative_to(REPO / repo_folder)}"
                    for p in (REPO / repo_folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert expected <= names, expected - names
