"""The backend features and the fuzzing as a user runs them: pass on the reference backend, catch injected faults."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from ome_harness.backend.client import BackendClient
from ome_harness.backend.server import BackendServer
from ome_harness.backend.settings import FORGET_DB_WRITE, SKIP_AUDIT, BackendSettings
from ome_harness.backend.throwaway_postgres import PostgresCluster, free_port
from ome_harness.backend.under_test import FAULTS_ENV, REFERENCE_DB_ENV
from ome_harness.testing import require

pytest_plugins = ["backend_fixtures"]

REPO = Path(__file__).resolve().parent.parent
FEATURES = ["steps/test_backend_lifecycle.py", "steps/test_backend_scte35.py", "steps/test_backend_degraded.py"]


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("OMH_") and k not in (FAULTS_ENV, REFERENCE_DB_ENV)}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=REPO,
                          env=clean, capture_output=True, text=True, timeout=300)


def _rows(db_url: str, query: str) -> list[tuple]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_the_backend_features_pass_on_the_reference_backend(db_url: str) -> None:
    # SQLite: the reference backend's default temporary database; PostgreSQL: one given to it explicitly.
    env = {REFERENCE_DB_ENV: db_url} if db_url.startswith("postgresql") else {}
    run = _pytest(*FEATURES, env=env)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " failed" not in run.stdout
    if env:
        assert _rows(db_url, "SELECT count(*) FROM channels")[0][0] >= 4  # it really worked on that database


def test_a_users_database_is_never_written_when_no_backend_url_is_given(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE their_channels (id VARCHAR(20) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO their_channels VALUES ('theirs')"))
    engine.dispose()
    run = _pytest("steps/test_backend_lifecycle.py", env={"OMH_BACKEND__DB_URL": db_url})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "backend.db_url is set but backend.url is not" in run.stdout, run.stdout[-3000:]
    engine = create_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == ["their_channels"]
    finally:
        engine.dispose()
    assert _rows(db_url, "SELECT id FROM their_channels") == [("theirs",)]
    password = db_url.partition("://")[2].partition("@")[0].partition(":")[2]
    assert not password or password not in run.stdout + run.stderr


def test_a_backend_that_forgets_the_db_write_fails_the_lifecycle_feature_at_the_database_check() -> None:
    run = _pytest("steps/test_backend_lifecycle.py", "-k", "hands_out", env={FAULTS_ENV: "forget-db-write"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 failed" in run.stdout
    assert "with status='active'; found status='inactive'" in run.stdout


def test_a_backend_that_reports_success_after_omes_refusal_fails_the_scte35_feature_at_the_answer() -> None:
    run = _pytest("steps/test_backend_scte35.py", "-k", "without", env={FAULTS_ENV: "swallow-ome-refusal"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 failed" in run.stdout
    assert "in the_backend_names_the_refusal" in run.stdout, run.stdout[-3000:]
    assert "expected the backend to answer 502, got 200" in run.stdout, run.stdout[-3000:]


def test_a_backend_that_skips_the_audit_fails_at_the_audit_step() -> None:
    run = _pytest("steps/test_backend_lifecycle.py", "-k", "hands_out", env={FAULTS_ENV: "skip-audit"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 failed" in run.stdout
    assert "in the_audit_log_records" in run.stdout, run.stdout[-3000:]
    assert "expected an audit_log row with action='stream.start', channel_id=" in run.stdout
    assert "found none (0 recent entries for" in run.stdout, run.stdout[-3000:]


def _their_backend(db_url: str, ome_port: int, faults: frozenset[str] = frozenset()) -> BackendServer:
    return BackendServer(BackendSettings(token="their-backend-token", db_url=db_url,
                                         ome_url=f"http://127.0.0.1:{ome_port}", ome_token="their-ome-token",
                                         faults=faults))


def _user_env(backend_url: str, db_url: str, ome_port: int) -> dict[str, str]:
    return {"OMH_EMULATOR__PORT": str(ome_port), "OMH_EMULATOR__HOSTS": '["127.0.0.1"]',
            "OMH_EMULATOR__TOKEN": "their-ome-token", "OMH_BACKEND__URL": backend_url,
            "OMH_BACKEND__TOKEN": "their-backend-token", "OMH_BACKEND__DB_URL": db_url}


def test_the_features_verify_a_backend_given_by_url_and_its_database(tmp_path: Path) -> None:
    """The user's path: backend.url/token/db_url/channel point at a running backend (here a reference one we start)."""
    ome_port, db_url = free_port(), f"sqlite:///{tmp_path / 'theirs.db'}"
    with _their_backend(db_url, ome_port) as theirs:
        with BackendClient(theirs.url, "their-backend-token") as api:
            assert api.create_channel("their-channel").status == 201
            assert api.start("their-channel").status == 200  # each scenario must find it stopped again
        run = _pytest(*FEATURES, "-rs", env={**_user_env(theirs.url, db_url, ome_port),
                                             "OMH_BACKEND__CHANNEL": "their-channel"})
    assert run.returncode == 0, run.stdout[-3000:]
    # 10: lifecycle (5, with details and listing) and SCTE-35 (5, with break_too_short); degraded mode
    # skips on a backend by URL.
    assert " failed" not in run.stdout and "10 passed" in run.stdout, run.stdout[-1500:]
    assert "degraded mode is verified on the reference backend" in run.stdout
    assert "their-backend-token" not in run.stdout + run.stderr
    # Every scenario worked on the configured channel: no channel was created.
    assert _rows(db_url, "SELECT id FROM channels") == [("their-channel",)]
    stops = _rows(db_url, "SELECT count(*) FROM audit_log WHERE action = 'stream.stop' AND channel_id = 'their-channel'")
    assert stops[0][0] >= 7


