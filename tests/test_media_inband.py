"""The in-band SCTE-35 path: sections injected into real ffmpeg MPEG-TS, read back, carried over real SRT."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ome_harness.emulator.mpegts import TsDemuxer
from ome_harness.media.encoder import FfmpegMissing
from ome_harness.results import Status
from ome_harness.scte35.inband import InbandCuePublisher
from ome_harness.scte35.insertion import CueSent
from ome_harness.scte35.ts_injection import Scte35Injector
from ome_harness.scte35.verify import read_ts_cues, ts_evidence
from ome_harness.testing import require

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media]


@pytest.fixture
def ts_file(ffmpeg, tmp_path: Path) -> Path:
    """Five seconds of the test signal as MPEG-TS (1 s GOP), encoded as fast as possible."""
    path = tmp_path / "plain.ts"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                    "-f", "lavfi", "-i", "sine", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
                    "-bf", "0", "-c:a", "aac", "-f", "mpegts", str(path)], check=True, timeout=60)
    return path


def _inject(source: Path, target: Path, injector: Scte35Injector) -> None:
    data = source.read_bytes()
    # Odd chunk sizes: the filter must cope with packets split across reads.
    target.write_bytes(b"".join(injector.feed(data[i:i + 1000]) for i in range(0, len(data), 1000)))


def _ffprobe_streams(path: Path) -> list[dict]:
    probe = shutil.which("ffprobe")
    require(probe is not None, "needs ffprobe (part of Debian's ffmpeg package)")
    out = subprocess.run([probe, "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return json.loads(out)["streams"]


def test_an_injected_splice_insert_reads_back_with_threefive_and_ffprobe(ts_file, tmp_path):
    injector = Scte35Injector(pid=0x1F0)
    injector.schedule(4711, 2.5, duration_s=30.0)
    out = tmp_path / "cued.ts"
    _inject(ts_file, out, injector)

    assert out.stat().st_size == ts_file.stat().st_size + 188, "exactly one packet added"
    [inserted] = injector.inserted
    assert inserted.offset_s == pytest.approx(3.0, abs=0.01), "at the first keyframe at or after 2.5 s (GOP 1 s)"
    [facts] = read_ts_cues(out)
    assert (facts.event_id, facts.out_of_network, facts.duration_s) == (4711, True, 30.0)
    assert facts.pts_s == pytest.approx(inserted.pts_s, abs=1e-4), "splice_time is the keyframe's PTS"
    codecs = sorted(s["codec_name"] for s in _ffprobe_streams(out))
    assert codecs == ["aac", "h264", "scte_35"]
    assert sorted(s["codec_name"] for s in _ffprobe_streams(ts_file)) == ["aac", "h264"]


def test_a_transport_stream_without_the_cue_is_reported_absent(ts_file):
    sent = CueSent(event_id=1, out=True, duration_s=None, at=datetime.now(UTC), path="in-band")
    [evidence] = ts_evidence(ts_file, sent, [])
    assert (evidence.state, evidence.detail) == ("absent", "no splice insert section in the transport stream")


def test_a_cue_with_another_id_in_the_stream_is_a_mismatch(ts_file, tmp_path):
    injector = Scte35Injector()
    injector.schedule(2, 1.0, duration_s=10.0)
    out = tmp_path / "other.ts"
    _inject(ts_file, out, injector)
    sent = CueSent(event_id=3, out=True, duration_s=10.0, at=datetime.now(UTC), path="in-band")
    [evidence] = ts_evidence(out, sent, [])
    assert evidence.state == "mismatch" and "event id 2, sent 3" in evidence.detail


def test_the_cue_survives_a_real_srt_transport(ffmpeg, tmp_path):
    received = tmp_path / "received.ts"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # ffmpeg as the SRT listener stands in for OME's SRT provider: it keeps every byte it gets.
    listener = subprocess.Popen([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "data", "-i",
                                 f"srt://127.0.0.1:{port}?mode=listener", "-map", "0", "-c", "copy", "-f", "data",
                                 str(received)], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        with InbandCuePublisher(f"srt://127.0.0.1:{port}?streamid=default/app/inband",
                                capture=tmp_path / "sent.ts") as publisher:
            publisher.schedule_cue(902, 1.0, duration_s=15.0)
            sent = publisher.wait_sent(902, timeout_s=10)
            time.sleep(1.0)
            publisher.check_alive()
    finally:
        listener.terminate()
        listener.wait(timeout=5)
    assert sent.path == "in-band" and sent.duration_s == 15.0
    [evidence] = ts_evidence(received, sent, [])
    assert evidence.state == "found", evidence.detail
    assert evidence.detail == "Splice Insert, event id 902, out of network, break duration 15s"


def test_an_srt_publish_without_a_listener_fails_with_the_senders_words(ffmpeg, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with InbandCuePublisher(f"srt://127.0.0.1:{port}?streamid=default/app/x&connect_timeout=1000") as publisher:
        deadline = time.monotonic() + 15
        while publisher.sender.running and time.monotonic() < deadline:
            time.sleep(0.2)
        with pytest.raises(Exception, match="exited with code") as caught:
            publisher.check_alive()
    assert "srt://127.0.0.1" in str(caught.value)



def test_an_encoder_that_cannot_start_leaves_no_sender_and_no_open_capture(ffmpeg, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    publisher = InbandCuePublisher(f"srt://127.0.0.1:{port}?streamid=default/app/x", capture=tmp_path / "cap.ts")
    publisher.encoder._command = [str(tmp_path / "no-such-ffmpeg")]  # the encoder's start fails after the sender's
    with pytest.raises(FfmpegMissing), publisher:
        pass
    assert publisher.sender.process is not None, "the sender should have started first"
    assert publisher.sender.returncode is not None, "the sender ffmpeg was left running"
    assert publisher._capture_file is not None and publisher._capture_file.closed


def test_an_inband_cue_without_a_trace_is_reported_as_no_evidence_not_as_an_insertion():
    from ome_samples import SAMPLES

    from ome_harness.scte35.verify import assess_cue, parse_chunklist

    chunklist = SAMPLES / "v0.20.0-media" / "cue_2s_chunklist_after_14s.m3u8"  # a real output without any cut
    inband_log = SAMPLES / "v0.21.0-media" / "inband_scte35_ome_log.txt"
    if not chunklist.is_file() or not inband_log.is_file():
        pytest.skip(f"needs the real OME samples {chunklist} and {inband_log}")
    assert "Ignored unsupported or unknown section (table id: 252)" in inband_log.read_text()
    sent = CueSent(event_id=903, out=True, duration_s=10.0, at=datetime(2026, 11, 29, 23, 16, 21, 550_000, UTC),
                   path="in-band")
    result = assess_cue([parse_chunklist(chunklist.read_text(), "video")], sent)
    assert not result.ok and not result.cut_found
    assert result.summary().startswith("no evidence of in-band SCTE-35 cue 903 in the output (OME ignores")
    assert result.to_check_result().status is Status.ERROR


def test_the_diagnosis_never_offers_in_band_scte35_as_a_path():
    from ome_harness.scte35.capability import diagnose_scte35_capability

    for version in ("0.20.0", "0.20.5", "0.21.0", "0.22.0"):
        result = diagnose_scte35_capability(version, segment_s=6)
        assert "in-band" not in result.facts["paths"]
        words = f"{result.summary} {result.remediation}"
        assert "switch to in-band" not in words and "move cue insertion in-band" not in words


def test_the_emulators_ts_reader_ignores_splice_sections_as_ome_logs_them(ts_file, tmp_path):
    # OME's TS depacketizer completes PAT and PMT only and logs each SCTE-35 section as ignored
    # (../shared/samples/v0.21.0-media/inband_scte35_ome_log.txt): the emulator does the same.
    injector = Scte35Injector(pid=0x1F0)
    injector.schedule(4711, 2.5, duration_s=30.0)
    cued = tmp_path / "cued.ts"
    _inject(ts_file, cued, injector)
    ignored: list[int] = []
    demuxer = TsDemuxer()
    demuxer.on_ignored_section = ignored.append
    demuxer.feed(cued.read_bytes())
    assert ignored == [252]
    assert demuxer.tracks.video_codec == "H264" and demuxer.tracks.other_stream_types == {0x86}
