"""The backend authentication feature passes on the reference backend and fails on one that lets anyone in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ome_harness.backend.settings import ACCEPT_ANY_TOKEN
from ome_harness.backend.under_test import FAULTS_ENV, REFERENCE_DB_ENV

REPO = Path(__file__).resolve().parent.parent
FEATURE = "steps/test_backend_auth.py"


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("OMH_") and k not in (FAULTS_ENV, REFERENCE_DB_ENV)}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=REPO,
                          env=clean, capture_output=True, text=True, timeout=300)


def test_missing_and_wrong_bearer_tokens_are_refused_by_the_reference_backend() -> None:
    run = _pytest(FEATURE)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "3 passed" in run.stdout, run.stdout[-1500:]


def test_a_backend_that_lets_anyone_in_fails_every_authentication_scenario() -> None:
    run = _pytest(FEATURE, env={FAULTS_ENV: ACCEPT_ANY_TOKEN})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "3 failed" in run.stdout, run.stdout[-1500:]
    assert run.stdout.count("expected the backend to answer 401, got 200") >= 3, run.stdout[-3000:]
