"""A closed port is diagnosed at once; an address that never answers costs one connect timeout."""

from __future__ import annotations

import time

from fleet_peers import closed_port, unanswered_syn

from ome_harness.checks.diagnosis import diagnose
from ome_harness.results import Status
from ome_harness.target import OmeTarget

CONNECT_S = 1.0


def diagnosed(port: int):
    target = OmeTarget(kind="url", api_url=f"http://127.0.0.1:{port}", token="t", connect_timeout=CONNECT_S,
                       read_timeout=2.0)
    started = time.perf_counter()
    report = diagnose(target, probe_host=False)
    target.close()
    return report, time.perf_counter() - started


def test_closed_port_is_diagnosed_well_under_a_second() -> None:
    report, took = diagnosed(closed_port())
    assert next(r for r in report.results if r.id == "api").summary == "Connection refused"
    assert took < 0.5, f"{took:.2f}s"


def test_silent_address_ends_at_the_connect_timeout_not_a_multiple() -> None:
    with unanswered_syn() as port:
        report, took = diagnosed(port)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and api.summary == f"No answer within {CONNECT_S:g}s", api.summary
    # The TCP probe and the API request wait on the same timeout; they must not add up.
    assert CONNECT_S <= took < 1.6 * CONNECT_S, f"{took:.2f}s"