def test_failing_steps_print_no_token_password_or_stream_key(postgres_cluster: PostgresCluster | str) -> None:
    require(not isinstance(postgres_cluster, str), str(postgres_cluster))
    db_url = postgres_cluster.create_database("omh_leaks")
    ome_port = free_port()
    with _their_backend(db_url, ome_port, frozenset({FORGET_DB_WRITE, SKIP_AUDIT})) as theirs:
        run = _pytest(*FEATURES, "-vv", "-rA", env=_user_env(theirs.url, db_url, ome_port))
    output = run.stdout + run.stderr
    assert run.returncode == 1 and " failed" in run.stdout, run.stdout[-3000:]
    assert "found status='inactive'" in output and "found none" in output, run.stdout[-3000:]
    keys = [key for (key,) in _rows(db_url, "SELECT stream_key FROM channels")]
    assert keys
    secrets = {"backend token": "their-backend-token", "OME token": "their-ome-token",
               "database password": postgres_cluster.password, **{f"stream key {n}": k for n, k in enumerate(keys)}}
    leaked = [name for name, secret in secrets.items() if secret in output]
    assert not leaked, f"in the output: {leaked}"


def test_the_openapi_fuzzing_reports_a_backend_that_answers_500() -> None:
    run = _pytest("tests/test_backend_fuzz.py", "-k", "sqlite", env={FAULTS_ENV: "server-error"})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "GET /api/channels" in run.stdout and "Server error" in run.stdout, run.stdout[-3000:]


def test_scenarios_sharing_a_configured_channel_judge_only_the_rows_they_caused(tmp_path: Path) -> None:
    """The cue scenario's insert, a moment before the inactive-channel scenario, is not that one's row."""
    ome_port, db_url = free_port(), f"sqlite:///{tmp_path / 'theirs.db'}"
    with _their_backend(db_url, ome_port) as theirs:
        with BackendClient(theirs.url, "their-backend-token") as api:
            assert api.create_channel("their-channel").status == 201
            assert api.create_marker("their-break", duration_ms=30_000).status == 201
        run = _pytest("steps/test_backend_scte35.py", "-rs",
                      env={**_user_env(theirs.url, db_url, ome_port), "OMH_BACKEND__CHANNEL": "their-channel",
                           "OMH_BACKEND__MARKER": "their-break"})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "3 passed" in run.stdout, run.stdout[-1500:]
    inserts = _rows(db_url, "SELECT count(*) FROM audit_log WHERE action='scte35.insert' AND outcome='ok'")
    assert inserts[0][0] == 1  # the live-channel scenario's, which the inactive-channel scenario set aside


def test_a_channel_with_its_own_ome_stream_is_published_under_that_name(tmp_path: Path) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish (apt-get install -y ffmpeg)")
    ome_port, db_url = free_port(), f"sqlite:///{tmp_path / 'theirs.db'}"
    with _their_backend(db_url, ome_port) as theirs:
        with BackendClient(theirs.url, "their-backend-token") as api:
            assert api.create_channel("their-channel", ome_stream="their-stream").status == 201
        run = _pytest("steps/test_backend_lifecycle.py", "-k", "handedout", "-rs",
                      env={**_user_env(theirs.url, db_url, ome_port),
                           "OMH_BACKEND__CHANNEL": "their-channel"})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout, run.stdout[-1500:]
