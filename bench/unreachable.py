"""How long diagnose takes on a closed port and on an address that never answers a SYN.

A closed port should be diagnosed well under a second; a silent address should end at the connect
timeout (the TCP probe and the API request wait on it together), not a multiple. Run:
python bench/unreachable.py [--connect-timeout 3]
"""

from __future__ import annotations

import argparse
import socket
import time

from ome_harness.checks.diagnosis import diagnose
from ome_harness.target import OmeTarget


def timed(port: int, connect_timeout: float) -> tuple[float, str]:
    target = OmeTarget(kind="url", api_url=f"http://127.0.0.1:{port}", token="t", connect_timeout=connect_timeout)
    started = time.perf_counter()
    report = diagnose(target, probe_host=False)
    target.close()
    return time.perf_counter() - started, next(r.summary for r in report.results if r.id == "api")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connect-timeout", type=float, default=3.0)
    timeout = parser.parse_args().connect_timeout
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    took, said = timed(closed, timeout)
    print(f"closed_port: {took * 1000:.0f}ms ({said})")
    # A full accept queue (backlog 0 + one queued connection): later SYNs go unanswered, as with a
    # host that drops packets (none is reachable from a sandbox).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        with socket.create_connection(listener.getsockname(), timeout=1):
            took, said = timed(listener.getsockname()[1], timeout)
    print(f"silent_address: {took:.2f}s with connect timeout {timeout:g}s = {took / timeout:.2f}x ({said})")


if __name__ == "__main__":
    main()
