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


def test_run_from_an_installed_wheel_in_an_empty_folder_passes_and_writes_every_report(
    tmp_path: Path,
) -> None:
    import json
    import sysconfig

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("ome_harness-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from this interpreter's site-packages as a plain path entry: its .pth files
    # (the editable install of the source tree) are not processed, so only the wheel provides ome_harness.
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OMH_")}
    # The browser scenarios' players, installed with npm where the wheel's user chose (here: this checkout).
    env["OMH_PLAYERS_DIR"] = str(Path(__file__).resolve().parents[1] / "node_modules")
    run = subprocess.run([str(venv / "bin" / "ome-harness"), "run", "--target", "emulator", "-m",
                          "not docker and not container"], cwd=empty, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    out = empty / "reports" / "out"
    written = {p.name for p in out.iterdir()}
    expected = {"test-report.md", "test-report.html", "results.json", "junit.xml", "cucumber.json"}
    assert expected <= written, written
    data = json.loads((out / "results.json").read_text())
    located = subprocess.run([str(python), "-c", "import ome_harness; print(ome_harness.__file__)"],
                             capture_output=True, text=True, cwd=empty).stdout
    assert str(venv) in located  # the wheel's copy ran, not the source tree
    assert data["counts"]["ERROR"] == 0 and data["counts"]["OK"] >= 40
    skipped = [r["summary"] for r in data["results"] if r["status"] == "SKIP"]
    # At most SRT, which the emulator takes only with libsrt present, and the browser's WebRTC (the
    # emulator has none).
    assert len([s for s in skipped if "has no WebRTC" not in s]) <= 1, skipped
