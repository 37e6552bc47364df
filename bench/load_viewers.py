"""Viewers per core and memory per viewer: the harness's Locust viewer vs a bare Locust HttpUser fetching
the same URLs, in the same run, against a loopback emulator with a live ffmpeg stream.

Each user class runs in its own Locust process (one core at most: Locust is single-threaded) for the same
time; CPU time and resident memory are read from /proc for that process only. Viewers per core =
viewers / (CPU seconds / wall seconds); memory per viewer = (RSS with N viewers - RSS with 1) / (N - 1).
Run: python bench/load_viewers.py [--viewers 30] [--seconds 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.load.runner import LOCUSTFILE
from ome_harness.load.session import LOAD_SIGNAL
from ome_harness.media.publishing import open_publication
from ome_harness.target.base import OmeTarget

TOKEN = "bench-token"
BARE = Path(__file__).with_name("bare_llhls_locustfile.py")
TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """(user+system CPU seconds, resident KiB) of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return (int(fields[11]) + int(fields[12])) / TICKS, rss


def measure(locustfile: Path, host: str, viewers: int, seconds: int) -> tuple[float, int]:
    """(CPU seconds per wall second once all viewers run, resident KiB at the end) of one Locust process."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "--host",
            host,
            "-u",
            str(viewers),
            "-r",
            str(viewers),
            "-t",
            f"{seconds + 3}s",
            "--stream-path",
            "/app/stream/llhls.m3u8",
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # Locust's import and the spawn
        cpu_start, _ = cpu_and_rss(process.pid)
        time.sleep(seconds)
        cpu_end, rss = cpu_and_rss(process.pid)
        return (cpu_end - cpu_start) / seconds, rss
    finally:
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    with EmulatorServer(settings) as server:
        bases = server.target_addresses()
        target = OmeTarget(kind="url", api_url=server.url, token=TOKEN, rtmp_base=bases["rtmp_base"],
                           llhls_base=bases["llhls_base"])
        host = bases["llhls_base"] or ""
        with target.client() as client, open_publication(target, client, "stream", settings=LOAD_SIGNAL):
            time.sleep(3)
            rows = {}
            for label, locustfile in (("harness viewer", LOCUSTFILE), ("bare HttpUser", BARE)):
                load, rss_n = measure(locustfile, host, args.viewers, args.seconds)
                _, rss_1 = measure(locustfile, host, 1, 3)
                rows[label] = (args.viewers / load if load else float("inf"),
                               (rss_n - rss_1) / (args.viewers - 1))
    for label, (per_core, kib) in rows.items():
        print(f"{label}: {per_core:.0f} viewers per core, {kib:.0f} KiB per viewer")
    harness, bare = rows["harness viewer"], rows["bare HttpUser"]
    print(f"ratio viewers/core harness/bare={harness[0] / bare[0]:.2f} memory harness/bare="
          f"{harness[1] / bare[1]:.2f}")


if __name__ == "__main__":
    main()
