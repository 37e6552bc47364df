"""The backend features and the fuzzing as a user runs them: pass on the reference backend, catch injected faults."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ome_harness.backend.under_test import FAULTS_ENV

REPO = Path(__file__).resolve().parent.parent
FEATURES = ["steps/test_backend_lifecycle.py", "steps/test_backend_scte35.py", "steps/test_backend_degraded.py"]


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OMH_") and k != FAULTS_ENV}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=REPO,
                          env=clean, capture_output=True, text=True, timeout=300)


def test_the_backend_features_pass_on_the_reference_backend() -> None:
    run = _pytest(*FEATURES)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " failed" not in run.stdout


def test_a_backend_that_forgets_the_db_write_fails_the_lifecycle_feature_at_the_database_check() -> None:
    run = _pytest("steps/test_backend_lifecycle.py", "-k", "hands_out", env={FAULTS_ENV: "forget-db-write"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 failed" in run.stdout
    assert "with status='active'; found status='inactive'" in run.stdout


def test_the_features_verify_a_backend_given_by_url_and_its_database(tmp_path: Path) -> None:
    """The user's path: backend.url/token/db_url point at a running backend (here a reference one we start)."""
    from ome_harness.backend.server import BackendServer
    from ome_harness.backend.settings import BackendSettings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        ome_port = sock.getsockname()[1]
    db_url = f"sqlite:///{tmp_path / 'theirs.db'}"
    settings = BackendSettings(token="their-backend-token", db_url=db_url, ome_url=f"http://127.0.0.1:{ome_port}",
                               ome_token="their-ome-token")
    with BackendServer(settings) as theirs:
        run = _pytest(*FEATURES, "-rs", env={
            "OMH_EMULATOR__PORT": str(ome_port), "OMH_EMULATOR__HOSTS": '["127.0.0.1"]',
            "OMH_EMULATOR__TOKEN": "their-ome-token", "OMH_BACKEND__URL": theirs.url,
            "OMH_BACKEND__TOKEN": "their-backend-token", "OMH_BACKEND__DB_URL": db_url})
    assert run.returncode == 0, run.stdout[-3000:]
    assert " failed" not in run.stdout and "7 passed" in run.stdout, run.stdout[-1500:]
    assert "degraded mode is verified on the reference backend" in run.stdout
    assert "their-backend-token" not in run.stdout + run.stderr


def test_the_openapi_fuzzing_reports_a_backend_that_answers_500() -> None:
    run = _pytest("tests/test_backend_fuzz.py", "-k", "sqlite", env={FAULTS_ENV: "server-error"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "GET /api/channels" in run.stdout and "Server error" in run.stdout, run.stdout[-3000:]
