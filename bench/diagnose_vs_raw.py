"""Single-target diagnose against the FLOOR: the same requests, sequential, on one keep-alive client.

The floor (issue 11's) is one httpx client, created once and kept alive across rounds, making
exactly the requests diagnose makes (the two TCP probes, then the API calls, the wrong-token probe
on the same connection), one after another; the goal is a ratio at or under 1.0. The OME client
sends through httpcore's pool, under httpx, so the same requests on a bare httpcore pool are
printed too: the lowest this process can go with that HTTP stack. Run: python bench/diagnose_vs_raw.py
(--profile writes a pyinstrument/cProfile view of one diagnose loop).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import multiprocessing
import socket
import statistics
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event

import httpcore
import httpx

from ome_harness.checks.diagnosis import diagnose
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.polling import Ready, poll_until
from ome_harness.target import OmeTarget

TOKEN = "bench-token"
# Every request of one diagnose (its evidence lists them): api, auth (the wrong-token probe is sent
# below), vhosts and apps, streams, three stats levels, and the app's config (the SCTE-35 check).
PATHS = ("/v1/version", "/v1/vhosts", "/v1/vhosts", "/v1/vhosts/default/apps",
         "/v1/vhosts/default/apps/app/streams", "/v1/stats/current", "/v1/stats/current/vhosts/default",
         "/v1/stats/current/vhosts/default/apps/app", "/v1/vhosts/default/apps/app")


def _probe_tcp(port: int) -> None:
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family) as sock:
            sock.settimeout(3)
            sock.connect((host, port))


def floor_round(client: httpx.Client, port: int) -> None:
    """The requests diagnose makes, bare and sequential, on a client that stays connected."""
    _probe_tcp(port)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"wrong").decode()}
    for path in PATHS:
        client.get(path).json()
    client.get("/v1/vhosts", headers=wrong).json()


def core_round(pool: httpcore.ConnectionPool, port: int) -> None:
    """The same on httpcore's pool, the layer under httpx that the OME client sends through: the
    barest Python way to make these requests (no httpx.Client layers at all)."""
    _probe_tcp(port)
    host = f"127.0.0.1:{port}".encode()
    good = [(b"Host", host), (b"Authorization", b"Basic " + base64.b64encode(TOKEN.encode()))]
    wrong = [(b"Host", host), (b"Authorization", b"Basic " + base64.b64encode(b"wrong"))]
    for path, headers in [*((p, good) for p in PATHS), ("/v1/vhosts", wrong)]:
        url = httpcore.URL(scheme=b"http", host=b"127.0.0.1", port=port, target=path.encode())
        json.loads(pool.request("GET", url, headers=headers).content)


def _serve(port: int, stop: Event) -> None:
    with EmulatorServer(
        EmulatorSettings(token=TOKEN, port=port, rtmp_port=None, srt_port=None, llhls_port=None)
    ):
        stop.wait()


@contextlib.contextmanager
def emulator(in_process: bool) -> Iterator[int]:
    """The emulator's port. Out of process by default: like a real OME, its CPU is not the client's."""
    if in_process:
        with EmulatorServer(
            EmulatorSettings(token=TOKEN, rtmp_port=None, srt_port=None, llhls_port=None)
        ) as s:
            yield s.port
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=_serve, args=(port, stop), daemon=True)
    child.start()
    try:
        with httpx.Client(timeout=1, trust_env=False) as client:
            poll_until(lambda: _answers(client, port), deadline_s=30, what="the emulator process to answer")
        yield port
    finally:
        stop.set()
        child.join(10)


def _answers(client: httpx.Client, port: int) -> Ready[bool] | str:
    try:
        client.get(f"http://127.0.0.1:{port}/v1/version")
    except httpx.HTTPError as exc:
        return str(exc)
    return Ready(True)


def measure(rounds: int, in_process: bool = False) -> tuple[float, float, float]:
    """Medians in ms: the httpx floor, the httpcore floor and diagnose, rounds interleaved."""
    with emulator(in_process) as port:
        target = OmeTarget(kind="url", api_url=f"http://localhost:{port}", token=TOKEN)
        auth = {"Authorization": "Basic " + base64.b64encode(TOKEN.encode()).decode()}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=5,
                          trust_env=False) as client, httpcore.ConnectionPool() as pool:
            floor_round(client, port), core_round(pool, port), diagnose(target, probe_host=False)  # warm up
            floor, core, diag = [], [], []
            for _ in range(rounds):
                for way, times in ((lambda: floor_round(client, port), floor),
                                   (lambda: core_round(pool, port), core),
                                   (lambda: diagnose(target, probe_host=False), diag)):
                    started = time.perf_counter()
                    way()
                    times.append(time.perf_counter() - started)
    return tuple(statistics.median(times) * 1000 for times in (floor, core, diag))  # type: ignore[return-value]


def profile(rounds: int) -> None:
    settings = EmulatorSettings(token=TOKEN, rtmp_port=None, srt_port=None, llhls_port=None)
    with EmulatorServer(settings) as server:
        target = OmeTarget(kind="url", api_url=server.url, token=TOKEN)
        diagnose(target, probe_host=False)
        try:
            from pyinstrument import Profiler
        except ImportError:
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                for _ in range(rounds):
                    diagnose(target, probe_host=False)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            return
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(rounds):
                diagnose(target, probe_host=False)
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="profile diagnose instead of measuring")
    parser.add_argument("--in-process", action="store_true", help="the emulator in this process (GIL shared)")
    args = parser.parse_args()
    if args.profile:
        profile(args.rounds)
        return
    floor_ms, core_ms, diag_ms = measure(args.rounds, args.in_process)
    where = "in-process" if args.in_process else "separate-process"
    print(
        f"emulator={where} rounds={args.rounds} floor_keepalive_median={floor_ms:.1f}ms "
        f"diagnose_median={diag_ms:.1f}ms "
        f"ratio={diag_ms / floor_ms:.2f} "
        f"(httpcore_floor_median={core_ms:.1f}ms ratio_to_it={diag_ms / core_ms:.2f})"
    )


if __name__ == "__main__":
    main()
