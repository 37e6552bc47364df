"""The backend .env cross-check judges the backend's OME URL on its own, as a Node.js 17+ backend dials it."""

from __future__ import annotations

from pathlib import Path

from ome_samples import TOKEN

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator import EmulatorServer
from ome_harness.target import OmeTarget

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server version="8">
  <IP>*</IP>
  <Bind><Managers><API><Port>{port}</Port></API></Managers></Bind>
  <Managers><API><AccessToken>{token}</AccessToken></API></Managers>
</Server>
"""


def env_check(tmp_path: Path, api_url: str, backend_url: str, server_xml: Path | None = None) -> dict:
    env = tmp_path / ".env"
    env.write_text(f"OME_API_URL={backend_url}\nOME_API_TOKEN={TOKEN}\n")
    target = OmeTarget(kind="url", api_url=api_url, token=TOKEN, connect_timeout=1, read_timeout=2)
    report = diagnose(target, env_file=env, server_xml=server_xml, probe_host=False)
    return next(r for r in report.results if r.id == "env_file").model_dump(mode="json")


def test_localhost_in_the_backend_env_fails_on_an_ipv4_only_ome_even_when_diagnosed_at_127_0_0_1(
        tmp_path: Path, emulator_ipv4_only: EmulatorServer) -> None:
    port = emulator_ipv4_only.port
    result = env_check(tmp_path, f"http://127.0.0.1:{port}", f"http://localhost:{port}")
    assert result["status"] == "ERROR", result
    assert f"[::1]:{port}" in result["summary"] and "ECONNREFUSED" in result["summary"]
    assert result["facts"] == {"token_matches": True, "url_reachable": False}


def test_a_backend_url_whose_first_address_answers_passes(tmp_path: Path, emulator: EmulatorServer) -> None:
    result = env_check(tmp_path, emulator.url, f"http://localhost:{emulator.port}")
    assert result["status"] == "OK", result
    assert any(e["what"] == "OME_API_URL as Node.js 17+ dials it" and e["outcome"].endswith(": open")
               for e in result["evidence"])


def test_a_backend_url_at_ipv6_is_flagged_when_server_xml_binds_ome_on_ipv4_only(
        tmp_path: Path, emulator: EmulatorServer) -> None:
    xml = tmp_path / "Server.xml"
    xml.write_text(SERVER_XML.format(port=emulator.port, token=TOKEN))
    port = emulator.port
    result = env_check(tmp_path, f"http://127.0.0.1:{port}", f"http://localhost:{port}", xml)
    assert result["status"] == "ERROR" and "binds OME on IPv4 only" in result["summary"], result


def test_a_backend_url_at_127_0_0_1_passes_on_an_ipv4_only_ome(
        tmp_path: Path, emulator_ipv4_only: EmulatorServer) -> None:
    port = emulator_ipv4_only.port
    result = env_check(tmp_path, f"http://localhost:{port}", f"http://127.0.0.1:{port}")
    assert result["status"] == "OK", result
