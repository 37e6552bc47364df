"""Real ffmpeg publishing over RTMP and SRT into the emulator: listing, tracks, stop, DELETE, refusals;
and how OME's view of the tracks is read (an SRT input's warm-up, the tolerances, from the samples)."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from media_support import rtmp_url
from ome_samples import SAMPLES, load

from ome_harness.media.encoder import (
    EncoderExited,
    EncoderSettings,
    FfmpegEncoder,
    FfmpegMissing,
    StreamNotListed,
    publish,
    track_problems,
    unknown_track_facts,
)
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeNotFound
from ome_harness.ome.models import Stream

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media]


def wait_gone(client: OmeClient, name: str, deadline_s: float = 5.0) -> float:
    """Seconds until the stream is gone from the API (DELETE and disconnects are asynchronous)."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        try:
            client.stream("default", "app", name)
        except OmeNotFound:
            if name not in client.streams("default", "app"):
                return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{name} still listed {deadline_s}s later")


def test_rtmp_publish_is_listed_with_the_encoders_tracks_within_the_deadline(ffmpeg, emulator_v020, client_of,
                                                                              stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name,
                 deadline_s=10) as pub:
        assert pub.problems == []
        assert pub.listed_after_s < 5
        source = pub.listed.input
        assert source.source_type == "Rtmp"
        assert source.source_url and source.source_url.startswith("TCP://127.0.0.1:")
        video = pub.listed.tracks_of("Video")[0].video
        audio = pub.listed.tracks_of("Audio")[0].audio
        assert (video.codec, video.width, video.height, video.framerate) == ("H264", 640, 352, 30.0)
        assert (audio.codec, audio.samplerate, audio.channel) == ("AAC", 44100, 1)


def test_track_facts_come_from_the_stream_not_from_defaults(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    settings = EncoderSettings(width=320, height=240, framerate=25, samplerate=48_000, channels=2)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name,
                 settings=settings) as pub:
        assert pub.problems == []
        video = pub.listed.tracks_of("Video")[0].video
        audio = pub.listed.tracks_of("Audio")[0].audio
        assert (video.width, video.height, video.framerate) == (320, 240, 25.0)
        assert (audio.samplerate, audio.channel) == (48_000, 2)


def test_track_mismatch_is_reported_in_words(ffmpeg, emulator_v020, client_of, stream_name):
    from ome_harness.media.encoder import track_problems

    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        expected = EncoderSettings(width=1280, height=720, samplerate=48_000)
        problems = track_problems(pub.listed, expected)
    assert "video 640x352, sent 1280x720" in problems
    assert "audio 44100 Hz, sent 48000" in problems


