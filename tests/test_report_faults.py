"""The fault matrix: each deliberately broken target is named in the run report, in the right place.

For every fault: Issues Found names the cause, the backend endpoint it breaks is FAILED (where one
is to blame: a frozen stats counter or a dropped cue is OME's fault, not an endpoint's), and the
Implementation Status item it breaks stays unticked. The healthy target passes three runs in a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ome_samples import TOKEN

from ome_harness.container.docker_engine import connect_engine
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.testing import require

BACKEND = "backend and not media and not docker and not container"
START = "endpoint_start and not media"
STOP = "endpoint_stop and not media"
SCTE35 = "endpoint_scte35 and not media"
STANDIN = "ome-harness/ome-standin:0.1.0"


@dataclass
class Fault:
    issue: str  # words of the issue's title
    item: str | None  # the Implementation Status item that must stay unticked (None: only the issue is pending)
    failed: tuple[str, ...] = ()  # endpoints that must be FAILED
    env: dict[str, str] = field(default_factory=dict)
    select: str = BACKEND  # the scenarios that show the fault (-m), to keep each run short
    target: str | None = None  # a fixture giving a broken OME's API URL and token (run with --target url)
    single_issue: bool = False  # one cause: every failure is evidence of one issue
    args: tuple[str, ...] = ()  # extra options (the target is the emulator unless they or `target` say otherwise)


STOP_ITEM = "Stream stop (channel deactivation + OME stream deletion)"
FAULTS = {
    "ome-down": Fault("OvenMediaEngine Not Running", STOP_ITEM, ("stop",), select=STOP, target="down_ome",
                      single_issue=True),
    "wrong-token": Fault("API Token Rejected", STOP_ITEM, ("stop",), select=STOP, target="wrong_token_ome",
                         single_issue=True),
    # A client that tries both address families still gets through: the issue is named, nothing else fails.
    # (it warns, so the run fails only with --fail-on warn).
    "ipv4-only-api-probed-on-::1": Fault("API Listens on IPv4 Only", None, select="connectivity",
                                         target="ipv4_only_ome", args=("--fail-on", "warn")),
    "garbage-json": Fault("Is Not OME's JSON", STOP_ITEM, ("stop",), select=STOP, target="garbage_ome",
                          single_issue=True),
    "slow-api": Fault("OME API Does Not Answer in Time", STOP_ITEM, ("stop",), select=STOP, target="silent_ome",
                      single_issue=True, env={"OMH_API__READ_TIMEOUT": "1", "OMH_API__CONNECT_TIMEOUT": "1"}),
    "start-forgets-the-db-write": Fault("Stream Start Endpoint: “the database shows the channel active”",
                                        "Stream start (channel activation)", ("start",), select=START,
                                        env={"OMH_BACKEND__REFERENCE_FAULTS": "forget-db-write"}),
    "stop-never-calls-ome": Fault("Stream Stop Endpoint: “OME no longer lists the channel's stream”", STOP_ITEM,
                                  ("stop",), select=STOP, env={"OMH_BACKEND__REFERENCE_FAULTS": "skip-ome-delete"}),
    "scte35-success-without-ome": Fault("SCTE-35 Insertion Endpoint: “OME received the marker's cue”",
                                        "SCTE-35 marker insertion", ("scte35",), select=SCTE35,
                                        env={"OMH_BACKEND__REFERENCE_FAULTS": "fake-scte35-success"}),
    "scte35-refused-by-ome": Fault("SCTE-35 Insertion Endpoint: “the backend answers 200”",
                                   "SCTE-35 marker insertion", ("scte35",), select=SCTE35,
                                   env={"OMH_EMULATOR__FAULTS": "refuse_scte35"}),
    "audit-row-missing": Fault("“the audit log records", "Audit logging for all operations", ("start", "stop"),
                               select=f"({START}) or ({STOP})", env={"OMH_BACKEND__REFERENCE_FAULTS": "skip-audit"}),
    "stream-never-listed": Fault("Stream Listing Endpoint: “the backend lists the stream as the channel's”",
                                 "Stream listing from OME", ("listing",), select="endpoint_listing and not media",
                                 env={"OMH_EMULATOR__FAULTS": "hide_streams"}),
    "db-unreachable": Fault("The Backend's Database Cannot Be Reached", "Stream start (channel activation)",
                            ("start",), select=START, single_issue=True,
                            env={"OMH_BACKEND__REFERENCE_DB_URL": "DB_OF_closed_port"}),
    "cue-missing-from-the-playlist": Fault("“Then the LL-HLS output shows the cue” Failed",
                                           "SCTE-35 marker insertion", select="media and cue_output",
                                           env={"OMH_EMULATOR__FAULTS": "ignore_cues"}),
    "stats-frozen": Fault("“Then the received bytes grow and the clocks move” Failed", "Stream details with metrics",
                          select="media and stream_metrics", env={"OMH_EMULATOR__FAULTS": "stale_metrics"}),
    "container-dies-at-start": Fault("The OME Container Did Not Start", None, select="connectivity",
                                     env={"OMH_CONTAINER__TOKEN": "", "OMH_CONTAINER__PULL": "false"},
                                     args=("--target", "container", "--image", STANDIN)),
}


@pytest.fixture
def down_ome(closed_port: int) -> Iterator[tuple[str, str]]:
    yield f"http://127.0.0.1:{closed_port}", TOKEN


@pytest.fixture
def wrong_token_ome(emulator: EmulatorServer) -> Iterator[tuple[str, str]]:
    yield emulator.url, "wrong-token"


@pytest.fixture
def ipv4_only_ome(emulator_ipv4_only: EmulatorServer) -> Iterator[tuple[str, str]]:
    yield f"http://localhost:{emulator_ipv4_only.port}", TOKEN


@pytest.fixture
def garbage_ome() -> Iterator[tuple[str, str]]:
    with EmulatorServer(EmulatorSettings(token=TOKEN, faults=("garbage_json",))) as server:
        yield server.url, TOKEN


@pytest.fixture
def silent_ome(silent_server: int) -> Iterator[tuple[str, str]]:
    yield f"http://127.0.0.1:{silent_server}", TOKEN


def _needs_docker(fault: Fault) -> None:
    if "container" not in fault.args:
        return
    try:
        client = connect_engine(timeout=10)
        try:
            client.images.get(STANDIN)
        finally:
            client.close()
        present = True
    except Exception:  # noqa: BLE001 - any engine or image trouble means the prerequisite is missing
        present = False
    require(present, f"a Docker engine with the stand-in image {STANDIN} (scripts/provision builds it)")


def _run(run_cli: Callable, out: Path, fault: Fault, request: pytest.FixtureRequest, closed_port: int
         ) -> tuple[int, dict, str]:
    where = [] if "--target" in fault.args else ["--target", "emulator"]
    args = [*where, *fault.args, "-m", fault.select]
    if fault.target:
        url, token = request.getfixturevalue(fault.target)
        args = ["--target", "url", "--api-url", url, "--token", token, "--allow-mutating", "-m", fault.select,
                *fault.args]
    env = {k: v.replace("DB_OF_closed_port", f"postgresql+psycopg://omh:pw@127.0.0.1:{closed_port}/omh")
           for k, v in fault.env.items()}
    run = run_cli("run", *args, "--out", str(out), env=env, timeout=300)
    data = json.loads((out / "results.json").read_text())
    return run.code, data, (out / "test-report.md").read_text()


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_broken_target_is_named_in_the_run_report(name: str, run_cli, tmp_path: Path,
                                                     request: pytest.FixtureRequest, closed_port: int) -> None:
    fault = FAULTS[name]
    _needs_docker(fault)
    code, data, text = _run(run_cli, tmp_path / "out", fault, request, closed_port)
    assert code in (1, 2), text[-3000:]
    titles = [issue["title"] for issue in data["issues"]]
    assert any(fault.issue in title for title in titles), titles
    if fault.single_issue:
        assert len(titles) == 1, titles
    statuses = {e["key"]: e["status"] for e in data["endpoints"]}
    for endpoint in fault.failed:
        assert statuses[endpoint] == "FAILED", statuses
    assert [e for e in data["endpoints"] if e["status"] == "VERIFIED" and e["key"] in fault.failed] == []
    if fault.item is not None:
        item = next(i for i in data["checklist"] if i["title"] == fault.item)
        assert not item["done"], item
        assert f"- [x] {fault.item}" not in text and f"- [ ] {fault.item}" in text
    assert any(f"- [ ] Resolve: {title}" in text for title in titles if fault.issue in title)


def test_the_healthy_target_passes_three_runs_in_a_row(run_cli, tmp_path: Path) -> None:
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        run = run_cli("run", "--target", "emulator", "-m", BACKEND, "--out", str(out), timeout=300)
        data = json.loads((out / "results.json").read_text())
        assert run.code == 0 and data["issues"] == [], (attempt, data["issues"])
        assert {e["status"] for e in data["endpoints"]} == {"VERIFIED"}


def test_a_failed_run_against_a_launched_container_quotes_its_log(run_cli, tmp_path: Path) -> None:
    _needs_docker(Fault("", None, args=("--target", "container")))
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "broken.feature").write_text(
        "Feature: Ours\n  Scenario: Fails on purpose\n    Given an OME target\n    When the moon is full\n")
    out = tmp_path / "out"
    run = run_cli("run", "--target", "container", "--image", STANDIN, "--features", str(tmp_path / "ours"),
                  "-k", "test_team_features", "--out", str(out), env={"OMH_CONTAINER__PULL": "false"}, timeout=300)
    assert run.code == 1, run.output[-3000:]
    data = json.loads((out / "results.json").read_text())
    log = data["container_log"]
    assert log and Path(log["path"]).is_file() and log["path"].startswith(str(out))
    assert log["lines"].strip() and "## Container Log" in (out / "test-report.md").read_text()
    assert "OvenMediaEngine" in log["lines"]
