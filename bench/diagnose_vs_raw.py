"""Diagnose a healthy loopback emulator vs. the same requests made bare with httpx, in one process.

Prints the ratio of medians: what the harness adds (concurrency, parsing, models, findings, one
client per check) on top of the round trips it cannot avoid. Run: python bench/diagnose_vs_raw.py
"""

from __future__ import annotations

import argparse
import base64
import socket
import statistics
import time

import httpx

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.target import OmeTarget

TOKEN = "bench-token"


def raw_round(port: int) -> None:
    """The requests diagnose makes (TCP probes, then the API calls), bare and sequential."""
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family) as sock:
            sock.settimeout(3)
            sock.connect((host, port))
    auth = {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"wrong").decode()}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=5) as client:
        for path in (
            "/v1/version",
            "/v1/vhosts",
            "/v1/vhosts",
            "/v1/vhosts/default/apps",
            "/v1/vhosts/default/apps/app/streams",
            "/v1/stats/current",
            "/v1/stats/current/vhosts/default",
            "/v1/stats/current/vhosts/default/apps/app",
        ):
            client.get(path).json()
        client.get("/v1/vhosts", headers=wrong)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    with EmulatorServer(EmulatorSettings(token=TOKEN)) as server:
        target = OmeTarget(kind="url", api_url=server.url, token=TOKEN)
        raw_round(server.port), diagnose(target, probe_host=False)  # warm up both paths
        raw, diag = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            raw_round(server.port)
            raw.append(time.perf_counter() - started)
            started = time.perf_counter()
            diagnose(target, probe_host=False)
            diag.append(time.perf_counter() - started)
    raw_ms, diag_ms = statistics.median(raw) * 1000, statistics.median(diag) * 1000
    print(f"rounds={rounds} raw_httpx_median={raw_ms:.1f}ms diagnose_median={diag_ms:.1f}ms "
          f"ratio={diag_ms / raw_ms:.2f}")


if __name__ == "__main__":
    main()