def test_stream_is_gone_when_the_encoder_stops(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        pub.encoder.stop()
        wait_gone(client, stream_name)


def test_delete_disconnects_the_encoder_and_the_stream_goes_away(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, rtmp_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        client.delete_stream("default", "app", stream_name)
        code = pub.encoder.wait_exit(timeout_s=5)
        assert code not in (None, 0), "ffmpeg must lose its connection when OME drops the stream"
        wait_gone(client, stream_name)
        with pytest.raises(OmeNotFound, match="Could not find the stream"):
            client.delete_stream("default", "app", stream_name)


def test_publish_to_an_unknown_app_is_refused_and_reported_with_ffmpegs_words(ffmpeg, emulator_v020, client_of,
                                                                                stream_name):
    client = client_of(emulator_v020)
    with pytest.raises(EncoderExited) as caught, publish(client, rtmp_url(emulator_v020, stream_name, app="live"), "default", "live", stream_name):
        pass
    message = str(caught.value)
    assert "exited with code" in message
    assert "Could not find the application: [default/live]" in message
    assert client.streams("default", "app") == []


def test_second_publisher_for_a_live_name_is_refused(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    url = rtmp_url(emulator_v020, stream_name)
    with publish(client, url, "default", "app", stream_name), FfmpegEncoder(url) as second:
        assert second.wait_exit(timeout_s=10) not in (None, 0)
        assert "already in use" in second.stderr_tail()


def test_connection_refused_is_reported_with_the_tail_of_ffmpegs_stderr(ffmpeg, emulator_v020, client_of):
    client = client_of(emulator_v020)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EncoderExited, match="Connection refused"), publish(client, f"rtmp://127.0.0.1:{port}/app/x", "default", "app", "x"):
        pass


def test_stream_that_never_shows_up_fails_at_the_deadline_with_what_was_seen(ffmpeg, start_emulator, client_of,
                                                                             stream_name):
    # The encoder publishes to one emulator while the harness watches another: a listing that never comes.
    ingest, watched = start_emulator(), start_emulator()
    client = client_of(watched)
    started = time.monotonic()
    with pytest.raises(StreamNotListed) as caught, publish(client, rtmp_url(ingest, stream_name), "default", "app", stream_name, deadline_s=2):
        pass
    assert time.monotonic() - started < 6
    assert f"did not list default/app/{stream_name} within 2s" in str(caught.value)
    assert "streams listed: none" in str(caught.value)


def test_missing_ffmpeg_is_a_clear_error_with_the_install_hint(monkeypatch, emulator_v020):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FfmpegMissing, match=r"apt-get install -y ffmpeg"):
        FfmpegEncoder(rtmp_url(emulator_v020, "x")).start()


def test_encoder_is_killed_when_the_block_raises(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with pytest.raises(RuntimeError), publish(client, rtmp_url(emulator_v020, stream_name), "default", "app",
                                              stream_name) as pub:
        raise RuntimeError("a failing step")
    assert pub.encoder.returncode is not None



def _after_handshake(server) -> socket.socket:
    port = int(rtmp_url(server, "x").split(":")[2].split("/")[0])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"\x03" + bytes(1536))
    received = b""
    while len(received) < 1 + 2 * 1536:
        chunk = sock.recv(4096)
        assert chunk, "the emulator closed the connection during the handshake"
        received += chunk
    sock.sendall(bytes(1536))  # C2
    return sock


def _closed_by_peer(sock: socket.socket, within_s: float = 5.0) -> bool:
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


@pytest.mark.parametrize("payload", [b"\x00\x80", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00"],
                         ids=["two-byte payload", "size 0", "size 0 with the reserved bit"])
def test_a_malformed_set_chunk_size_ends_the_session_cleanly(emulator_v020, caplog, payload):
    caplog.set_level(logging.ERROR, logger="asyncio")
    with _after_handshake(emulator_v020) as sock:
        # Basic header fmt 0 / chunk stream 2, timestamp 0, length, type 1 (SetChunkSize), message stream 0.
        sock.sendall(b"\x02" + bytes(3) + len(payload).to_bytes(3, "big") + b"\x01" + bytes(4) + payload)
        assert _closed_by_peer(sock), "the emulator kept a session whose chunk size is unusable"
    time.sleep(0.2)
    assert not [r for r in caplog.records if r.name == "asyncio"], [r.getMessage() for r in caplog.records]


def srt_url(server, name: str) -> str:
    return f"{server.target_addresses()['srt_base']}?streamid=default/app/{name}"


def sample_stream(path: str) -> Stream:
    return Stream.model_validate(load(SAMPLES / path).json["response"])


needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


@needs_samples
@pytest.mark.parametrize(("path", "unknown"), [
    ("v0.20.0-media/srt_detail_at_first_listing.http", ["video framerate", "audio samplerate", "audio channel"]),
    ("v0.21.0-media/srt_detail_at_first_listing.http",
     ["video width", "video height", "video framerate", "audio samplerate", "audio channel"]),
    ("v0.20.0-media/srt_detail_after_1s.http", []),
    ("37_stream_srt.http", []),
])
def test_an_srt_input_at_first_listing_is_seen_as_not_yet_known(path, unknown):
    assert unknown_track_facts(sample_stream(path)) == unknown


@needs_samples
@pytest.mark.parametrize("path", ["v0.20.0-media/srt_detail_after_1s.http", "v0.20.0-media/srt_detail_after_6s.http",
                                  "v0.21.0-media/srt_detail_after_2s.http", "31_stream.http"])
def test_omes_filled_tracks_match_a_640x360_30fps_mono_signal_within_tolerance(path):
    # after_1s shows OME's first frame-rate estimate (32.0 for 30 fps); 31_* the 16-aligned height 352.
    assert track_problems(sample_stream(path), EncoderSettings()) == []


@needs_samples
def test_a_frame_rate_beyond_the_estimate_tolerance_is_a_problem():
    settings = EncoderSettings(framerate=25)  # 32.0 is no estimate of 25 fps
    assert track_problems(sample_stream("v0.20.0-media/srt_detail_after_1s.http"), settings) == [
        "video 32 fps, sent 25"]


def test_srt_publish_is_compared_once_omes_tracks_are_filled(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, srt_url(emulator_v020, stream_name), "default", "app", stream_name) as pub:
        assert pub.problems == []
        assert pub.tracks_after_s is not None and 0.5 <= pub.tracks_after_s <= 2.5, pub.tracks_after_s
        assert pub.listed.input.source_type == "SRT"
        assert unknown_track_facts(pub.listed) == []


def test_srt_tracks_never_filled_within_the_deadline_are_reported(ffmpeg, emulator_v020, client_of, stream_name):
    client = client_of(emulator_v020)
    with publish(client, srt_url(emulator_v020, stream_name), "default", "app", stream_name,
                 tracks_deadline_s=0.2) as pub:
        assert pub.tracks_after_s is None
        assert pub.problems[0] == ("OME still showed video framerate, audio samplerate, audio channel as 0 "
                                   "0.2s after listing the stream")
