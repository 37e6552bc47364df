"""The emulator's LL-HLS audio rendition is real AAC in fMP4, timed with the video (a browser needs it).

Real OME serves audio as its own rendition (`chunklist_1_audio_*`, `mp4a.40.2` in
samples/v0.20.0-media/playback/llhls_master.m3u8.http); without audio data a browser's player
never starts the video either (issue 22, measured with hls.js 1.7.4).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import httpx

from ome_harness.testing import require

pytest_plugins = ["playback_fixtures", "media_fixtures"]


def _rendition(master_url: str, kind: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Init section and every listed part (URI, body) of the `kind` rendition."""
    master = httpx.get(master_url, timeout=5).text
    uri = next(u for u in re.findall(r'URI="([^"]+)"', master) + master.splitlines() if f"_{kind}_" in u)
    playlist_url = httpx.URL(master_url).join(uri)
    chunklist = httpx.get(playlist_url, timeout=5).text
    init = httpx.get(playlist_url.join(re.search(r'MAP:URI="([^"]+)"', chunklist).group(1)), timeout=5)
    assert init.status_code == 200
    parts = []
    for part in re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', chunklist):
        answer = httpx.get(playlist_url.join(part), timeout=5)
        assert answer.status_code == 200, (part, answer.status_code)
        parts.append((part.split("?")[0], answer.content))
    return init.content, parts


def _packets(media: bytes) -> tuple[dict[str, object], list[float]]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_name,profile,sample_rate,channels:packet=pts_time", "-of", "json", "-i", "pipe:0"],
        input=media, capture_output=True, timeout=20, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    found = json.loads(done.stdout)
    return found["streams"][0], [float(p["pts_time"]) for p in found["packets"]]


def test_audio_parts_decode_as_the_aac_the_encoder_published_timed_with_the_video(playback):
    require(shutil.which("ffprobe") is not None, "needs ffprobe (apt-get install -y ffmpeg)")
    init, parts = _rendition(playback.master_url, "audio")
    assert b"esds" in init and b"mp4a" in init
    stream, times = _packets(init + b"".join(body for _, body in parts))
    assert (stream["codec_name"], stream["profile"], int(stream["sample_rate"]), stream["channels"]) == \
        ("aac", "LC", playback.settings.samplerate, playback.settings.channels)
    frame_s = 1024 / playback.settings.samplerate
    assert len(times) >= 0.9 * len(parts) * 0.5 / frame_s  # the parts' 0.5 s each, full of frames
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if abs(b - a - frame_s) > 0.001]
    assert gaps == [], f"audio timestamps not contiguous: {gaps[:5]}"
    # The same part of both renditions starts at the same media time (within two AAC frames).
    video_init, video_parts = _rendition(playback.master_url, "video")
    audio_first = {uri.split("_audio_")[0].removeprefix("part_1_"): body for uri, body in parts}
    common = next((uri, body) for uri, body in video_parts
                  if uri.split("_video_")[0].removeprefix("part_0_") in audio_first)
    key = common[0].split("_video_")[0].removeprefix("part_0_")
    _, video_times = _packets(video_init + common[1])
    _, audio_times = _packets(init + audio_first[key])
    assert abs(min(video_times) - min(audio_times)) < 2 * frame_s, (key, video_times[:2], audio_times[:2])
