"""Edges serve a stream only when a viewer asks: the emulated edge against the captures of a real v0.20.0
edge (samples/v0.20.0-media/edge/), and the fleet's delivery check — a viewer on the edge, then the
edge's API and stats — on a healthy pair and on each injected fault."""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from ome_samples import SAMPLES, json_shape, load, require_samples

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.emulator.edge import EdgeOrigin
from ome_harness.emulator.multiport import EmulatedNode, EmulatorFleet
from ome_harness.fleet import diagnose_targets_file
from ome_harness.fleet.model import FleetReport
from ome_harness.fleet.targets import FleetTarget
from ome_harness.report.fleet import render_fleet_markdown
from ome_harness.results import Status

TOKEN = "edge-fleet-token-5c1e"
EDGE = SAMPLES / "v0.20.0-media" / "edge"
TIMEOUTS = {"connect_timeout": 1.0, "read_timeout": 2.0}


def _auth() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}


def captured(name: str):  # noqa: ANN201
    require_samples()
    return load(EDGE / name)


def captured_offer() -> dict:
    require_samples()
    line = next(x for x in (EDGE / "edge_webrtc_request_offer.txt").read_text().splitlines()
                if x.startswith("reply: "))
    return ast.literal_eval(line.removeprefix("reply: "))


def request_offer(url: str, *, hold_s: float = 0.0) -> dict:
    """A viewer: request_offer on the edge's signalling WebSocket; stays `hold_s` before leaving."""
    async def run() -> dict:
        async with websockets.connect(url, open_timeout=5) as socket:
            await socket.send(json.dumps({"command": "request_offer"}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
            await asyncio.sleep(hold_s)
            return answer
    return asyncio.run(run())


@pytest.fixture
def pair() -> Iterator[tuple[EmulatedNode, EmulatedNode]]:
    """A fresh emulated origin with a live stream `probe1` and its edge, both v0.20.0."""
    fleet = EmulatorFleet()
    origin = fleet.add(token=TOKEN)
    edge = fleet.add(token=TOKEN, edge_of=origin)
    with fleet:
        origin.state.add_stream("probe1")
        yield origin, edge


# -- golden: the emulated edge answers as the captured edge did, before and after a viewer -------------

def test_before_any_viewer_the_edge_answers_like_the_captured_edge(pair) -> None:
    _, edge = pair
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        for name, path in (("edge_vhost.http", "/v1/vhosts/default"),
                           ("edge_apps_before_any_viewer.http", "/v1/vhosts/default/apps"),
                           ("edge_streams_before_any_viewer.http", "/v1/vhosts/default/apps/app/streams")):
            want, got = captured(name), api.get(path)
            assert got.status_code == want.status, name
            assert json_shape(got.json()) == json_shape(want.json), name
            if want.status != 200 or name.startswith("edge_apps"):
                assert got.json() == want.json, name  # the same list, the same 404 message
        vhost = api.get("/v1/vhosts/default").json()["response"]["origins"]
        assert vhost["origin"][0]["pass"]["scheme"] == "ovt" and vhost["origin"][0]["location"] == "/"
        assert vhost["properties"] == captured("edge_vhost.http").json["response"]["origins"]["properties"]
    want = captured("edge_llhls_before_pull.txt")
    got = httpx.get(f"{edge.llhls_url}/app/probe1/llhls.m3u8", timeout=5)
    assert (got.status_code, got.content, got.headers["content-type"]) == (want.status, b"", "text/html")
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        assert api.get("/v1/vhosts/default/apps").json()["response"] == []  # LL-HLS did not make it pull


def test_a_webrtc_viewer_makes_the_edge_pull_and_list_the_stream_like_the_captured_edge(pair) -> None:
    origin, edge = pair
    offer = request_offer(f"{edge.webrtc_url}/app/probe1")
    assert sorted(offer) == sorted(captured_offer()) and offer["code"] == 200 and offer["command"] == "offer"
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        for name, path in (("edge_apps_after_webrtc_viewer.http", "/v1/vhosts/default/apps"),
                           ("edge_streams_after_webrtc_viewer.http", "/v1/vhosts/default/apps/app/streams")):
            got = api.get(path)
            assert (got.status_code, got.json()) == (captured(name).status, captured(name).json), name
        want = captured("edge_stream_detail_after_pull.http").json["response"]
        got = api.get("/v1/vhosts/default/apps/app/streams/probe1").json()["response"]
        assert got["input"]["sourceType"] == want["input"]["sourceType"] == "Ovt"
        assert got["input"]["sourceUrl"] == f"ovt://127.0.0.1:{origin.port}/app/probe1"  # the origin it maps
        assert got["outputs"] == want["outputs"] == []
        assert [t["name"] for t in got["input"]["tracks"]] == [t["name"] for t in want["input"]["tracks"]]
        for mine, theirs in zip(got["input"]["tracks"], want["input"]["tracks"], strict=True):
            assert json_shape(mine) == json_shape(theirs), theirs["name"]
        stats = api.get("/v1/stats/current/vhosts/default/apps/app/streams/probe1")
        assert json_shape(stats.json()) == json_shape(captured("edge_stats_stream_after_pull.http").json)


def test_a_viewer_for_a_stream_the_origin_does_not_have_gets_omes_refusal(pair) -> None:
    _, edge = pair
    require_samples()
    refusal = json.loads((SAMPLES / "v0.20.0-media/playback/webrtc_signalling_unknown_stream.txt").read_text(
        encoding="utf-8"))
    assert request_offer(f"{edge.webrtc_url}/app/nosuch") == refusal
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        assert api.get("/v1/vhosts/default/apps").json()["response"] == []


def test_a_pulled_stream_is_dropped_after_the_unused_timeout_once_its_last_viewer_left(pair) -> None:
    _, edge = pair
    edge.api.unused_deletion_ms = 400
    request_offer(f"{edge.webrtc_url}/app/probe1", hold_s=0.6)
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        streams = "/v1/vhosts/default/apps/app/streams"
        assert api.get(streams).json()["response"] == ["probe1"]  # the viewer left just now
        time.sleep(0.5)
        assert api.get(streams).json()["response"] == []


def test_the_emulated_edge_says_it_is_not_ovt_on_the_wire(pair) -> None:
    _, edge = pair
    with httpx.Client(base_url=edge.url, headers=_auth(), timeout=5) as api:
        said = api.get("/v1/version").headers["x-ome-emulator"]
    assert "not over OVT" in said and "no WebRTC media" in said


def test_a_single_emulator_server_in_edge_mode_pulls_on_a_viewer_at_its_llhls_port() -> None:
    quiet = {"token": TOKEN, "rtmp_port": None, "srt_port": None}
    with EmulatorServer(EmulatorSettings(llhls_port=None, **quiet)) as origin:
        origin.state.add_stream("relayed")
        settings = EmulatorSettings(edge_of=EdgeOrigin(origin.url, TOKEN), **quiet)
        with EmulatorServer(settings) as edge, httpx.Client(base_url=edge.url, headers=_auth()) as api:
            assert api.get("/v1/vhosts/default/apps").json()["response"] == []
            assert request_offer(f"ws://127.0.0.1:{edge.llhls_port}/app/relayed")["command"] == "offer"
            assert api.get("/v1/vhosts/default/apps/app/streams/relayed").json()["response"]["input"][
                "sourceType"] == "Ovt"


# -- the fleet: a healthy pair, and each fault named ---------------------------------------------------

def _entry(name: str, url: str, **labels: object) -> str:
    extra = "".join(f", {k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in labels.items())
    return f'  - {{name: {name}, api_url: "{url}", token_env: EDGE_TOKEN{extra}}}\n'


@pytest.fixture
def diagnose_pair(tmp_path: Path, monkeypatch) -> Callable[..., FleetReport]:
    monkeypatch.setenv("EDGE_TOKEN", TOKEN)

    def run(origin: EmulatedNode, edge: EmulatedNode, **edge_labels: object) -> FleetReport:
        path = tmp_path / "targets.yaml"
        labels = {"webrtc_url": edge.webrtc_url, **edge_labels}
        path.write_text("delivery_deadline_s: 1\ntargets:\n" + _entry("origin-1", origin.url)
                        + _entry("edge-1", edge.url, role="edge", origin="origin-1", **labels))
        report, _ = diagnose_targets_file(path, concurrency=4, **TIMEOUTS)
        return report

    return run


def _node(report: FleetReport, name: str):  # noqa: ANN202
    return next(s for s in report.targets if s.row.name == name)


def test_a_healthy_origin_and_edge_pair_is_ok_with_no_false_alarm(pair, diagnose_pair) -> None:
    origin, edge = pair
    report = diagnose_pair(origin, edge)
    assert report.status is Status.OK and report.exit_code == 0, render_fleet_markdown(report)
    assert report.issues == []
    results = {r.id: r for r in _node(report, "edge-1").report.results}
    assert results["vhosts"].status is Status.OK
    assert results["vhosts"].summary.startswith(f"edge of / → ovt://127.0.0.1:{origin.port}/: app 'app' is "
                                                "created on a viewer's first request")
    for check in ("streams", "metrics"):
        assert results[check].status is Status.OK
        assert "edge: app created on first viewer" in results[check].summary
    [delivered] = report.delivery
    assert delivered.status is Status.OK, delivered
    assert delivered.source_url == f"ovt://127.0.0.1:{origin.port}/app/probe1"
    assert delivered.time_to_offer_ms is not None and delivered.time_to_listed_ms is not None
    assert "and its stats move (+" in delivered.summary
    assert delivered.time_to_first_frame_ms is None
    assert "time to first frame not measured: the offer carries no media (the emulator has no WebRTC media)" \
        in delivered.details
    text = render_fleet_markdown(report)
    assert "time to offer" in text and "time to listed as Ovt" in text and "not OVT" in text


def test_an_edge_on_a_version_not_recorded_says_so_instead_of_assuming(diagnose_pair) -> None:
    fleet = EmulatorFleet()
    origin = fleet.add(token=TOKEN, version="0.21.0")
    edge = fleet.add(token=TOKEN, version="0.21.0", edge_of=origin)
    with fleet:
        origin.state.add_stream("probe1")
        report = diagnose_pair(origin, edge)
    vhosts = next(r for r in _node(report, "edge-1").report.results if r.id == "vhosts")
    assert vhosts.status is Status.WARN and "edge behaviour not recorded for this version" in vhosts.summary
    [delivered] = report.delivery
    said = "edge behaviour not recorded for this version (v0.21.0)"
    assert any(d.startswith(said) for d in delivered.details)


def test_an_edge_whose_origin_map_names_another_origin_is_named_and_does_not_deliver(diagnose_pair) -> None:
    fleet = EmulatorFleet()
    declared, other = fleet.add(token=TOKEN), fleet.add(token=TOKEN)
    edge = fleet.add(token=TOKEN, edge_of=other)
    with fleet:
        declared.state.add_stream("probe1")
        report = diagnose_pair(declared, edge)
        [mismatch] = [i for i in report.issues if i.key == "origin-mismatch"]
        assert mismatch.title == "edge edge-1 does not pull from its declared origin origin-1"
        [delivered] = report.delivery
        assert delivered.status is Status.ERROR
        assert delivered.summary.startswith("a viewer on the edge got no offer for 'probe1': "
                                            "signalling refused")
        assert delivered.summary.endswith("answered code 404 'Cannot create offer'")
        other.state.add_stream("probe1")  # the other origin has it too: the edge pulls from there
        report = diagnose_pair(declared, edge)
    [delivered] = report.delivery
    assert delivered.status is Status.ERROR and report.exit_code == 1
    pulled = f"ovt://127.0.0.1:{other.port}/app/probe1"
    assert delivered.summary == (f"the edge pulled 'probe1' from {pulled}, which is not its declared origin "
                                 f"origin-1 (127.0.0.1:{other.port}/ configured)")


def test_an_origin_without_the_stream_to_watch_fails_delivery_in_those_words(pair, diagnose_pair) -> None:
    origin, edge = pair
    report = diagnose_pair(origin, edge, stream="ghost")
    [delivered] = report.delivery
    assert delivered.status is Status.ERROR and report.exit_code == 1
    assert delivered.summary == ("origin origin-1 does not list 'ghost' as live: the edge has nothing to "
                                 "pull (the origin lists probe1)")


def test_an_edge_that_answers_offers_but_never_pulls_fails_delivery(pair, diagnose_pair) -> None:
    origin, edge = pair
    edge.api.never_pulls = True
    report = diagnose_pair(origin, edge)
    [delivered] = report.delivery
    assert delivered.status is Status.ERROR and report.exit_code == 1
    assert delivered.summary.startswith("the edge answered the viewer's offer but its API did not list "
                                        "'probe1' pulled over OVT within 1s (last seen:")


def test_an_edge_serving_a_stream_of_its_own_instead_of_pulling_fails_delivery(pair, diagnose_pair) -> None:
    origin, edge = pair
    edge.state.add_app("default", "app")
    edge.state.add_stream("probe1")  # published into the edge itself (RTMP), not pulled from the origin
    report = diagnose_pair(origin, edge)
    [delivered] = report.delivery
    assert delivered.status is Status.ERROR
    assert "did not list 'probe1' pulled over OVT within 1s (last seen: listed with sourceType 'Rtmp', " \
           "not 'Ovt')" in delivered.summary


def test_an_edge_whose_stats_do_not_move_fails_delivery(pair, diagnose_pair) -> None:
    origin, edge = pair
    edge.state.faults.stale_metrics = True
    report = diagnose_pair(origin, edge)
    [delivered] = report.delivery
    assert delivered.status is Status.ERROR
    assert "but stale: its stats did not move (totalBytesIn stayed at" in delivered.summary


def test_the_signalling_address_defaults_to_the_api_host_on_port_3333() -> None:
    edge = FleetTarget(name="e", api_url="https://edge.example:8081", role="edge", origin="o")
    assert edge.signalling_base() == ("wss://edge.example:3333", True)
    given = FleetTarget(name="e", api_url="http://edge.example:8081", role="edge", origin="o",
                        webrtc_url="ws://play.example:443/")
    assert given.signalling_base() == ("ws://play.example:443", False)


def test_a_missing_app_on_a_node_without_an_ovt_origin_map_is_still_an_error(pair) -> None:
    from ome_harness.checks.diagnosis import diagnose
    from ome_harness.target import OmeTarget

    origin, _ = pair
    target = OmeTarget(kind="url", api_url=origin.url, token=TOKEN, app="nosuch")
    try:
        results = {r.id: r for r in diagnose(target, probe_host=False).results}
    finally:
        target.close()
    assert results["vhosts"].status is Status.ERROR and "app 'nosuch' not found" in results["vhosts"].summary
    assert results["streams"].status is Status.ERROR


def test_where_the_edge_offers_media_the_time_to_first_frame_is_measured(pair, diagnose_pair) -> None:
    """The emulated edge has no WebRTC media, so its signalling is stood in for by an aiortc sender speaking
    OME's signalling (tests/webrtc_peer.py), the edge having pulled for a first viewer."""
    import importlib.util

    from ome_harness.testing import require

    require(importlib.util.find_spec("aiortc") is not None, "needs aiortc (pip install aiortc websockets)")
    from webrtc_peer import OmeShapedPeer

    origin, edge = pair
    request_offer(f"{edge.webrtc_url}/app/probe1")  # the edge pulls; it keeps the stream for 60 s
    with OmeShapedPeer(streams=("probe1",)).running() as peer:
        report = diagnose_pair(origin, edge, webrtc_url=f"ws://127.0.0.1:{peer.port}")
    [delivered] = report.delivery
    assert delivered.status is Status.OK, delivered
    assert delivered.time_to_first_frame_ms is not None and delivered.time_to_first_frame_ms > 0
    assert any(d.startswith("time to first frame ") and "first decoded video frame, aiortc; 640x480" in d
               for d in delivered.details), delivered.details


def test_an_edge_that_serves_but_whose_webrtc_cannot_connect_here_is_a_warning(pair, diagnose_pair) -> None:
    import importlib.util

    from ome_harness.testing import require

    require(importlib.util.find_spec("aiortc") is not None, "needs aiortc (pip install aiortc websockets)")
    from webrtc_peer import OmeShapedPeer

    origin, edge = pair
    request_offer(f"{edge.webrtc_url}/app/probe1")
    with OmeShapedPeer(streams=("probe1",), unreachable=True).running() as peer:
        report = diagnose_pair(origin, edge, webrtc_url=f"ws://127.0.0.1:{peer.port}")
    [delivered] = report.delivery
    assert delivered.status is Status.WARN and report.status is Status.WARN and report.exit_code == 0
    said = "no frame decoded through the edge: no candidate pair"
    assert any(d.startswith(said) for d in delivered.details), delivered.details
