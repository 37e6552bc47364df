"""The emulator's SRT ingest against real ffmpeg over real SRT, and its warm-up against the captured
real-OME samples (`../shared/samples/v0.20.0-media/srt_detail_*`, `v0.21.0-media/srt_detail_*`)."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from media_support import TOKEN
from ome_samples import SAMPLES, load

from ome_harness.emulator import EmulatorServer
from ome_harness.emulator.srt import parse_streamid
from ome_harness.media.encoder import EncoderExited, EncoderSettings, FfmpegEncoder
from ome_harness.polling import Ready, poll_until

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media]

WARMUP = {  # version: (sample at first listing, sample once filled)
    "0.20.0": ("v0.20.0-media/srt_detail_at_first_listing.http", "v0.20.0-media/srt_detail_after_6s.http"),
    "0.21.0": ("v0.21.0-media/srt_detail_at_first_listing.http", "v0.21.0-media/srt_detail_after_2s.http"),
}


def srt_url(server: EmulatorServer, name: str, app: str = "app") -> str:
    return f"{server.target_addresses()['srt_base']}?streamid=default/{app}/{name}"


def api(server: EmulatorServer) -> httpx.Client:
    auth = "Basic " + base64.b64encode(TOKEN.encode()).decode()
    return httpx.Client(base_url=server.url, headers={"Authorization": auth}, timeout=5)


def detail(client: httpx.Client, name: str) -> dict[str, Any] | None:
    answer = client.get(f"/v1/vhosts/default/apps/app/streams/{name}")
    return answer.json()["response"] if answer.status_code == 200 else None


def wait_for(check: Callable[[], Any], what: str, deadline_s: float = 10.0, interval_s: float = 0.05) -> Any:
    return poll_until(lambda: Ready(v) if (v := check()) else None, deadline_s=deadline_s, what=what,
                      interval_s=interval_s)


def track_shapes(stream: dict[str, Any]) -> dict[str, Any]:
    """Each track's keys by where and what it is (not its id: OME numbers Data tracks differently per run)."""
    def keys(track: dict[str, Any]) -> tuple[str, ...]:
        media = track.get("video") or track.get("audio") or track.get("data") or {}
        return tuple(sorted(track)) + tuple(sorted(media))

    shapes = {f"input {t['type']}": keys(t) for t in stream["input"]["tracks"]}
    for output in stream["outputs"]:
        shapes |= {f"output {t['name']}": keys(t) for t in output["tracks"]}
    return shapes


def figures(stream: dict[str, Any]) -> dict[str, Any]:
    """The warm-up figures: what a real OME shows as 0 at first listing and fills in later."""
    tracks = {t["type"]: t for t in stream["input"]["tracks"]}
    video, audio = tracks["Video"]["video"], tracks["Audio"]["audio"]
    return {
        "order": [t["type"] for t in stream["input"]["tracks"]],
        "sourceType": stream["input"]["sourceType"],
        "width": video["width"],
        "height": video["height"],
        "framerate": video["framerate"],
        "samplerate": audio["samplerate"],
        "channel": audio["channel"],
        "outputs": len(stream["outputs"]),
    }


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")
@pytest.mark.parametrize("version", sorted(WARMUP))
def test_an_srt_stream_warms_up_like_the_captured_real_ome(ffmpeg, start_emulator, version):
    first_sample, filled_sample = (load(SAMPLES / path).json["response"] for path in WARMUP[version])
    server = start_emulator(version=version)
    with api(server) as client, FfmpegEncoder(srt_url(server, "srtwarm")) as encoder:
        first = wait_for(lambda: detail(client, "srtwarm"), "the SRT stream to be listed")
        connected_for = time.monotonic() - (encoder.started_at or 0)
        filled = wait_for(lambda: (d := detail(client, "srtwarm")) and d["outputs"] and d, "outputs", 8)
    assert track_shapes(first) == track_shapes(first_sample)
    assert track_shapes(filled) == track_shapes(filled_sample)
    # Zero where the real OME shows zero at first listing (v0.21.0: the size too), filled afterwards.
    assert figures(first) == figures(first_sample)
    assert figures(filled) | {"framerate": 30.0} == figures(filled_sample)
    assert abs(figures(filled)["framerate"] - 30) <= 2  # an estimate (32.0 in srt_detail_after_1s)
    assert first["input"]["sourceUrl"].startswith("SRT://127.0.0.1:")
    assert first["input"]["sourceUrl"].endswith("/srt") == (version == "0.21.0")
    assert connected_for >= 0.9, "listed before OME would (~0.9 s after the connect)"


def test_tracks_fill_about_a_second_after_the_first_listing(ffmpeg, emulator_v020):
    with api(emulator_v020) as client, FfmpegEncoder(srt_url(emulator_v020, "cam")):
        wait_for(lambda: detail(client, "cam"), "the SRT stream to be listed")
        listed = time.monotonic()
        wait_for(lambda: (d := detail(client, "cam")) and figures(d)["samplerate"], "the tracks to fill", 5)
        filled_after = time.monotonic() - listed
    assert 0.7 <= filled_after <= 1.6, f"tracks filled {filled_after:.2f}s after listing (OME: ~1 s)"


