"""`ome-harness backend` as a user runs it: flags or config file, one-line errors, no secrets printed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fleet_peers import peer

from ome_harness.backend.client import BackendClient
from ome_harness.backend.throwaway_postgres import free_port
from ome_harness.dbcheck import DbChecker
from ome_harness.emulator import EmulatorServer, EmulatorSettings

BACKEND_TOKEN = "cli-backend-token-xyz"
OME_TOKEN = "cli-ome-token-abc"


@pytest.fixture
def ome() -> EmulatorServer:
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=OME_TOKEN)) as server:
        yield server


def _serve(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    return subprocess.Popen([sys.executable, "-m", "ome_harness", "backend", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(url: str, proc: subprocess.Popen, deadline_s: float = 20) -> None:
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if proc.poll() is not None:
            raise AssertionError(f"the backend exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the backend did not answer on {url} within {deadline_s}s")


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # uvicorn shuts down gracefully, then re-raises the signal: ended by SIGTERM, as a service should.
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    return stderr


def _exercise(url: str, db_url: str) -> None:
    with BackendClient(url, BACKEND_TOKEN) as api:
        assert api.create_channel("news").status == 201
        answer = api.start("news")
        assert answer.status == 200 and answer.field("ome_status")["version"] == "0.20.0", answer.body
    with DbChecker(db_url) as db:
        db.expect_channel_status("news", "active")
        db.expect_stream_key("news", answer.field("stream_key"))


def test_an_answer_nested_too_deep_for_json_is_an_answer_without_a_body() -> None:
    # The CLI audit found it: the OME client already said "not JSON" for it; this client raised.
    with peer("deep-json") as port, BackendClient(f"http://127.0.0.1:{port}", "t") as api:
        answer = api.streams()
    assert answer.status == 200 and answer.body is None


def test_the_backend_runs_from_flags(ome: EmulatorServer, tmp_path: Path) -> None:
    port, db_url = free_port(), f"sqlite:///{tmp_path / 'flags.db'}"
    proc = _serve(["--port", str(port), "--token", BACKEND_TOKEN, "--ome-url", ome.url,
                      "--ome-token", OME_TOKEN, "--db", db_url], tmp_path)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        _exercise(f"http://127.0.0.1:{port}", db_url)
    finally:
        stderr = _stop(proc)
    assert f"reference backend on http://127.0.0.1:{port}" in stderr
    assert BACKEND_TOKEN not in stderr and OME_TOKEN not in stderr


def test_the_backend_runs_from_the_config_file(ome: EmulatorServer, tmp_path: Path) -> None:
    port, db_url = free_port(), f"sqlite:///{tmp_path / 'file.db'}"
    (tmp_path / "harness.yaml").write_text(
        f"backend:\n  port: {port}\n  token: {BACKEND_TOKEN}\n  ome_url: {ome.url}\n"
        f"  ome_token: {OME_TOKEN}\n  db_url: {db_url}\n")
    proc = _serve([], tmp_path)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        _exercise(f"http://127.0.0.1:{port}", db_url)
    finally:
        _stop(proc)


def test_without_a_token_the_backend_refuses_to_start_in_one_line(run_cli) -> None:
    result = run_cli("backend", "--port", "0")
    assert result.code == 2
    assert result.stderr == ("ome-harness: error: the backend needs a bearer token: pass --token or set "
                             "backend.token (OMH_BACKEND__TOKEN)\n")


def test_an_unreachable_database_is_one_line_without_its_password(run_cli) -> None:
    result = run_cli("backend", "--token", "t", "--db", "postgresql+psycopg://app:s3cretpass@127.0.0.1:1/app")
    assert result.code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot open the database postgresql+psycopg://app:***@127.0.0.1:1/app" in result.stderr
    assert "s3cretpass" not in result.output


def test_a_bad_port_is_one_line(run_cli) -> None:
    result = run_cli("backend", "--token", "t", "--port", "70000")
    assert result.code == 2 and "backend.port" in result.stderr and "Traceback" not in result.output


def test_an_ome_url_that_is_not_http_is_refused_at_start_in_one_line(run_cli, tmp_path: Path) -> None:
    # Started anyway, it answered a text/plain 500 with a traceback: outside its JSON error contract.
    result = run_cli("backend", "--token", "t", "--ome-url", "ftp://ome.example:8081", "--port", "0")
    assert result.code == 2, result.output
    assert result.stderr == ("ome-harness: error: the OME API URL 'ftp://ome.example:8081' is not an http(s) "
                             "URL with a host (e.g. http://localhost:8081)\n")
    assert not list(tmp_path.glob("*.db")), "no database is created for a backend that never starts"


def test_port_0_prints_the_port_it_got_and_answers_there(ome: EmulatorServer, tmp_path: Path) -> None:
    proc = _serve(["--port", "0", "--token", BACKEND_TOKEN, "--ome-url", ome.url, "--ome-token", OME_TOKEN,
                   "--db", f"sqlite:///{tmp_path / 'zero.db'}"], tmp_path)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = line.split()[3]
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0"), line
        _wait_ready(url, proc)
    finally:
        _stop(proc)


def test_a_port_in_use_fails_before_saying_listening_and_creates_no_database(run_cli, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("backend", "--token", "t", "--port", str(port))
    assert result.code == 2, result.output
    assert result.stderr == f"ome-harness: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert not list(tmp_path.glob("*.db")), "no default sqlite file for a backend that never ran"


@pytest.mark.parametrize("url", ["ftp://admin:Ome-Pw-in-url-77@ome.example:8081",
                                 "http://admin:Ome-Pw-in-url-77@[::1"])
def test_a_bad_ome_url_is_refused_without_its_password(run_cli, url: str) -> None:
    # Found by the CLI audit: the refusal echoed the URL with its password; "http://[::1" was exit 3.
    result = run_cli("backend", "--token", "t", "--ome-url", url, "--port", "0")
    assert result.code == 2 and len(result.stderr.splitlines()) == 1, result.output
    assert "is not an http(s) URL with a host" in result.stderr and "//********@" in result.stderr
    assert "Ome-Pw-in-url-77" not in result.output
