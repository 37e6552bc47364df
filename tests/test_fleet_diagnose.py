"""`diagnose --targets`: a loopback fleet of emulators and broken peers, diagnosed in one run."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from fleet_peers import closed_port, peer, silent, unanswered_syn

from ome_harness.emulator.multiport import EmulatedNode, EmulatorFleet
from ome_harness.fleet import diagnose_targets_file
from ome_harness.fleet.model import FleetReport
from ome_harness.report.fleet import render_fleet_json, render_fleet_junit, render_fleet_markdown
from ome_harness.report.fleet_schema import SCHEMA_PATH, schema_text
from ome_harness.results import Status

TOKEN = "fleet-token-7f3a9c"
OTHER = "another-fleet-token-11"
TIMEOUTS = {"connect_timeout": 1.0, "read_timeout": 1.0}


def entry(name: str, url: str, **labels: str) -> str:
    extra = "".join(f", {k}: {v}" for k, v in labels.items())
    return f'  - {{name: {name}, api_url: "{url}"{extra}}}\n'


@pytest.fixture(scope="module")
def emulated() -> Iterator[dict[str, EmulatedNode]]:
    """Origins, a relaying edge, an edge relaying the wrong origin, a wrong-token node, an odd app set."""
    fleet = EmulatorFleet()
    nodes = {"origin-eu": fleet.add(token=TOKEN)}
    nodes["origin-us"] = fleet.add(token=TOKEN)
    nodes["edge-eu"] = fleet.add(token=TOKEN, version="0.21.0", edge_of=nodes["origin-eu"])
    nodes["edge-astray"] = fleet.add(token=TOKEN, edge_of=nodes["origin-us"])
    nodes["wrong-token"] = fleet.add(token=OTHER)
    nodes["extra-app"] = fleet.add(token=TOKEN, apps=("app", "vod"))
    with fleet:
        nodes["origin-eu"].state.add_stream("live")
        yield nodes


@pytest.fixture(scope="module")
def fleet_report(emulated: dict[str, EmulatedNode], tmp_path_factory) -> Iterator[tuple[FleetReport, float]]:
    path = tmp_path_factory.mktemp("fleet") / "targets.yaml"
    with silent() as quiet, peer("trickle") as trickle:
        e = emulated
        path.write_text(
            "delivery_deadline_s: 1\ntargets:\n"
            + entry("origin-eu", e["origin-eu"].url, token_env="FLEET_TOKEN", region="eu")
            + entry("origin-us", e["origin-us"].url, token_env="FLEET_TOKEN", region="us")
            + entry("edge-eu", e["edge-eu"].url, token_env="FLEET_TOKEN", role="edge", origin="origin-eu",
                    webrtc_url=e["edge-eu"].webrtc_url)
            + entry("edge-astray", e["edge-astray"].url, token_env="FLEET_TOKEN", role="edge",
                    origin="origin-eu", webrtc_url=e["edge-astray"].webrtc_url)
            + entry("wrong-token", e["wrong-token"].url, token_env="FLEET_TOKEN")
            + entry("extra-app", e["extra-app"].url, token_env="FLEET_TOKEN")
            + entry("refused", f"http://127.0.0.1:{closed_port()}", token_env="FLEET_TOKEN")
            + entry("silent", f"http://127.0.0.1:{quiet}", token_env="FLEET_TOKEN")
            + entry("trickle", f"http://127.0.0.1:{trickle}", token_env="FLEET_TOKEN")
        )
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FLEET_TOKEN", TOKEN)
            started = time.perf_counter()
            report, _ = diagnose_targets_file(path, concurrency=16, **TIMEOUTS)
            yield report, time.perf_counter() - started


def row(report: FleetReport, name: str):
    return next(s.row for s in report.targets if s.row.name == name)


def issue(report: FleetReport, key: str):
    return [i for i in report.issues if i.key == key]


def test_every_node_is_diagnosed_with_its_own_verdict(fleet_report) -> None:
    report, _ = fleet_report
    assert [s.row.name for s in report.targets][:2] == ["origin-eu", "origin-us"]
    assert row(report, "origin-eu").status is Status.OK and row(report, "origin-eu").version == "0.20.0"
    assert row(report, "refused").cause == "Connection refused"
    assert row(report, "silent").cause == "No answer within 1s"
    assert row(report, "trickle").cause == "No answer within 1s"
    assert row(report, "wrong-token").cause == "Token rejected"
    assert "Authentication" in row(report, "wrong-token").failing


def test_dead_nodes_cost_only_their_own_timeout(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(silent()) for _ in range(6)]
        path.write_text("targets:\n" + "".join(entry(f"silent-{p}", f"http://127.0.0.1:{p}") for p in ports))
        started = time.perf_counter()
        report, _ = diagnose_targets_file(path, concurrency=6, **TIMEOUTS)
        wall = time.perf_counter() - started
    assert all(s.row.cause == "No answer within 1s" for s in report.targets)
    # One after another six silent nodes take 6 × (1 to 2 s); concurrently, about one node's bound.
    assert wall < 3.0, f"six silent nodes took {wall:.1f}s"


def test_nodes_whose_connects_hang_cost_one_connect_timeout_together(tmp_path: Path) -> None:
    # Each node's TCP probe waits out the connect timeout beside its API request, on kept threads
    # shared by all diagnoses (checks/runner.py): those must never make one node's probe wait for another's.
    path = tmp_path / "targets.yaml"
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(unanswered_syn()) for _ in range(6)]
        path.write_text("targets:\n" + "".join(entry(f"syn-{p}", f"http://127.0.0.1:{p}") for p in ports))
        started = time.perf_counter()
        report, _ = diagnose_targets_file(path, concurrency=6, **TIMEOUTS)
        wall = time.perf_counter() - started
    causes = [s.row.cause for s in report.targets]
    assert causes == ["No answer within 1s"] * 6, causes
    assert wall < 3.0, f"six nodes with unanswered connects took {wall:.1f}s"


def test_concurrency_bounds_how_many_nodes_are_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(silent()) for _ in range(4)]
        path.write_text("targets:\n" + "".join(entry(f"silent-{p}", f"http://127.0.0.1:{p}") for p in ports))
        started = time.perf_counter()
        report, _ = diagnose_targets_file(path, concurrency=2, **TIMEOUTS)
        wall = time.perf_counter() - started
    # Each silent node ends within its bound (connect + read timeout, 2 s); two at a time: two rounds.
    one = max(s.row.wall_ms for s in report.targets) / 1000
    assert 2 * one - 0.2 <= wall < 2 * one + 1.0, f"{wall:.1f}s for two rounds of {one:.1f}s"


def test_the_whole_fleet_is_bounded_by_its_slowest_node(fleet_report) -> None:
    report, wall = fleet_report
    slowest = max(s.row.wall_ms for s in report.targets) / 1000
    assert wall < slowest + 2.5, f"the fleet took {wall:.1f}s, its slowest node {slowest:.1f}s"


def test_unreachable_nodes_are_grouped_by_cause(fleet_report) -> None:
    report, _ = fleet_report
    groups = {i.title: i.targets for i in issue(report, "unreachable")}
    assert groups["1 node(s): Connection refused"] == ["refused"]
    assert sorted(groups["2 node(s): No answer within 1s"]) == ["silent", "trickle"]
    assert groups["1 node(s): Token rejected"] == ["wrong-token"]


def test_an_edge_pulls_its_origins_live_stream_for_a_viewer(fleet_report) -> None:
    report, _ = fleet_report
    delivered = next(d for d in report.delivery if d.edge == "edge-eu")
    assert delivered.status is Status.OK and delivered.stream == "live", delivered
    assert delivered.source_url is not None and delivered.source_url.startswith("ovt://")


def test_an_edge_on_another_origin_is_named_and_does_not_deliver(fleet_report) -> None:
    report, _ = fleet_report
    [astray] = issue(report, "origin-mismatch")
    assert astray.targets == ["edge-astray"] and astray.severity == "ERROR"
    assert "declared origin origin-eu" in astray.title
    failed = next(d for d in report.delivery if d.edge == "edge-astray")
    # Its own origin has no 'live': the viewer's request is refused as OME refuses an unknown stream.
    assert failed.status is Status.ERROR and failed.summary.startswith("a viewer on the edge got no offer "
                                                                       "for 'live'")
    assert failed.summary.endswith("'Cannot create offer'")
    assert report.exit_code == 1 and "edge-astray" in report.failed


def test_version_drift_says_what_differs_between_edge_and_origin(fleet_report) -> None:
    report, _ = fleet_report
    [drift] = issue(report, "version-drift")
    text = "\n".join(drift.details)
    assert "edge edge-eu (v0.21.0) under origin origin-eu (v0.20.0)" in text
    assert "SCTE-35 through :sendEvent accepted on v0.20.0, refused on v0.21.0" in text


def test_app_sets_that_differ_are_drift(fleet_report) -> None:
    report, _ = fleet_report
    [apps] = issue(report, "apps-drift")
    assert "{app, vod}: extra-app" in apps.details


def test_token_fingerprints_differ_where_one_token_is_expected(tmp_path: Path, emulated, monkeypatch) -> None:
    monkeypatch.setenv("A_TOKEN", TOKEN)
    monkeypatch.setenv("B_TOKEN", OTHER)
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n" + entry("a", emulated["origin-us"].url, token_env="A_TOKEN")
                    + entry("b", emulated["wrong-token"].url, token_env="B_TOKEN"))
    report, _ = diagnose_targets_file(path, concurrency=2, **TIMEOUTS)
    [drift] = issue(report, "token-drift")
    assert sorted(drift.targets) == ["a", "b"] and all(
        d.startswith(("sha256:", "Set")) for d in drift.details
    )
    assert TOKEN not in render_fleet_json(report) and OTHER not in render_fleet_json(report)
    path.write_text("one_token: false\n" + path.read_text())
    report, _ = diagnose_targets_file(path, concurrency=2, **TIMEOUTS)
    assert not issue(report, "token-drift") and report.exit_code == 0


def test_edge_mode_says_it_is_not_ovt(fleet_report) -> None:
    report, _ = fleet_report
    edge = next(s for s in report.targets if s.row.name == "edge-eu")
    assert "not over OVT" in (edge.row.emulator or "")
    assert "through the origin's REST API, not OVT" in render_fleet_markdown(report)


def test_report_has_summary_first_then_fleet_issues_then_each_node(fleet_report) -> None:
    report, _ = fleet_report
    text = render_fleet_markdown(report)
    order = [text.index(h) for h in ("## Summary", "## Fleet Issues", "## Origin → Edge Delivery", "## Nodes",
                                     "## origin-eu — OvenMediaEngine Connection Test Report")]
    assert order == sorted(order)
    assert "| origin-eu | origin | eu | OK | 0.20.0 |" in text
    assert "| edge-eu | edge (of origin-eu) | - | WARN | 0.21.0 |" in text
    assert "are the OME API emulator — not a real OvenMediaEngine" in text and "not OVT" in text


def test_json_report_validates_against_the_shipped_schema(fleet_report) -> None:
    report, _ = fleet_report
    assert SCHEMA_PATH.read_text() == schema_text(), "run python -m ome_harness.report.fleet_schema"
    data = json.loads(render_fleet_json(report))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["exit_code"] == 1 and "refused" in data["failed"]
    data["targets"][0]["row"]["renamed"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))


def test_junit_has_one_testsuite_per_node_and_one_for_the_fleet(fleet_report) -> None:
    report, _ = fleet_report
    root = ET.fromstring(render_fleet_junit(report).split("\n", 1)[1])
    names = [s.get("name") for s in root.findall("testsuite")]
    assert (
        names[:3] == ["origin-eu (origin)", "origin-us (origin)", "edge-eu (edge)"] and names[-1] == "fleet"
    )
    assert len(names) == len(report.targets) + 1
    refused = root.find("testsuite[@name='refused (origin)']")
    assert refused is not None and int(refused.get("failures")) >= 1
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in root.findall("testsuite"))


def test_cli_writes_the_three_files_exits_1_and_never_shows_the_token(
    run_cli, tmp_path: Path, emulated
) -> None:
    targets = tmp_path / "targets.yaml"
    (tmp_path / "token").write_text(TOKEN + "\n")
    targets.write_text("targets:\n" + entry("origin-eu", emulated["origin-eu"].url, token_file="token")
                       + entry("refused", f"http://127.0.0.1:{closed_port()}", token_file="token"))
    run = run_cli("diagnose", "--targets", str(targets), "--out", str(tmp_path / "out"))
    assert run.code == 1, run.output
    out = tmp_path / "out"
    assert run.stdout.strip() == str(out / "fleet-report.md")
    assert "failed: refused" in run.stderr
    written = "".join(p.read_text() for p in out.iterdir())
    for needle in (TOKEN, base64.b64encode(TOKEN.encode()).decode()):
        assert needle not in written + run.output


def test_cli_healthy_fleet_exits_0(run_cli, tmp_path: Path, emulated) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n" + entry("us", emulated["origin-us"].url, token_env="FLEET_TOKEN"))
    run = run_cli("diagnose", "--targets", str(targets), "--concurrency", "2", "--out", str(tmp_path / "out"),
                  env={"FLEET_TOKEN": TOKEN})
    assert run.code == 0, run.output
    data = json.loads((tmp_path / "out" / "fleet-report.json").read_text())
    assert data["status"] == "OK" and data["concurrency"] == 2


@pytest.mark.parametrize("extra", [["--api-url", "http://localhost:8081"], ["--emulator"]])
def test_targets_excludes_the_single_target_options(run_cli, tmp_path: Path, extra: list[str]) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n" + entry("a", "http://127.0.0.1:1", token_env="X"))
    run = run_cli("diagnose", "--targets", str(targets), *extra)
    assert run.code == 2 and run.stderr.count("\n") == 1 and "cannot be used together" in run.stderr
