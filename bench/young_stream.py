"""Time to first playlist and first part for a viewer that joins a young stream — AGAINST THE EMULATOR.

Each round starts a fresh ffmpeg publish over RTMP and, at the same moment, an `LlhlsViewer` on its
master (the way a player opened with the stream): the viewer meets 404, then `201 Created`, then held
requests (the emulator reproduces real OME's warm-up, llhls_warmup_timeline.txt). Its figures are set
against what the real OME v0.20.0 capture shows for the same 6 s segments (master answered at 7.0 s,
first chunklist at 13.0 s after the publish began, same-run reference: none; the capture is the
baseline), so the ratio says how faithful the emulator's timeline is, not how fast anything is.

    python bench/young_stream.py [--segment 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_support import TOKEN, llhls_url, rtmp_url  # noqa: E402

from ome_harness.emulator import EmulatorServer, EmulatorSettings  # noqa: E402
from ome_harness.media.encoder import FfmpegEncoder  # noqa: E402
from ome_harness.playback.llhls_viewer import LlhlsViewer  # noqa: E402

# Real OME v0.20.0, 6 s segments, publish at t=0 (samples/v0.20.0-media/playback/llhls_warmup_timeline.txt).
CAPTURED = {"time_to_first_master_s": 7.0, "time_to_first_playlist_s": 13.0}


def one_round(segment_s: float, index: int) -> dict[str, float]:
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=segment_s)
    with EmulatorServer(settings) as server:
        name = f"young{index}"
        viewer = LlhlsViewer(llhls_url(server, name), segment_s=segment_s)
        with FfmpegEncoder(rtmp_url(server, name)), viewer:
            viewer.watch(1.0)
            return viewer.figures()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segment", type=float, default=6.0,
                        help="LL-HLS segment duration (s); OME's default 6")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.segment, i) for i in range(args.rounds)]
    print(f"emulator, {args.segment:g} s segments, 0.5 s parts, {args.rounds} rounds (median):")
    for key in ("time_to_first_master_s", "time_to_first_playlist_s", "time_to_first_part_s"):
        values = [r[key] for r in rounds if key in r]
        median = statistics.median(values) if values else float("nan")
        line = f"  {key}: {median:.2f} s (range {min(values):.2f}–{max(values):.2f})"
        if key in CAPTURED and args.segment == 6.0:
            line += f"; real OME v0.20.0 capture {CAPTURED[key]:.1f} s, ratio {median / CAPTURED[key]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
