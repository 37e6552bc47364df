"""Diagnose reuses one keep-alive connection per target, across checks and across runs."""

from __future__ import annotations

from ome_samples import TOKEN

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator import EmulatorServer
from ome_harness.results import Status
from ome_harness.target import OmeTarget


def _connections(target: OmeTarget) -> int:
    return target.connection().open_sockets


def test_every_check_of_a_loopback_diagnosis_shares_one_connection(emulator: EmulatorServer) -> None:
    target = OmeTarget(kind="url", api_url=f"http://127.0.0.1:{emulator.port}", token=TOKEN)
    try:
        first = diagnose(target, probe_host=False)
        pool = target.connection()
        second = diagnose(target, probe_host=False)
        assert first.status is Status.OK and second.status is Status.OK
        # Nine requests with two tokens, twice: still the one keep-alive connection.
        assert target.connection() is pool and _connections(target) == 1
    finally:
        target.close()
    assert pool.is_closed
