"""`ome-harness run`: the bundled features and steps through pytest-bdd, from any folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ome_harness.resources import resource_dir

# pytest's exit codes folded into ours: 0 passed, 1 a scenario failed, 2 could not run.
EXIT_CODES = {pytest.ExitCode.OK: 0, pytest.ExitCode.TESTS_FAILED: 1}


def pytest_args(out: Path, *, config: Path | None, target: str | None, api_url: str | None, token: str | None,
                image: str | None, allow_mutating: bool, select: str | None, tags: str | None,
                verbose: bool, media: dict[str, str | None] | None = None) -> list[str]:
    """`media`: --omh-* options for where media goes (rtmp-url, srt-url, llhls-url, webrtc-url, server-xml,
    stream-prefix)."""
    steps, features = resource_dir("steps"), resource_dir("features")
    args = [str(steps), "-p", "ome_harness.scenarios.plugin", "-p", "no:cacheprovider",
            # An empty ini keeps a user's own pytest configuration (in the folder they run from) out of it.
            "-c", os.devnull, "--rootdir", str(steps.parent), "-o", f"bdd_features_base_dir={features}",
            f"--junitxml={out / 'junit.xml'}", "--omh-report", str(out), "-rs",
            "-v" if verbose else "-q"]
    options = {"--omh-config": config, "--omh-target": target, "--omh-api-url": api_url, "--omh-token": token,
               "--omh-image": image, "-k": select, "-m": tags,
               **{f"--omh-{name}": value for name, value in (media or {}).items()}}
    for flag, value in options.items():
        if value is not None:
            args += [flag, str(value)]
    if allow_mutating:
        args.append("--omh-allow-mutating")
    return args


def run_scenarios(out: Path, **options: object) -> int:
    out.mkdir(parents=True, exist_ok=True)
    code = pytest.main(pytest_args(out, **options))  # type: ignore[arg-type]
    return EXIT_CODES.get(code, 2)
