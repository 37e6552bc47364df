"""The LL-HLS viewer's own CPU per viewer-second against plain ffmpeg reading the same stream.

One emulator with one ffmpeg publish over RTMP; in the same run, rounds alternate between
(a) `LlhlsViewer.watch(window)` on this process's main thread (CPU = `time.thread_time()` of that
thread, so the emulator serving it from its own threads is not counted; it downloads every part
and completed segment, and parses every playlist) and
(b) `ffmpeg -i VIDEO_PLAYLIST_URL -c copy -f null -` for the same window (the video chunklist the
master names: the viewer follows that one rendition, so ffmpeg reads the same, not the AAC one beside it)
(CPU = the child's user+sys from
`resource.getrusage(RUSAGE_CHILDREN)`; ffmpeg's HLS demuxer reloads plainly, no blocking reload).
Prints medians in ms of CPU per second of viewing and the ratio.

    python bench/viewer_vs_ffmpeg.py [--window 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_support import TOKEN, llhls_url, rtmp_url  # noqa: E402

from ome_harness.emulator import EmulatorServer, EmulatorSettings  # noqa: E402
from ome_harness.media.encoder import FfmpegEncoder  # noqa: E402
from ome_harness.playback.llhls_viewer import LlhlsViewer  # noqa: E402
from ome_harness.polling import Ready, poll_until  # noqa: E402


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def viewer_round(url: str, window_s: float) -> float:
    before = time.thread_time()
    with LlhlsViewer(url) as viewer:
        viewer.watch(window_s)
    return (time.thread_time() - before) / window_s


def ffmpeg_round(url: str, window_s: float) -> float:
    before = _cpu_children()
    try:
        subprocess.run(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-i",
                url,
                "-t",
                f"{window_s:g}",
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ],
            check=False,
            timeout=window_s + 15,
        )
    except subprocess.TimeoutExpired:
        print("ffmpeg did not finish its window in time (its CPU up to then is counted)", file=sys.stderr)
    return (_cpu_children() - before) / window_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    with EmulatorServer(settings) as server, FfmpegEncoder(rtmp_url(server, "bench")):
        url = llhls_url(server, "bench")

        def served() -> Ready[bool] | str:
            import httpx
            try:
                return Ready(True) if httpx.get(url, timeout=2).status_code == 200 else "not yet"
            except httpx.HTTPError as exc:
                return str(exc)

        poll_until(served, deadline_s=15, what="the bench stream's LL-HLS")
        time.sleep(2.5)  # one closed segment, so ffmpeg's plain-HLS reader has something to start from
        with LlhlsViewer(url) as probe:
            probe.open()
            video_playlist = probe.media_url
        assert video_playlist is not None
        viewer, plain = [], []
        for _ in range(args.rounds):
            viewer.append(viewer_round(url, args.window))
            plain.append(ffmpeg_round(video_playlist, args.window))
    v, f = statistics.median(viewer), statistics.median(plain)
    print(f"viewer: {v * 1000:.1f} ms CPU per viewer-second (rounds: {[round(x * 1000, 1) for x in viewer]})")
    print(
        f"ffmpeg -c copy -f null: {f * 1000:.1f} ms CPU per second (rounds: "
        f"{[round(x * 1000, 1) for x in plain]})"
    )
    print(f"ratio viewer/ffmpeg: {v / f:.2f}" if f else "ffmpeg used no measurable CPU")


if __name__ == "__main__":
    main()
