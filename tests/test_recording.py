"""`ome-harness record` and `fidelity` (issue 21): round trip against the emulator, scrubbing, only the
recording's own streams touched, nothing left behind on a signal, a broken emulator caught, bad input."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ome_samples import SAMPLES, require_samples

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.polling import Ready, poll_until
from ome_harness.recording.compare import compare
from ome_harness.recording.files import parse, read_recording
from ome_harness.recording.handmade import HANDMADE_KEYS
from ome_harness.recording.model import Observation
from ome_harness.recording.scrubbing import Scrubber
from ome_harness.recording.session import STREAM_PREFIX
from ome_harness.testing import require

TOKEN = "recording-test-token-7f3a"
READ_ONLY = "api-read,api-errors"


def _emulator(hosts: tuple[str, ...] = ("127.0.0.1",)) -> EmulatorServer:
    return EmulatorServer(EmulatorSettings(hosts=hosts, token=TOKEN))


def _media_flags(server: EmulatorServer, host: str = "127.0.0.1") -> list[str]:
    return [
        "--rtmp-url",
        f"rtmp://{host}:{server.rtmp_port}",
        "--llhls-url",
        f"http://{host}:{server.llhls_port}",
    ]


def _record(run_cli, server: EmulatorServer, out: Path, *extra: str, host: str = "127.0.0.1"):  # noqa: ANN001, ANN202
    return run_cli(
        "record",
        "--api-url",
        f"http://{host}:{server.port}",
        "--out",
        str(out),
        *_media_flags(server, host),
        *extra,
        env={"OMH_API__TOKEN": TOKEN},
        timeout=240,
    )


def _ffmpeg_for(server: EmulatorServer) -> list[str]:
    """Command lines of ffmpeg processes publishing one of the recording's streams to this test's emulator
    (its RTMP port is its own: other tests' encoders running at the same time are not counted)."""
    needle = f"rtmp://127.0.0.1:{server.rtmp_port}/app/{STREAM_PREFIX}"
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in cmdline and "ffmpeg" in cmdline:
                found.append(cmdline)
    return found


def test_record_then_fidelity_round_trip_agrees(run_cli, tmp_path: Path) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish the recording's own stream")
    out = tmp_path / "rec"
    with _emulator() as server:
        recorded = _record(
            run_cli, server, out, "--allow-mutating", "--only", f"{READ_ONLY},rtmp-publish,llhls-playlists"
        )
    assert recorded.code == 0, recorded.output
    manifest = json.loads((out / "recording.json").read_text())
    assert manifest["ome_version"] == "0.20.0" and manifest["emulated"] is True
    assert {p["name"]: p["outcome"] for p in manifest["procedures"]} == {
        "api-read": "done",
        "api-errors": "done",
        "rtmp-publish": "done",
        "llhls-playlists": "done",
    }
    assert manifest["llhls"] == {"segment_s": 6.0, "part_s": 0.5}
    assert (out / "api-read" / "version.http").read_text().startswith("### REQUEST: GET /v1/version")
    checked = run_cli("fidelity", "--recording", str(out), "--out", str(tmp_path / "report"), timeout=240)
    report = json.loads((tmp_path / "report" / "fidelity-report.json").read_text())
    differing = [
        (f["key"], f["difference"], f["reason"])
        for f in report["findings"]
        if f["verdict"] not in ("agree", "not recorded")
    ]
    assert checked.code == 0, (differing, checked.output)
    assert report["passed"] and len(report["findings"]) == len(manifest["observations"])
    assert "PASS" in (tmp_path / "report" / "fidelity-report.md").read_text().splitlines()[0]


def _own_address() -> str | None:
    """This machine's address on its default route (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.254", 9))  # no packet is sent: only the route is looked up
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_no_token_or_host_address_survives_in_a_recording(run_cli, tmp_path: Path) -> None:
    address = _own_address()
    require(address is not None, "needs a non-loopback address on this machine")
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish the recording's own stream")
    out = tmp_path / "rec"
    with _emulator(hosts=(address,)) as server:  # the publisher's address shows in sourceUrl too
        recorded = _record(
            run_cli, server, out, "--allow-mutating", "--only", f"{READ_ONLY},rtmp-publish", host=address
        )
    assert recorded.code == 0, recorded.output
    needles = [TOKEN, base64.b64encode(TOKEN.encode()).decode(), address]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        text = path.read_text()
        for needle in needles:
            assert needle not in text, f"{needle!r} in {path.relative_to(out)}"
    assert TOKEN not in recorded.output and address not in recorded.output
    detail = read_recording(out).observations["rtmp-publish/stream-detail"].body
    assert '"sourceUrl":"TCP://192.0.2.' in detail  # the publisher's address, replaced consistently
    query = (out / "api-errors" / "query-token.http").read_text()
    assert "access_token=********" in query  # the token sent in the URL (sample 20) is gone from the request
    manifest = json.loads((out / "recording.json").read_text())
    assert "documentation addresses" in manifest["redaction"]["addresses"]
    assert manifest["redaction"]["stand_ins"]


def test_scrubber_replaces_addresses_consistently_and_keeps_loopback() -> None:
    scrub = Scrubber(["s3cret"], ["ome.staging.corp"])
    text = scrub(
        "http://ome.staging.corp:8081 TCP://10.1.2.3:5 and 10.1.2.3, [::1] 127.0.0.1 fe80::7 s3cret "
        "at 00:08:19"
    )
    assert text == (
        "http://ome-host-1.example:8081 TCP://192.0.2.1:5 and 192.0.2.1, [::1] 127.0.0.1 "
        "2001:db8::1 ******** at 00:08:19"
    )


def test_record_publishes_only_its_own_streams_and_leaves_none(run_cli, tmp_path: Path) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish the recording's own stream")
    with _emulator() as server:
        server.state.add_stream("someone-elses")
        recorded = _record(run_cli, server, tmp_path / "rec", "--allow-mutating", "--only", "send-event")
        assert recorded.code == 0, recorded.output
        events = {event.stream for event in server.state.events}
        assert events and all(name.startswith(STREAM_PREFIX) for name in events), events
        assert server.state.stream("default", "app", "someone-elses") is not None

        def ours() -> list[str]:
            return [
                s.name for s in server.state.streams("default", "app") if s.name.startswith(STREAM_PREFIX)
            ]

        poll_until(
            lambda: Ready(True) if not ours() else f"still listed: {ours()}",
            deadline_s=5,
            what="the recording's streams to be gone",
        )
        assert _ffmpeg_for(server) == []


def test_read_only_by_default_nothing_is_published(run_cli, tmp_path: Path) -> None:
    with _emulator() as server:
        recorded = _record(run_cli, server, tmp_path / "rec")
        assert server.state.streams("default", "app") == [] and server.state.events == []
    assert recorded.code == 0, recorded.output
    runs = {p["name"]: p for p in json.loads((tmp_path / "rec" / "recording.json").read_text())["procedures"]}
    assert runs["rtmp-publish"]["outcome"] == "not run"
    assert "--allow-mutating" in runs["rtmp-publish"]["reason"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_publish_leaves_nothing_behind(tmp_path: Path, signum: int) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish the recording's own stream")
    out = tmp_path / "rec"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")} | {"OMH_API__TOKEN": TOKEN}
    with _emulator() as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ome_harness",
                "record",
                "--api-url",
                f"http://127.0.0.1:{server.port}",
                "--out",
                str(out),
                *_media_flags(server),
                "--allow-mutating",
                "--only",
                "llhls-warmup",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        try:
            poll_until(
                lambda: Ready(True) if _ffmpeg_for(server) else "no ffmpeg yet",
                deadline_s=30,
                what="the recording's encoder to start",
                interval_s=0.1,
            )
            time.sleep(2.0)  # in the middle of the timeline: held requests in flight
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 128 + signum, stderr
        assert _ffmpeg_for(server) == []
        poll_until(
            lambda: Ready(True) if not server.state.streams("default", "app") else "still listed",
            deadline_s=5,
            what="the recording's stream to be gone",
        )
    manifest = json.loads((out / "recording.json").read_text())
    assert manifest["interrupted_by"] == signal.Signals(signum).name
    assert "INTERRUPTED" in stderr and "Traceback" not in stderr
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and not str(p).startswith(str(out))]
    assert leftovers == []


def test_a_misbehaving_server_is_recorded_as_it_is(run_cli, tmp_path: Path) -> None:
    """An API answering HTML is what the recording keeps (exit 0); an address where nothing answers is a bad
    target (exit 2, one line), its recording kept as evidence."""
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, faults=("html",))) as server:
        recorded = _record(run_cli, server, tmp_path / "html", "--only", "api-read")
    assert recorded.code == 0, recorded.output
    version = read_recording(tmp_path / "html").observations["api-read/version"]
    assert version.status is not None and "html" in (version.header("content-type") or "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        nothing = run_cli(
            "record",
            "--api-url",
            f"http://127.0.0.1:{port}",
            "--out",
            str(tmp_path / "none"),
            "--only",
            "api-read",
            env={"OMH_API__TOKEN": TOKEN},
        )
    assert nothing.code == 2, nothing.output
    assert nothing.stderr.strip().splitlines()[-1].startswith("ome-harness: error: nothing answered at ")
    assert (tmp_path / "none" / "api-read" / "version.http").read_text().count("no answer") == 1


def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path: Path) -> None:
    cases = [
        ("fidelity", "--recording", str(tmp_path / "nowhere")),
        ("record", "--out", str(tmp_path / "rec")),  # no --api-url anywhere
        ("record", "--api-url", "http://127.0.0.1:1", "--out", str(tmp_path / "rec"), "--only", "nosuch"),
        ("record", "--api-url", "http://127.0.0.1:1", "--out", str(tmp_path), "--edge", "e1"),
    ]
    (tmp_path / "someone.txt").write_text("not a recording")
    cases.append(("record", "--api-url", "http://127.0.0.1:1", "--out", str(tmp_path)))
    for args in cases:
        result = run_cli(*args)
        assert result.code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, (
            result.stderr
        )


def test_a_broken_emulator_fails_fidelity_against_the_captures(run_cli, tmp_path: Path) -> None:
    """The v0.20.0 REST captures (a copy of their read-only files, a hand-made folder like any other) pass
    against the healthy emulator; the emulator taking any token (EmulatorState.faults) differs from
    sample 10's 401 and fails, with the difference side by side."""
    require_samples()
    captures = tmp_path / "v0.20.0-api"
    captures.mkdir()
    for path in sorted(SAMPLES.glob("*.http")):
        key = HANDMADE_KEYS.get(path.stem, "")
        if key.startswith(("api-read/", "api-errors/")):
            shutil.copy(path, captures / path.name)
    healthy = run_cli("fidelity", "--recording", str(captures), "--out", str(tmp_path / "ok"))
    assert healthy.code == 0, healthy.output
    broken = run_cli(
        "fidelity",
        "--recording",
        str(captures),
        "--emulator-fault",
        "accept_any_token",
        "--out",
        str(tmp_path / "broken"),
    )
    assert broken.code == 1, broken.output
    report = json.loads((tmp_path / "broken" / "fidelity-report.json").read_text())
    differ = {f["key"]: f["difference"] for f in report["findings"] if f["verdict"] == "differ"}
    assert differ == {"api-errors/wrong-token": {"what": "status", "expected": "401", "got": "200"}}
    markdown = (tmp_path / "broken" / "fidelity-report.md").read_text()
    assert "| `api-errors/wrong-token` | status | 401 | 200 |" in markdown
    assert "inferred from its 00_version.http" in markdown


def test_comparison_catches_a_changed_field_type_and_an_unknown_shape() -> None:
    def answer(body: str) -> Observation:
        return parse(
            f"### REQUEST: GET /v1/x\nHTTP/1.1 200 OK\ncontent-type: application/json\n\n{body}\n", "p/x"
        )

    base = answer('{"message":"OK","response":{"a":{"b":1}},"statusCode":200}')
    assert compare(base, answer('{"message":"OK","response":{"a":{"b":2}},"statusCode":200}')) is None
    changed = answer('{"message":"OK","response":{"a":{"b":"1"}},"statusCode":200}')
    assert compare(base, changed) is None  # one level: field names and types of `response`
    deep = compare(base, changed, deep=True)
    assert deep is not None and (deep.what, deep.expected, deep.got) == ("type of .a.b", "number", "string")
    missing = compare(base, answer('{"message":"OK","response":{},"statusCode":200}'))
    assert missing is not None and missing.what == "field .a"


def test_a_young_stream_answered_at_once_differs_from_the_captured_warm_up() -> None:
    """The issue's example of a broken emulator: the young stream's master answered at once, where the real
    v0.20.0 refused it (404), answered one 201, then held the requests until the first segment."""
    require_samples()
    captured = read_recording(SAMPLES / "v0.20.0-media").observations["llhls-warmup/timeline"]
    at_once = parse(
        "\n".join(f"master    sent={t:5.2f}s answered={t + 0.01:5.2f}s status=200" for t in (0.0, 0.25, 0.5)),
        "llhls-warmup/timeline",
    )
    difference = compare(captured, at_once)
    assert difference is not None and difference.what == "master sequence"
    assert difference.expected.startswith("refused 404 → 201 → held") and difference.got == "at once"
    # The same timeline without its 201 (missed between two polls, as on v0.21.0) still agrees.
    without_201 = Observation(
        captured.key, "timeline", timeline=[e for e in captured.timeline if e.status != 201]
    )
    assert compare(captured, without_201) is None


# -- an edge before and after a viewer (record --edge) --------------------------------------------------

def test_record_an_edge_before_and_after_a_viewer(run_cli, tmp_path: Path) -> None:
    """An emulated origin with a live stream and its edge (emulator/edge.py): `record --edge` sees the edge
    hold nothing before the viewer, refuse the LL-HLS request without pulling, pull on request_offer, then
    list the relayed stream — as samples/v0.20.0-media/edge/ — and touches nothing on the origin."""
    from ome_harness.emulator.edge import EdgeOrigin
    from ome_harness.recording.fidelity import against_emulator

    quiet = {"hosts": ("127.0.0.1",), "token": TOKEN, "rtmp_port": None, "srt_port": None}
    out = tmp_path / "rec"
    with EmulatorServer(EmulatorSettings(llhls_port=None, **quiet)) as origin:
        origin.state.add_stream("probe1")
        edge_settings = EmulatorSettings(edge_of=EdgeOrigin(origin.url, TOKEN), **quiet)
        with EmulatorServer(edge_settings) as edge:
            playback = f"127.0.0.1:{edge.llhls_port}"
            recorded = run_cli(
                "record", "--api-url", f"http://127.0.0.1:{origin.port}", "--out", str(out), "--only", "edge",
                "--edge", f"edge-1=http://127.0.0.1:{edge.port},llhls=http://{playback},webrtc=ws://{playback}",
                env={"OMH_API__TOKEN": TOKEN}, timeout=120,
            )
        assert recorded.code == 0, recorded.output
        assert [s.name for s in origin.state.streams("default", "app")] == ["probe1"]  # nothing published
    manifest = json.loads((out / "recording.json").read_text())
    assert [(p["name"], p["outcome"]) for p in manifest["procedures"]] == [("edge", "done")]
    assert manifest["edge"]["name"] == "edge-1"
    assert set(manifest["edge"]["ports"]) == {"api", "llhls", "webrtc"}
    rec = read_recording(out)

    def response(step: str):  # noqa: ANN202
        return json.loads(rec.observations[f"edge/{step}"].body).get("response")

    assert response("vhost")["origins"]["origin"][0]["pass"]["scheme"] == "ovt"
    assert response("apps-before-any-viewer") == [] and response("apps-after-llhls-viewer") == []
    assert rec.observations["edge/streams-before-any-viewer"].status == 404
    assert rec.observations["edge/llhls-before-pull"].status == 404
    offer = json.loads(rec.observations["edge/webrtc-request-offer"].text.removeprefix("reply: "))
    assert offer["command"] == "offer" and offer["sdp"] == "<sdp>"
    assert response("apps-after-webrtc-viewer") == ["app"]
    assert response("streams-after-webrtc-viewer") == ["probe1"]
    assert response("stream-detail-after-pull")["input"]["sourceType"] == "Ovt"
    assert rec.observations["edge/stats-stream-after-pull"].status == 200
    after = rec.observations["edge/llhls-after-pull"]
    assert after.status == 404 and after.elapsed_s is not None and after.elapsed_s > 4  # held, as captured
    assert rec.observations["edge/log-pull"].text.startswith("not recorded")
    # The recording against the emulator's own pair: every answer agrees; the log cannot be compared.
    report = against_emulator(rec, deep=True)
    assert {f.key for f in report.findings if f.verdict != "agree"} == {"edge/log-pull"}, report.findings


def test_without_an_edge_the_edge_procedure_is_not_run_and_two_are_refused(run_cli, tmp_path: Path) -> None:
    with _emulator() as server:
        recorded = _record(run_cli, server, tmp_path / "rec", "--only", "edge")
    assert recorded.code == 0, recorded.output
    run = json.loads((tmp_path / "rec" / "recording.json").read_text())["procedures"][0]
    assert run["outcome"] == "not run" and run["reason"].startswith("needs an edge: --edge NAME=API_URL")
    two = run_cli("record", "--api-url", "http://127.0.0.1:1", "--out", str(tmp_path / "two"),
                  "--edge", "a=http://127.0.0.1:2", "--edge", "b=http://127.0.0.1:3")
    assert two.code == 2 and "one edge per recording" in two.stderr, two.output