def test_several_publishers_are_kept_apart_by_streamid_with_their_own_bytes(ffmpeg, emulator_v020):
    small = EncoderSettings(video_bitrate=200_000)
    with api(emulator_v020) as client, FfmpegEncoder(srt_url(emulator_v020, "one"), small), \
            FfmpegEncoder(srt_url(emulator_v020, "two")):
        wait_for(
            lambda: (
                {"one", "two"} <= set(client.get("/v1/vhosts/default/apps/app/streams").json()["response"])
            ),
            "both streams to be listed",
        )
        time.sleep(2.5)
        counted = {name: client.get(f"/v1/stats/current/vhosts/default/apps/app/streams/{name}")
                   .json()["response"]["totalBytesIn"] for name in ("one", "two")}
        ports = {detail(client, name)["input"]["sourceUrl"] for name in ("one", "two")}
    assert len(ports) == 2, "each publisher names its own connection"
    # Real bytes, not a simulation: the 564 kbit/s publisher has sent clearly more than the 264 kbit/s one.
    assert counted["one"] > 50_000 and counted["two"] > counted["one"] * 1.4, counted


def test_a_publish_into_an_unknown_application_is_refused(ffmpeg, emulator_v020):
    with FfmpegEncoder(srt_url(emulator_v020, "cam", app="omh-no-such-app"), duration_s=5) as encoder:
        code = encoder.wait_exit(8)
    assert code not in (None, 0), "the SRT caller was taken into an application OME does not have"
    assert emulator_v020.state.all_streams() == []


def test_a_second_publisher_for_a_live_name_is_refused(ffmpeg, emulator_v020):
    with api(emulator_v020) as client, FfmpegEncoder(srt_url(emulator_v020, "cam")) as first:
        wait_for(lambda: detail(client, "cam"), "the SRT stream to be listed")
        with FfmpegEncoder(srt_url(emulator_v020, "cam"), duration_s=5) as second:
            assert second.wait_exit(8) not in (None, 0)
        first.check_alive()


def test_delete_disconnects_the_srt_encoder(ffmpeg, emulator_v020):
    with api(emulator_v020) as client, FfmpegEncoder(srt_url(emulator_v020, "cam")) as encoder:
        wait_for(lambda: detail(client, "cam"), "the SRT stream to be listed")
        assert client.delete("/v1/vhosts/default/apps/app/streams/cam").status_code == 200
        assert encoder.wait_exit(5) is not None, "the SRT encoder still publishes 5 s after DELETE"
        with pytest.raises(EncoderExited):
            encoder.check_alive()
        wait_for(lambda: detail(client, "cam") is None, "the stream to be gone", 5)


def test_the_stream_is_gone_when_the_srt_encoder_stops(ffmpeg, emulator_v020):
    with api(emulator_v020) as client:
        with FfmpegEncoder(srt_url(emulator_v020, "cam")):
            wait_for(lambda: detail(client, "cam"), "the SRT stream to be listed")
        wait_for(lambda: detail(client, "cam") is None, "the stream to be gone", 5)


def test_srt_is_served_on_the_same_loopback_as_the_api(emulator_v020):
    port = emulator_v020.srt_port
    assert port and emulator_v020.target_addresses()["srt_base"] == f"srt://127.0.0.1:{port}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, pytest.raises(OSError):
        probe.bind(("127.0.0.1", port))  # the SRT listener holds the UDP port


@pytest.mark.parametrize(("streamid", "expected"), [
    ("default/app/cam", ("default", "app", "cam")), ("/default/app/cam/", ("default", "app", "cam")),
    ("default/app", None), ("default//cam", None), ("", None),
])
def test_streamid_follows_omes_vhost_app_stream_convention(streamid, expected):
    assert parse_streamid(streamid) == expected


def test_an_srt_publish_plays_over_llhls_with_segments_cut_at_its_keyframes(ffmpeg, start_emulator):
    server = start_emulator(version="0.20.0", llhls_segment_s=1.0, llhls_part_s=0.5)
    base = server.target_addresses()["llhls_base"]
    with api(server) as client, FfmpegEncoder(srt_url(server, "cam")):
        wait_for(lambda: detail(client, "cam"), "the SRT stream to be listed")
        # The playlist exists once the first segment does (a moment after the listing on a busy machine).
        master = wait_for(lambda: (m := httpx.get(f"{base}/app/cam/llhls.m3u8", timeout=5)).status_code == 200
                          and m, "the LL-HLS master playlist", 10)
        assert master.text.startswith("#EXTM3U"), master.text
        # The master's URIs are absolute paths (follow them, never build them: ome-api.md).
        chunklist = next(
            line for line in master.text.splitlines() if line.startswith("/") and "video" in line
        )
        playlist = wait_for(lambda: (t := httpx.get(f"{base}{chunklist}", timeout=5).text).count(
            "#EXTINF") >= 3 and t, "segments from the SRT input's keyframes", 10)
    durations = [float(line.split(":")[1].rstrip(",")) for line in playlist.splitlines()
                 if line.startswith("#EXTINF")]
    # The first segment starts with the first frame after the listing; the next ones at its 1 s keyframes.
    assert all(0.9 <= d <= 1.1 for d in durations[1:3]), durations


def test_without_libsrt_the_emulator_still_serves_and_says_why_srt_cannot_run(monkeypatch, start_emulator):
    import ctypes.util

    from ome_harness.emulator import libsrt
    from ome_harness.media.publishing import srt_unavailable
    from ome_harness.target.base import OmeTarget

    monkeypatch.setattr(libsrt, "_lib", None)
    monkeypatch.setattr(libsrt, "_CANDIDATES", ("libomh-no-such-srt.so.1",))
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    server = start_emulator()
    assert server.target_addresses()["srt_base"] is None and server.rtmp_port
    target = OmeTarget(kind="emulator", api_url=server.url, token=TOKEN, emulator=server,
                       **server.target_addresses())
    reason = srt_unavailable(target)
    assert reason and "apt-get install -y libsrt1.5-gnutls" in reason
    with api(server) as client:
        assert client.get("/v1/vhosts").status_code == 200
