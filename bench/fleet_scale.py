"""Fleet wall time for 1, 10, 100 and 1000 loopback nodes against the slowest single node, and memory.

The nodes are emulated by one EmulatorFleet in a child process (one event loop, one socket per
node), so the diagnosing process pays only its own CPU. `--delay-ms` makes every answer wait, as
a distant OME would (latency-bound); 0 is the CPU-bound case. Run: python bench/fleet_scale.py

In the same run, against the same fleet, the FLOOR: the best bare way to make the same requests
(diagnose_vs_raw.PATHS and the wrong-token probe after one TCP connect, one keep-alive client
per node) to every node, fanned out two ways: threads (as many as the fleet's concurrency) and one
asyncio loop (httpx.AsyncClient, the same bound); the faster is the floor. It shows how far any
Python client gets on this machine, and the harness is given as a ratio to it.

The CPU of the harness's run (all its threads) and of the fleet answering it is printed beside the
CPU the goal leaves (2 × the slowest node, on every core): on loopback both sides share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import resource
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from diagnose_vs_raw import PATHS

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator.multiport import EmulatorFleet
from ome_harness.fleet import DEFAULT_CONCURRENCY, diagnose_targets_file
from ome_harness.target import OmeTarget

TOKEN = "bench-fleet-token"
GOOD = {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}
WRONG = {"Authorization": "Basic " + base64.b64encode(b"wrong").decode()}


# Built once and given to every node's client: httpx would otherwise load the certificate store for
# each client (~20 ms apiece here), a handicapped floor. One client shared by all nodes is slower
# still (its single pool is searched and locked for every request: 5 s for 100 nodes, measured).
TLS = httpx.create_ssl_context()


def _floor_node(url: str) -> None:
    """One node, bare: a TCP connect, then diagnose's requests on one keep-alive client."""
    where = urlsplit(url)
    socket.create_connection((where.hostname, where.port), timeout=3).close()
    with httpx.Client(base_url=url, headers=GOOD, timeout=5, verify=TLS, trust_env=False) as client:
        for path in PATHS:
            client.get(path).json()
        client.get("/v1/vhosts", headers=WRONG).json()


def floor_threads(urls: list[str], concurrency: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(concurrency, len(urls))) as pool:
        list(pool.map(_floor_node, urls))
    return time.perf_counter() - started


async def _floor_node_async(url: str, bound: asyncio.Semaphore) -> None:
    where = urlsplit(url)
    async with bound:
        _, writer = await asyncio.wait_for(asyncio.open_connection(where.hostname, where.port), 3)
        writer.close()
        await writer.wait_closed()
        async with httpx.AsyncClient(base_url=url, headers=GOOD, timeout=5, verify=TLS,
                                     trust_env=False) as client:
            for path in PATHS:
                (await client.get(path)).json()
            (await client.get("/v1/vhosts", headers=WRONG)).json()


def floor_asyncio(urls: list[str], concurrency: int) -> float:
    """One loop, at most `concurrency` nodes in flight."""
    async def fan_out() -> None:
        bound = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(_floor_node_async(url, bound) for url in urls))

    started = time.perf_counter()
    asyncio.run(fan_out())
    return time.perf_counter() - started


def _serve(count: int, delay_s: float, pipe: Connection) -> None:
    fleet = EmulatorFleet()
    nodes = [fleet.add(token=TOKEN) for _ in range(count)]
    for node in nodes:
        node.state.faults.response_delay_s = delay_s
    with fleet:
        pipe.send([n.url for n in nodes])
        while pipe.recv() == "cpu":  # until the parent is done
            pipe.send(time.process_time())


def _server_cpu(pipe: Connection) -> float:
    """CPU seconds the fleet's process has used so far."""
    pipe.send("cpu")
    return pipe.recv()


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
            path.write_text(
                "targets:\n"
                + "".join(
                    f'  - {{name: n{i}, api_url: "{u}", token_env: BENCH_TOKEN}}\n'
                    for i, u in enumerate(urls)
                )
            )
            os.environ["BENCH_TOKEN"] = TOKEN
            before = _peak_rss_mb()
            server_cpu = _server_cpu(parent)
            own_cpu, started = time.process_time(), time.perf_counter()
            report, _ = diagnose_targets_file(
                path, concurrency=concurrency, connect_timeout=3, read_timeout=5
            )
            wall = time.perf_counter() - started
            own_cpu, server_cpu = time.process_time() - own_cpu, _server_cpu(parent) - server_cpu
            after = _peak_rss_mb()
        assert len(report.targets) == count and not report.failed, report.failed[:5]
        floor = {"threads": floor_threads(urls, concurrency), "asyncio": floor_asyncio(urls, concurrency)}
        best = min(floor, key=floor.__getitem__)
        slowest = max(singles)
        # The CPU the goal leaves (2 × the slowest node on every core) against what the run took: the
        # harness (all its threads) and the emulated fleet answering it.
        budget = 2 * slowest * (os.cpu_count() or 1)
        return {"harness_cpu_s": own_cpu, "server_cpu_s": server_cpu, "goal_cpu_budget_s": budget,
                "nodes": count, "wall_s": wall, "slowest_single_s": slowest, "ratio": wall / slowest,
                "floor_s": floor[best], "floor_way": best, "floor_threads_s": floor["threads"],
                "floor_asyncio_s": floor["asyncio"], "floor_ratio": floor[best] / slowest,
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
        print(
            f"nodes={count} delay_ms={args.delay_ms:g} concurrency={args.concurrency} "
            f"wall={r['wall_s']:.2f}s "
            f"slowest_single={r['slowest_single_s'] * 1000:.0f}ms ratio={r['ratio']:.1f} "
            f"floor={r['floor_s']:.2f}s ({r['floor_way']}; threads {r['floor_threads_s']:.2f}s, "
            f"asyncio {r['floor_asyncio_s']:.2f}s) floor_ratio={r['floor_ratio']:.1f} "
            f"harness/floor={r['wall_s'] / r['floor_s']:.2f} "
            f"peak_rss={r['peak_rss_mb']:.0f}MB growth_per_node={r['peak_growth_kb_per_node']:.0f}KB "
            f"cpu: harness={r['harness_cpu_s']:.2f}s fleet={r['server_cpu_s']:.2f}s "
            f"goal_budget={r['goal_cpu_budget_s']:.2f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
