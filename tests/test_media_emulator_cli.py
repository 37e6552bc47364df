"""`ome-harness emulator` as a user starts it: ports from flags or Server.xml, a real ffmpeg publishing into
it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media_support import free_ports, free_udp_port

from ome_harness.media.encoder import publish
from ome_harness.ome.client import OmeClient
from ome_harness.playback.llhls_viewer import LlhlsViewer

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media]
TOKEN = "cli-media-token"

SERVER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Server version="8">
  <Name>OvenMediaEngine</Name>
  <IP>*</IP>
  <Bind>
    <Managers><API><Port>{api}</Port></API></Managers>
    <Providers><RTMP><Port>${{env:OME_RTMP_PROV_PORT:{rtmp}}}</Port></RTMP><SRT><Port>{srt}</Port></SRT></Providers>
    <Publishers><LLHLS><Port>{llhls}</Port></LLHLS></Publishers>
  </Bind>
  <Managers><Host><Names><Name>*</Name></Names></Host><API><AccessToken>{token}</AccessToken></API></Managers>
</Server>
"""


def wait_port(port: int, deadline_s: float = 15) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {deadline_s}s")


@pytest.fixture
def emulator_from_server_xml(tmp_path: Path):
    api, rtmp, llhls = free_ports(3)
    srt = free_udp_port()
    xml = tmp_path / "Server.xml"
    xml.write_text(SERVER_XML.format(api=api, rtmp=rtmp, srt=srt, llhls=llhls, token=TOKEN), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMH_", "OME_"))}
    proc = subprocess.Popen([sys.executable, "-m", "ome_harness", "emulator", "--server-xml", str(xml)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for port in (api, rtmp, llhls):
            wait_port(port)
        yield api, rtmp, llhls, srt
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_the_emulator_command_takes_rtmp_and_llhls_ports_from_server_xml(ffmpeg, emulator_from_server_xml):
    api, rtmp, llhls, _srt = emulator_from_server_xml
    with OmeClient(f"http://127.0.0.1:{api}", TOKEN) as client, \
            publish(client, f"rtmp://127.0.0.1:{rtmp}/app/clicam", "default", "app", "clicam") as pub:
        assert pub.problems == []
        # A young stream: 404/201/held first playlists, as real OME (the viewer waits them out).
        with LlhlsViewer(f"http://127.0.0.1:{llhls}/app/clicam/llhls.m3u8", segment_s=6.0) as viewer:
            viewer.open()
        assert viewer.master_text.startswith("#EXTM3U")
        assert "/app/clicam/chunklist_0_video_" in viewer.master_text


def test_a_busy_media_port_is_one_line_and_exit_code_2(run_cli):
    srt = free_udp_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        api, llhls = free_ports(2)
        result = run_cli("emulator", "--host", "127.0.0.1", "--port", str(api), "--rtmp-port", str(port),
                         "--srt-port", str(srt), "--llhls-port", str(llhls), timeout=30)
    assert result.code == 2
    assert (f"cannot listen on one of the ports (API {api}, RTMP {port}, SRT {srt}/udp, LL-HLS {llhls}): "
            "Address already in use") in result.stderr
    # Refused before it says it serves: the start line comes only once every port is bound.
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output, result.stderr


def test_the_emulator_command_takes_the_srt_port_from_server_xml(ffmpeg, emulator_from_server_xml):
    api, _rtmp, _llhls, srt = emulator_from_server_xml
    with (
        OmeClient(f"http://127.0.0.1:{api}", TOKEN) as client,
        publish(
            client, f"srt://127.0.0.1:{srt}?streamid=default/app/srtcam", "default", "app", "srtcam"
        ) as pub,
    ):
        assert pub.problems == []
        assert pub.listed.input.source_type == "SRT"


def test_a_busy_srt_port_is_one_line_and_exit_code_2(run_cli):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        srt = busy.getsockname()[1]
        api, rtmp, llhls = free_ports(3)
        result = run_cli("emulator", "--host", "127.0.0.1", "--port", str(api), "--rtmp-port", str(rtmp),
                         "--srt-port", str(srt), "--llhls-port", str(llhls), timeout=30)
    assert result.code == 2
    assert f"SRT {srt}/udp, LL-HLS {llhls}): cannot bind SRT on 127.0.0.1:{srt}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output, result.stderr


def test_port_0_flags_take_free_ports_and_the_start_line_names_them(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMH_", "OME_"))}
    proc = subprocess.Popen([sys.executable, "-m", "ome_harness", "emulator", "--host", "127.0.0.1",
                             "--token", TOKEN, "--port", "0", "--rtmp-port", "0", "--srt-port", "0",
                             "--llhls-port", "0"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        ports = [int(n) for n in re.findall(r"(?:127\.0\.0\.1:|port )(\d+)", line)]
        assert len(ports) == 4 and 0 not in ports and not {8081, 1935, 9999, 3333} & set(ports), line
        api, rtmp, _srt, llhls = ports
        for port in (rtmp, llhls):
            wait_port(port)
        with OmeClient(f"http://127.0.0.1:{api}", TOKEN) as client:
            assert client.version() is not None  # the API really answers on the port it named
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130  # the README's exit code for SIGINT
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
