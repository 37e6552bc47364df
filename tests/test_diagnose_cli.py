"""`ome-harness diagnose` as a user runs it: exit codes, files, terminal, and no secret anywhere."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from ome_samples import TOKEN

from ome_harness.emulator import EmulatorServer

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server version="8">
  <Name>OvenMediaEngine</Name>
  <IP>*</IP>
  <Bind>
    {api_bind}
    <Providers><RTMP><Port>${{env:OME_RTMP_PROV_PORT:1935}}</Port></RTMP></Providers>
  </Bind>
  <Managers>
    <Host><Names><Name>*</Name></Names></Host>
    <API><AccessToken>{token}</AccessToken></API>
  </Managers>
</Server>
"""


def write_server_xml(path: Path, port: int, token: str, api: bool = True) -> Path:
    bind = f"<Managers><API><Port>${{env:OME_API_PORT:{port}}}</Port></API></Managers>" if api else \
        "<!-- <Managers><API><Port>8081</Port></API></Managers> -->"
    path.write_text(SERVER_XML.format(api_bind=bind, token=token))
    return path


def all_output(run, tmp_path: Path) -> str:
    files = "".join(p.read_text() for p in tmp_path.rglob("connection-report.*"))
    return run.output + files


def test_emulator_diagnosis_exits_0_and_says_where_the_report_is(run_cli, tmp_path: Path) -> None:
    run = run_cli("diagnose", "--emulator", "--out", str(tmp_path / "out"))
    assert run.code == 0, run.output
    report = tmp_path / "out" / "connection-report.md"
    assert run.stdout.strip() == str(report)
    text = report.read_text()
    assert "OME API emulator — not a real OvenMediaEngine" in text
    data = json.loads((tmp_path / "out" / "connection-report.json").read_text())
    assert data["schema_version"] == "1" and data["status"] == "OK" and data["exit_code"] == 0
    suite = ET.parse(tmp_path / "out" / "connection-report.junit.xml").getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 6


def test_refused_port_exits_1_and_token_never_appears(run_cli, tmp_path: Path, closed_port: int) -> None:
    run = run_cli("diagnose", "--api-url", f"http://localhost:{closed_port}", "--token", TOKEN,
                  "--out", str(tmp_path / "out"))
    assert run.code == 1
    text = (tmp_path / "out" / "connection-report.md").read_text()
    # The headline follows what runs on the machine (other tests' OME containers or processes, too).
    assert "[ERROR] OME API is not accessible" in text
    assert any(title in text for title in ("OvenMediaEngine Not Running", "Runs With Its API Disabled",
                                           "Runs, but Not on Port", "OME Runs in a Container, but"))
    assert "127.0.0.1 or [::1]" in text
    everything = all_output(run, tmp_path)
    assert TOKEN not in everything and base64.b64encode(TOKEN.encode()).decode() not in everything
    assert "Configured (18 chars, sha256:" in text


def test_token_from_environment_never_appears_with_a_healthy_target(run_cli, tmp_path: Path,
                                                                    emulator: EmulatorServer) -> None:
    run = run_cli("diagnose", "--api-url", emulator.url, "--out", str(tmp_path / "o"),
                  env={"OMH_API__TOKEN": TOKEN})
    assert run.code == 0, run.output
    everything = all_output(run, tmp_path)
    assert TOKEN not in everything and base64.b64encode(TOKEN.encode()).decode() not in everything


