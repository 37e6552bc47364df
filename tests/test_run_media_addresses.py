"""`run --target url` publishes where the OME takes media or refuses in one line; never OME's default ports.

The OMEs here are emulators on ports that are not OME's defaults (API, RTMP and LL-HLS all elsewhere), as
in a deployment whose API is on an internal port and whose ingest is behind other names.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from media_support import free_ports, free_udp_port
from ome_samples import TOKEN

from ome_harness.config import ConfigError, load_config
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError
from ome_harness.polling import Ready, poll_until
from ome_harness.target.base import OmeTarget, attach_target
from ome_harness.target.media_addresses import MediaAddressUnknown, MediaNotOffered
from ome_harness.testing import require

PUBLISHING = "media and not backend"
RTMP_LISTED = "Ingest: A stream published over RTMP is listed with its tracks"
CUE_IN_LLHLS = "SCTE-35 cues: A cue-out on a live stream shows in the LL-HLS output"


class EmulatorProcess:
    """`ome-harness emulator --port X --rtmp-port Y --llhls-port Z` in a subprocess, as a user starts it."""

    def __init__(self) -> None:
        self.api, self.rtmp, self.llhls = free_ports(3)
        # SRT's default (9999/udp) too would collide with any other emulator started the same way.
        self.srt = free_udp_port()
        self.url = f"http://127.0.0.1:{self.api}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ome_harness", "emulator", "--host", "127.0.0.1",
             "--port", str(self.api), "--rtmp-port", str(self.rtmp), "--llhls-port", str(self.llhls),
             "--srt-port", str(self.srt), "--token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self) -> None:
        def answers() -> Ready[str] | str:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the emulator exited ({self.process.returncode}): {self.process.stderr.read()}"
                )
            try:
                with OmeClient(self.url, TOKEN, connect_timeout=0.5, read_timeout=1) as client:
                    return Ready(client.version().version)
            except OmeError as exc:
                return str(exc)
        poll_until(answers, deadline_s=15, interval_s=0.1, what=f"the emulator at {self.url}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def emulator_elsewhere() -> Iterator[EmulatorProcess]:
    emulator = EmulatorProcess()
    try:
        emulator.wait_ready()
        yield emulator
    finally:
        emulator.stop()


def results(out: Path) -> dict[str, dict]:
    data = json.loads((out / "results.json").read_text())
    return {r["title"]: r for r in data["results"] if r["kind"] == "scenario"}  # not the diagnosis checks


def url_run(emulator_url: str, out: Path, *more: str) -> tuple[str, ...]:
    return ("run", "--target", "url", "--api-url", emulator_url, "--token", TOKEN, "--allow-mutating",
            "--out", str(out), *more)


def test_run_refuses_in_one_line_when_the_ingest_address_is_unknown(
        run_cli, tmp_path: Path, emulator_elsewhere: EmulatorProcess) -> None:
    run = run_cli(*url_run(emulator_elsewhere.url, tmp_path / "out", "-m", "media"))
    assert run.code == 2, run.output
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "RTMP ingest address of this OME is unknown" in lines[0]
    assert "--rtmp-url rtmp://HOST:PORT" in lines[0]
    assert "-m 'not media'" in lines[0]
    assert "passed" not in run.stdout and not (tmp_path / "out" / "results.json").exists()


def test_run_publishes_to_the_given_rtmp_and_llhls_addresses(
        run_cli, tmp_path: Path, emulator_elsewhere: EmulatorProcess) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish (apt-get install -y ffmpeg)")
    out = tmp_path / "out"
    run = run_cli(*url_run(emulator_elsewhere.url, out, "-m", PUBLISHING,
                           "-k", "rtmp_is_listed or llhls_output",
                           "--rtmp-url", f"rtmp://127.0.0.1:{emulator_elsewhere.rtmp}",
                           "--llhls-url", f"http://127.0.0.1:{emulator_elsewhere.llhls}/"))
    assert run.code == 0, run.output[-3000:]
    found = results(out)
    assert found[RTMP_LISTED]["status"] == "OK" and found[CUE_IN_LLHLS]["status"] == "OK", found
    notes = json.loads((out / "results.json").read_text())["notes"]
    assert any(f"RTMP ingest rtmp://127.0.0.1:{emulator_elsewhere.rtmp} (endpoints.rtmp)" in n for n in notes)


def test_run_takes_the_media_ports_from_a_given_server_xml(
        run_cli, tmp_path: Path, emulator_elsewhere: EmulatorProcess) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish (apt-get install -y ffmpeg)")
    xml = tmp_path / "Server.xml"
    xml.write_text(f"""<Server version="8"><IP>*</IP><Bind>
      <Managers><API><Port>{emulator_elsewhere.api}</Port></API></Managers>
      <Providers><RTMP><Port>${{env:OME_RTMP_PROV_PORT:{emulator_elsewhere.rtmp}}}</Port></RTMP></Providers>
      <Publishers><LLHLS><Port>{emulator_elsewhere.llhls}</Port></LLHLS></Publishers></Bind></Server>""")
    out = tmp_path / "out"
    run = run_cli(*url_run(emulator_elsewhere.url, out, "-m", PUBLISHING, "-k", "RTMP and listed",
                           "--server-xml", str(xml)))
    assert run.code == 0, run.output[-3000:]
    assert results(out)[RTMP_LISTED]["status"] == "OK"


def test_a_publish_into_another_ome_fails_the_scenario_with_omes_words_not_a_crash(
        run_cli, tmp_path: Path) -> None:
    """The API of one OME, the RTMP port of another: the stream is never listed where the harness looks."""
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish (apt-get install -y ffmpeg)")
    settings = {"hosts": ("127.0.0.1",), "token": TOKEN}
    with EmulatorServer(EmulatorSettings(**settings)) as asked, \
            EmulatorServer(EmulatorSettings(**settings)) as other:
        out = tmp_path / "out"
        run = run_cli(*url_run(asked.url, out, "-m", PUBLISHING, "-k", "deleting or rtmp_is_listed",
                               "--rtmp-url", other.target_addresses()["rtmp_base"] or ""),
                      env={"OMH_MEDIA__LISTED_DEADLINE_S": "2"})
    assert run.code == 1, run.output[-3000:]
    failed = [r for r in results(out).values() if r["status"] == "ERROR"]
    assert failed and all("could not be published" in r["summary"] and "did not list" in r["summary"]
                          for r in failed), failed
    assert "AttributeError" not in run.output


def test_test_streams_carry_the_configured_prefix(run_cli, tmp_path: Path) -> None:
    require(shutil.which("ffmpeg") is not None, "needs ffmpeg to publish (apt-get install -y ffmpeg)")
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        published: list[str] = []
        server.state.subscribe(lambda what, stream, where: published.append(stream.name))
        run = run_cli(*url_run(server.url, tmp_path / "out", "-m", PUBLISHING, "-k", "RTMP and listed",
                               "--rtmp-url", server.target_addresses()["rtmp_base"] or "",
                               "--stream-prefix", "ci-team-a-"))
    assert run.code == 0, run.output[-3000:]
    assert published and all(name.startswith("ci-team-a-") for name in published), published


def test_a_url_target_never_assumes_omes_default_media_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMH_ENDPOINTS__RTMP", "OMH_ENDPOINTS__LLHLS", "OMH_CHECKS__SERVER_XML"):
        monkeypatch.delenv(name, raising=False)
    target = attach_target(load_config(None, {"api": {"url": "http://10.0.0.5:18081"}}))
    for build in (target.rtmp_url, target.srt_url, target.llhls_url, target.webrtc_url):
        with pytest.raises(MediaAddressUnknown) as refused:
            build("cam1")
        assert "does not guess" in str(refused.value) and "10.0.0.5" not in str(refused.value)
    monkeypatch.setenv("OMH_ENDPOINTS__RTMP", "rtmps://ingest.example.com:443")
    monkeypatch.setenv("OMH_ENDPOINTS__LLHLS", "https://cdn.example.com/live/")
    target = attach_target(load_config(None, {"api": {"url": "http://10.0.0.5:18081"}}))
    assert target.rtmp_url("cam1") == "rtmps://ingest.example.com:443/app/cam1"
    assert target.llhls_url("cam1") == "https://cdn.example.com/live/app/cam1/llhls.m3u8"


def test_a_media_address_that_is_not_a_base_url_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMH_ENDPOINTS__RTMP", "http://ingest.example.com:1935/app")
    with pytest.raises(ConfigError) as bad:
        load_config(None)
    assert "endpoints.rtmp" in str(bad.value) and "\n" not in str(bad.value)


def test_tag_selection_lists_the_scenarios_it_picked(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = run_cli("run", "--target", "emulator", "--out", str(out), "-m", "streams")
    assert run.code == 0, run.output[-3000:]
    picked = set(results(out))
    notes = json.loads((out / "results.json").read_text())["notes"]
    selection = next(n for n in notes if n.startswith("Selected by -m 'streams':"))
    assert f"{len(picked)} scenario(s)" in selection
    # Each picked title with its tags, @streams among them (a scenario may carry more, e.g. @media).
    assert all(re.search(re.escape(title) + r" \([^)]*@streams\b[^)]*\)", selection) for title in picked), \
        (picked, selection)


class _AppConfigHandler(BaseHTTPRequestHandler):
    """OME's answer for GET /v1/vhosts/default/apps/app (samples/04_app.http's shape) with RTMP left out."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path != "/v1/vhosts/default/apps/app":
            body, status = (
                {"statusCode": 404, "message": "Could not find the application: [default/nope]"},
                404,
            )
        else:
            app = {"name": "app", "type": "live", "dynamic": False,
                   "providers": {"srt": {}, "webrtc": {"timeout": "30000"}},
                   "publishers": {"appWorkerCount": "1", "llhls": {"chunkDuration": "0.5"}}}
            body, status = {"statusCode": 200, "message": "OK", "response": app}, 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_a_protocol_the_apps_config_lacks_is_refused_before_publishing() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AppConfigHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = OmeTarget(kind="url", api_url=f"http://127.0.0.1:{server.server_port}", token=TOKEN,
                           connect_timeout=1, read_timeout=2, rtmp_base="rtmp://127.0.0.1:1")
        with target.client() as client:
            with pytest.raises(MediaNotOffered) as refused:
                target.expect_offered(client, "rtmp")
            assert "has no RTMP ingest (providers: srt, webrtc)" in str(refused.value)
            target.expect_offered(client, "srt")
            target.expect_offered(client, "llhls")
            target.expect_offered(client, "rtmp", app="nope")  # an unknown app says nothing: not refused here
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_broken_server_xml_is_one_line_for_run_and_left_to_its_check_in_a_diagnosis(
        run_cli, tmp_path: Path) -> None:
    broken = tmp_path / "Server.xml"
    broken.write_text("<Server><Bind>")
    run = run_cli("run", "--target", "url", "--api-url", "http://127.0.0.1:9", "--allow-mutating",
                  "--server-xml", str(broken), "-m", "media", "--out", str(tmp_path / "out"))
    assert run.code == 2 and "not valid XML" in run.stderr, run.output
    target = attach_target(load_config(None, {"checks": {"server_xml": broken}}))
    assert target.rtmp_base is None
