"""Peers that accept and never answer, trickle, reset, redirect or send absurd JSON: each ends in time."""

from __future__ import annotations

import time

import pytest
from fleet_peers import peer, silent

from ome_harness.checks.diagnosis import diagnose
from ome_harness.results import Status
from ome_harness.target import OmeTarget

TIMEOUT_S = 1.0


def diagnosed(port: int):
    target = OmeTarget(kind="url", api_url=f"http://127.0.0.1:{port}", token="hostile-peer-token",
                       connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S)
    started = time.perf_counter()
    report = diagnose(target, probe_host=False)
    target.close()
    return report, time.perf_counter() - started


@pytest.mark.parametrize(("kind", "summary", "finding", "bound_s"), [
    ("trickle", "No answer within 1s", "api_timeout", 2 * TIMEOUT_S + 1),
    ("reset", "The connection was reset before any answer", "api_bad_response_reset", 1.0),
    ("redirect", "API redirects elsewhere: http://elsewhere.invalid:8081/v1/version",
     "api_bad_response_redirect", 1.0),
    # Found by the CLI audit: Python's JSON parser recursed out ("the check itself failed: RecursionError").
    ("deep-json", "API answered with something that is not JSON", "api_bad_response_not-json", 1.0),
])
def test_hostile_peer_ends_within_its_bound_with_the_right_diagnosis(kind, summary, finding, bound_s) -> None:
    with peer(kind) as port:
        report, took = diagnosed(port)
    api = next(r for r in report.results if r.id == "api")
    assert api.status is Status.ERROR and api.summary == summary
    assert finding in [i.key for i in report.issues]
    # connect + read timeout is the whole request's bound, status line and headers included.
    assert took < bound_s, f"{kind}: {took:.1f}s"


def test_peer_that_accepts_and_never_answers_ends_at_the_read_timeout() -> None:
    with silent() as port:
        report, took = diagnosed(port)
    api = next(r for r in report.results if r.id == "api")
    assert api.summary == "No answer within 1s" and TIMEOUT_S <= took < 2 * TIMEOUT_S + 0.5