def test_bad_config_file_is_one_line_and_exit_2(run_cli, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("api:\n  url: http://x:1\n  timeout: 3\n")
    run = run_cli("diagnose", "--config", str(tmp_path / "bad.yaml"))
    assert run.code == 2
    assert run.stderr.strip().splitlines() == [f"ome-harness: error: {tmp_path / 'bad.yaml'}: unknown key 'api.timeout'"]
    assert "Traceback" not in run.output


def test_broken_yaml_and_wrong_type_name_file_and_key(run_cli, tmp_path: Path) -> None:
    (tmp_path / "harness.yaml").write_text("api:\n  read_timeout: soon\n")
    run = run_cli("diagnose")  # ./harness.yaml is picked up when present
    assert run.code == 2 and "harness.yaml: key 'api.read_timeout'" in run.stderr
    (tmp_path / "harness.yaml").write_text("api: [\n")
    run = run_cli("diagnose")
    assert run.code == 2 and "harness.yaml: not valid YAML at line" in run.stderr


def test_bad_input_exits_2_without_traceback(run_cli, tmp_path: Path) -> None:
    for args in (["--api-url", "localhost:8081"], ["--api-url", "http://h:99999"],
                 ["--server-xml", str(tmp_path / "missing.xml")], ["--emulator", "--launch"]):
        run = run_cli("diagnose", *args)
        assert run.code == 2, (args, run.output)
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.output


def test_environment_variable_of_wrong_type_is_named(run_cli) -> None:
    run = run_cli("diagnose", env={"OMH_API__CONNECT_TIMEOUT": "x"})
    assert run.code == 2 and "OMH_API__CONNECT_TIMEOUT" in run.stderr and "api.connect_timeout" in run.stderr


def test_server_xml_and_env_file_cross_checks(run_cli, tmp_path: Path, emulator: EmulatorServer) -> None:
    good = write_server_xml(tmp_path / "Server.xml", emulator.port, TOKEN)
    env = tmp_path / ".env"
    # 127.0.0.1: this Server.xml binds IPv4 only, so localhost (::1 first for Node.js) would be an error.
    env.write_text(f"OME_API_URL=http://127.0.0.1:{emulator.port}\nOME_API_TOKEN={TOKEN}\n")
    run = run_cli("diagnose", "--api-url", emulator.url, "--token", TOKEN, "--server-xml", str(good),
                  "--env-file", str(env), "--out", str(tmp_path / "ok"))
    assert run.code == 0, run.output
    env.write_text("OME_API_TOKEN=stale-token\n")
    disabled = write_server_xml(tmp_path / "Disabled.xml", emulator.port, TOKEN, api=False)
    run = run_cli("diagnose", "--api-url", emulator.url, "--token", TOKEN, "--server-xml", str(disabled),
                  "--env-file", str(env), "--out", str(tmp_path / "bad"))
    assert run.code == 1
    data = json.loads((tmp_path / "bad" / "connection-report.json").read_text())
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["server_xml"]["status"] == "ERROR" and "the API is disabled" in by_id["server_xml"]["summary"]
    assert by_id["env_file"]["status"] == "ERROR" and "differs from the token OME expects" in by_id["env_file"]["summary"]
    assert "stale-token" not in all_output(run, tmp_path) and TOKEN not in all_output(run, tmp_path)


def test_template_dir_overrides_one_template(run_cli, tmp_path: Path) -> None:
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "connection-report.md.j2").write_text("Custom: {{ report.status.value }} {{ report.target.key }}\n")
    run = run_cli("diagnose", "--emulator", "--template-dir", str(custom), "--out", str(tmp_path / "o"))
    assert run.code == 0
    assert (tmp_path / "o" / "connection-report.md").read_text().startswith("Custom: OK Configured (")


def test_api_url_with_a_path_is_bad_input(run_cli) -> None:
    run = run_cli("diagnose", "--api-url", "http://localhost:8081/v1")
    assert run.code == 2 and "must be the server root" in run.stderr and "http://localhost:8081" in run.stderr


def test_terminal_keeps_omes_bracketed_words_and_survives_markup_in_input(run_cli, tmp_path: Path) -> None:
    run = run_cli("diagnose", "--emulator", "--vhost", "x[/]", "--out", str(tmp_path / "o"),
                  env={"OMH_EMULATOR__VERSION": "0.21.0", "COLUMNS": "250"})
    assert run.code == 0 and "internal error" not in run.stderr  # v0.21's SCTE-35 WARN does not fail
    assert "eventFormat is not supported: [scte35]" in run.stderr


def test_password_inside_the_api_url_is_redacted(run_cli, tmp_path: Path, closed_port: int) -> None:
    run = run_cli("diagnose", "--api-url", f"http://admin:hunter2-pw@127.0.0.1:{closed_port}",
                  "--out", str(tmp_path / "o"))
    assert run.code == 1
    assert "hunter2-pw" not in all_output(run, tmp_path)
