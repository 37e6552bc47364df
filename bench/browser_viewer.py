"""What one browser viewer costs (OvenPlayer + hls.js in Chromium), against ffmpeg decoding the same stream.

One emulator with one ffmpeg publish over RTMP (640x360, 30 fps, AAC). In the same run:
(a) a BrowserViewer plays the LL-HLS master; once its first frame is shown, for `--window` seconds:
    CPU = user+sys of every process of the browser (Chromium's and Playwright's driver, from
    /proc/PID/stat), PSS = the sum of their /proc/PID/smaps_rollup at the window's end;
(b) the same with a second page (another tab) playing the same stream: what a further viewer adds;
(c) the bare way to decode the same stream: `ffmpeg -re -i MASTER -f null -` (software decoding of video
    and audio, as Chromium does here), CPU from RUSAGE_CHILDREN, PSS sampled once a second.
Prints cores (CPU s per wall s) and MiB, and the ratios to ffmpeg.

    python bench/browser_viewer.py [--window 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from media_support import TOKEN, llhls_url, rtmp_url  # noqa: E402

from ome_harness.emulator import EmulatorServer, EmulatorSettings  # noqa: E402
from ome_harness.media.encoder import FfmpegEncoder  # noqa: E402
from ome_harness.playback.browser import BrowserViewer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _descendants(root: int, exclude: set[int]) -> list[int]:
    parents = {int(p.name): s[0] for p in Path("/proc").glob("[0-9]*") if (s := _stat(int(p.name)))}
    found, changed = set(), True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if pid not in found and pid not in exclude and (parent == root or parent in found):
                found.add(pid)
                changed = True
    return sorted(found)


def _pss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _cpu(pids: list[int]) -> dict[int, float]:
    return {pid: s[1] for pid in pids if (s := _stat(pid))}


def _is_driver(pid: int) -> bool:
    try:
        return b"playwright/driver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def browser_cost(url: str, window_s: float, exclude: set[int],
                 pages: int) -> tuple[float, float, float, float]:
    """(first frame s, cores, PSS MiB, of which Playwright's driver MiB) of one browser playing `url` in
    `pages` tabs."""
    with BrowserViewer() as viewer:
        viewer.open(url)
        if not viewer.wait_first_frame(30):
            raise SystemExit(f"no first frame: {viewer.viewing(screenshot=False).problems()}")
        for _ in range(pages - 1):
            viewer.open_another_page(url)
        time.sleep(3 if pages > 1 else 0.5)  # the further tabs start playing
        pids = _descendants(os.getpid(), exclude)
        before, started = _cpu(pids), time.monotonic()
        time.sleep(window_s)
        after, elapsed = _cpu(pids), time.monotonic() - started
        pss, driver = _pss_mib(pids), _pss_mib([p for p in pids if _is_driver(p)])
        first = viewer.viewing(screenshot=False).first_frame_s or 0.0
    cores = sum(after[p] - before.get(p, after[p]) for p in after) / elapsed
    return first, cores, pss, driver


def ffmpeg_cost(url: str, window_s: float) -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_utime + usage.ru_stime
    started = time.monotonic()
    # -re: read at the media's own pace, as a viewer does (else ffmpeg decodes the live window's older
    # segments as fast as it can and ends early).
    proc = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", url,
                             "-t", f"{window_s:g}", "-f", "null", "-"])
    peak = 0.0
    while proc.poll() is None and time.monotonic() - started < window_s + 20:
        peak = max(peak, _pss_mib([proc.pid]))
        time.sleep(1)
    proc.wait(timeout=20)
    elapsed = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime - before) / elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)
    with EmulatorServer(settings) as server, FfmpegEncoder(rtmp_url(server, "bench"), None):
        url = llhls_url(server, "bench")
        time.sleep(8)  # a warm stream: its first segment closed, as for most viewers
        exclude = set(_descendants(os.getpid(), set()))  # the encoder: everything that runs already
        first, one_cores, one_pss, driver = browser_cost(url, args.window, exclude, pages=1)
        _, two_cores, two_pss, _ = browser_cost(url, args.window, exclude, pages=2)
        bare_cores, bare_pss = ffmpeg_cost(url, args.window)
        load = os.getloadavg()[0]
    print(f"load average {load:.1f}; window {args.window:g} s; first frame {first:.2f} s after page load")
    print(f"one browser, one page:   {one_cores:.2f} cores, {one_pss:.0f} MiB PSS "
          f"({driver:.0f} MiB of it Playwright's driver)")
    print(f"one further page:        {two_cores - one_cores:.2f} cores, {two_pss - one_pss:.0f} MiB PSS")
    print(f"ffmpeg decoding it:      {bare_cores:.2f} cores, {bare_pss:.0f} MiB PSS")
    print(f"ratio browser/ffmpeg:    CPU {one_cores / max(bare_cores, 1e-6):.1f}, "
          f"memory {one_pss / max(bare_pss, 1e-6):.1f}")


if __name__ == "__main__":
    main()
