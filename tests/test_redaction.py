"""No secret in any output: known values, and whatever sits where secrets sit (URL userinfo, token fields)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ome_harness.emulator import EmulatorServer
from ome_harness.redaction import MASK, Redactor, install_log_redaction


@pytest.mark.parametrize("text, secret", [
    ("OME_API_URL=http://admin:pw@10.0.0.5:8081", "pw"),            # shorter than any length rule
    ("see https://deploy-token@git.example/x.git", "deploy-token"),   # a bare userinfo is a token too
    ("postgresql+psycopg://app:s3cr@db:5432/app", "s3cr"),
    ("OME_API_TOKEN=abc", "abc"),
    ('{"ome_token": "hunter2"}', "hunter2"),
    ("backend:\n  token: t0k3n\n", "t0k3n"),
    ("GET /v1/x?access_token=q1w2", "q1w2"),
    ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
])
def test_secrets_are_masked_by_position_without_knowing_them(text: str, secret: str) -> None:
    redacted = Redactor()(text)
    assert secret not in redacted and MASK in redacted, redacted


def test_prose_and_safe_descriptions_are_kept() -> None:
    text = ('Authentication with the API access token: The configured token is accepted\n'
            '"token": "Configured (12 chars, sha256:0123abcd)" at http://127.0.0.1:8081')
    assert Redactor()(text) == text


def test_a_known_two_letter_secret_is_still_masked() -> None:
    assert "xy" not in Redactor(["xy"])("the password is xy.")


def test_log_records_on_any_logger_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction(["s3cret-value"])
    with caplog.at_level(logging.DEBUG):
        # httpcore logs on child loggers; the record must be clean before any handler sees it.
        logging.getLogger("httpcore.http11").debug("send_request headers=%s", "Bearer s3cret-value")
        logging.getLogger("httpx").info("HTTP Request: GET http://admin:pw@127.0.0.1:1/v1/version")
        try:
            raise RuntimeError("engine said s3cret-value")
        except RuntimeError:
            logging.getLogger("docker.api.container").exception("failed")
    assert "s3cret-value" not in caplog.text and "admin:pw" not in caplog.text
    assert caplog.text.count(MASK) >= 3


def test_url_password_in_the_backend_env_file_never_reaches_the_reports(
        run_cli, tmp_path: Path, emulator: EmulatorServer) -> None:
    env = tmp_path / ".env"
    env.write_text(f"OME_API_URL=http://admin:Pa55w0rd-x@127.0.0.1:{emulator.port}\nOME_API_TOKEN=wrong\n")
    run = run_cli("diagnose", "--emulator", "--env-file", str(env), "--out", str(tmp_path / "o"))
    files = "".join(p.read_text() for p in (tmp_path / "o").iterdir())
    assert "connection-report.junit.xml" in "".join(p.name for p in (tmp_path / "o").iterdir())
    assert "127.0.0.1" in files  # the URL is reported, only its userinfo goes
    assert "Pa55w0rd-x" not in run.output + files and "admin:" not in run.output + files


def test_short_url_password_is_never_printed(run_cli, tmp_path: Path, closed_port: int) -> None:
    run = run_cli("diagnose", "--api-url", f"http://admin:pw@127.0.0.1:{closed_port}",
                  "--out", str(tmp_path / "o"))
    files = "".join(p.read_text() for p in (tmp_path / "o").iterdir())
    assert run.code == 1
    assert "admin:pw" not in run.output + files and ":pw@" not in run.output + files
