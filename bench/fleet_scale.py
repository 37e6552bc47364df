"""Fleet wall time for 1, 10, 100 and 1000 loopback nodes against the slowest single node, and memory.

The nodes are emulated by one EmulatorFleet in a child process (one event loop, one socket per
node), so the diagnosing process pays only its own CPU. `--delay-ms` makes every answer wait, as
a distant OME would (latency-bound); 0 is the CPU-bound case. Run: python bench/fleet_scale.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator.multiport import EmulatorFleet
from ome_harness.fleet import DEFAULT_CONCURRENCY, diagnose_targets_file
from ome_harness.target import OmeTarget

TOKEN = "bench-fleet-token"


def _serve(count: int, delay_s: float, pipe: Connection) -> None:
    fleet = EmulatorFleet()
    nodes = [fleet.add(token=TOKEN) for _ in range(count)]
    for node in nodes:
        node.state.faults.response_delay_s = delay_s
    with fleet:
        pipe.send([n.url for n in nodes])
        pipe.recv()  # until the parent is done


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(count: int, delay_s: float, concurrency: int) -> dict[str, float]:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(count, delay_s, child), daemon=True)
    server.start()
    try:
        urls: list[str] = parent.recv()
        # The slowest single node: each of a sample diagnosed alone, the slowest kept.
        warm = OmeTarget(kind="url", api_url=urls[0], token=TOKEN)
        diagnose(warm, probe_host=False), warm.close()  # imports and first-use costs out of the way
        singles = []
        for url in urls[:: max(1, count // 5)][:5]:
            target = OmeTarget(kind="url", api_url=url, token=TOKEN)
            started = time.perf_counter()
            diagnose(target, probe_host=False)
            singles.append(time.perf_counter() - started)
            target.close()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "targets.yaml"
            path.write_text("targets:\n" + "".join(f'  - {{name: n{i}, api_url: "{u}", token_env: BENCH_TOKEN}}\n'
                                                   for i, u in enumerate(urls)))
            os.environ["BENCH_TOKEN"] = TOKEN
            before = _peak_rss_mb()
            started = time.perf_counter()
            report, _ = diagnose_targets_file(path, concurrency=concurrency, connect_timeout=3, read_timeout=5)
            wall = time.perf_counter() - started
            after = _peak_rss_mb()
        assert len(report.targets) == count and not report.failed, report.failed[:5]
        slowest = max(singles)
        return {"nodes": count, "wall_s": wall, "slowest_single_s": slowest, "ratio": wall / slowest,
                "peak_rss_mb": after, "peak_growth_kb_per_node": (after - before) * 1024 / count}
    finally:
        parent.send("done")
        server.join(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--delay-ms", type=float, default=0.0, help="every answer waits this long")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    for count in args.nodes:
        r = run(count, args.delay_ms / 1000, args.concurrency)
        print(f"nodes={count} delay_ms={args.delay_ms:g} concurrency={args.concurrency} wall={r['wall_s']:.2f}s "
              f"slowest_single={r['slowest_single_s'] * 1000:.0f}ms ratio={r['ratio']:.1f} "
              f"peak_rss={r['peak_rss_mb']:.0f}MB growth_per_node={r['peak_growth_kb_per_node']:.0f}KB", flush=True)


if __name__ == "__main__":
    main()
