"""Viewers per core, CPU per viewer-second and memory per viewer: the harness's Locust viewer against a bare
Locust FastHttpUser making the same requests (bench/bare_llhls_locustfile.py), in the same run, against one
loopback emulator with a live ffmpeg stream.

Rounds alternate the two (the order swapped every round) so the machine's other load falls on both; each
side runs as one Locust process (or a master and `--workers` workers) with the same viewers for the same
window. CPU and resident memory come from /proc for those processes only (the emulator, in this process,
is measured separately: its share limits what one machine shows). The request rate is the stream's, the
same for both (each viewer follows the stream in real time); the requests per viewer-second by kind are
printed to show it. Viewers per core = viewers / (CPU seconds / wall seconds); memory per viewer =
(RSS with N viewers - RSS with 1) / (N - 1).

Run: python bench/load_viewers.py [--viewers 60] [--seconds 15] [--rounds 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.load.runner import LOCUSTFILE
from ome_harness.load.session import LOAD_SIGNAL
from ome_harness.media.publishing import open_publication
from ome_harness.target.base import OmeTarget

TOKEN = "bench-token"
BARE = Path(__file__).with_name("bare_llhls_locustfile.py")
SIDES = {"harness viewer": LOCUSTFILE, "bare FastHttpUser": BARE}
TICKS = os.sysconf("SC_CLK_TCK")
WARM_S = 4.0  # Locust's import and the spawn, before the window opens
KINDS = ("first_playlist", "playlist", "blocking_reload", "part", "segment")


def cpu_and_rss(pid: int) -> tuple[float, int]:
    """(user+system CPU seconds, resident KiB) of one process; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0, 0
    rss = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
    return (int(fields[11]) + int(fields[12])) / TICKS, rss


@dataclass
class Window:
    cpu_s: float  # the Locust processes' CPU over the window
    emulator_cpu_s: float  # this process's (the emulator's threads)
    rss_kib: int  # the Locust processes' resident memory at the end
    requests: dict[str, int]  # by kind, the whole run
    failures: int


def measure(locustfile: Path, host: str, viewers: int, seconds: float, workers: int) -> Window:
    """One run of `viewers` users of `locustfile`: the CPU of its processes over `seconds` once spawned."""
    with tempfile.TemporaryDirectory(prefix="omh-bench-load-") as folder:
        base = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--stream-path",
            "/app/stream/llhls.m3u8",
            "--loglevel",
            "ERROR",
        ]
        main = [
            *base,
            "--headless",
            "--host",
            host,
            "-u",
            str(viewers),
            "-r",
            str(min(viewers, 100)),
            "-t",
            f"{WARM_S + seconds + 1:.0f}s",
            "--only-summary",
            "--csv",
            f"{folder}/run",
            "--stop-timeout",
            "2",
        ]
        commands = [main]
        if workers:
            with socket.socket() as probe:  # a free port for the master, as the harness's runner takes one
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            main += [
                "--master",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--expect-workers",
                str(workers),
            ]
            commands += [
                [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                for _ in range(workers)
            ]
        processes = [
            subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands
        ]
        try:
            time.sleep(WARM_S)
            start = [cpu_and_rss(p.pid)[0] for p in processes]
            emulator_start = time.process_time()
            time.sleep(seconds)
            end = [cpu_and_rss(p.pid) for p in processes]
            emulator_cpu = time.process_time() - emulator_start
        finally:
            for process in processes:
                process.wait(timeout=60)
        requests, failures = dict.fromkeys(KINDS, 0), 0
        with open(f"{folder}/run_stats.csv", newline="") as stats:
            for row in csv.DictReader(stats):
                if row["Name"] in requests:
                    requests[row["Name"]] = int(row["Request Count"])
                    failures += int(row["Failure Count"])
    return Window(
        sum(e[0] for e in end) - sum(start), emulator_cpu, sum(e[1] for e in end), requests, failures
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="0: one Locust process per side")
    parser.add_argument("--only", choices=sorted(SIDES), help="measure one side only (profiling)")
    args = parser.parse_args()
    sides = {args.only: SIDES[args.only]} if args.only else SIDES
    print(
        f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=2.0)
    windows: dict[str, list[Window]] = {label: [] for label in sides}
    memory: dict[str, float] = {}
    with EmulatorServer(settings) as server:
        bases = server.target_addresses()
        target = OmeTarget(
            kind="url",
            api_url=server.url,
            token=TOKEN,
            rtmp_base=bases["rtmp_base"],
            llhls_base=bases["llhls_base"],
        )
        host = bases["llhls_base"] or ""
        with target.client() as client, open_publication(target, client, "stream", settings=LOAD_SIGNAL):
            time.sleep(4)  # a complete segment to join at
            for number in range(args.rounds):
                order = list(sides.items()) if number % 2 == 0 else list(reversed(sides.items()))
                for label, locustfile in order:
                    window = measure(locustfile, host, args.viewers, args.seconds, args.workers)
                    windows[label].append(window)
                    print(
                        f"round {number + 1} {label}: {window.cpu_s / args.seconds:.3f} cores, "
                        f"emulator {window.emulator_cpu_s / args.seconds:.3f} cores, "
                        f"{window.rss_kib / 1024:.0f} MiB, {window.failures} failures",
                        flush=True,
                    )
            for label, locustfile in sides.items():
                one = measure(locustfile, host, 1, 2, args.workers)
                many = statistics.median(w.rss_kib for w in windows[label])
                memory[label] = (many - one.rss_kib) / (args.viewers - 1)
    print(f"load average at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    viewer_seconds = args.viewers * args.seconds
    summary = {}
    for label, runs in windows.items():
        cores = statistics.median(w.cpu_s / args.seconds for w in runs)
        emulator = statistics.median(w.emulator_cpu_s / args.seconds for w in runs)
        run_s = WARM_S + args.seconds + 1
        rates = {k: statistics.median(w.requests[k] for w in runs) / (args.viewers * run_s) for k in KINDS}
        summary[label] = args.viewers / cores
        print(
            f"{label}: {args.viewers / cores:.0f} viewers per core, "
            f"{1000 * cores * args.seconds / viewer_seconds:.2f} ms CPU per viewer-second, "
            f"{memory[label]:.0f} KiB per viewer; emulator {emulator:.2f} cores; requests per viewer-second "
            + " ".join(f"{k}={v:.2f}" for k, v in rates.items())
        )
    if len(summary) == 2:
        ratios = [
            b.cpu_s / h.cpu_s
            for h, b in zip(windows["harness viewer"], windows["bare FastHttpUser"], strict=True)
        ]
        print(
            f"ratio viewers/core harness/bare: median {statistics.median(ratios):.2f} "
            f"(rounds: {' '.join(f'{r:.2f}' for r in ratios)}); memory harness/bare "
            f"{memory['harness viewer'] / memory['bare FastHttpUser']:.2f}"
        )


if __name__ == "__main__":
    main()
