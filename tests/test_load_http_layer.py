"""The load viewer's HTTP layer (Locust's FastHttpUser): every failure is recorded under its kind with its
cause, and each request keeps its own deadline. Real Locust processes against real sockets on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ome_harness.load.runner import LOCUSTFILE
from ome_harness.load.session import run_load
from ome_harness.load.settings import LoadSettings

pytest_plugins = ["media_fixtures", "load_fixtures"]

if TYPE_CHECKING:
    from load_fixtures import LiveEmulator

ANSWER_503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nServer: OvenMediaEngine\r\n\r\n"


@contextmanager
def raw_server(on_connection: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that hands each connection to `on_connection`; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)
            on_connection(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def silent(connection: socket.socket) -> None:
    """Accept, read the request, never answer."""
    connection.recv(65536)


def closing(connection: socket.socket) -> None:
    """Read the request and close without a word."""
    connection.recv(65536)
    connection.close()


def unavailable(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(ANSWER_503)
    connection.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_viewer(port: int, folder: Path, *, request_timeout: float, seconds: float) -> dict:
    """One harness viewer in one local Locust process; the locustfile's summary."""
    summary = folder / "summary.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "-u",
            "1",
            "-r",
            "1",
            "--stream-path",
            "/app/stream/llhls.m3u8",
            "--request-timeout",
            str(request_timeout),
            "--segment-duration",
            "0.1",
            "--omh-run-time",
            str(seconds),
            "--omh-summary",
            str(summary),
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--loglevel",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return json.loads(summary.read_text())


@pytest.mark.parametrize(
    ("handler", "cause"),
    [
        (silent, "timeout"),
        (closing, "connection reset"),
        (unavailable, "HTTP 503"),
        (None, "connection refused"),
    ],
)
def test_each_failure_is_recorded_under_its_kind_with_its_cause(
    handler: Callable[[socket.socket], None] | None, cause: str, tmp_path: Path, locust_installed: None
) -> None:
    if handler is None:
        summary = run_viewer(closed_port(), tmp_path, request_timeout=1, seconds=3)
    else:
        with raw_server(handler) as port:
            summary = run_viewer(port, tmp_path, request_timeout=1, seconds=3)
    errors = {e["error"]: e["occurrences"] for e in summary["errors"]}
    assert set(errors) == {cause}, errors
    first = summary["kinds"]["first_playlist"]
    assert first["failures"] >= 1 and first["failures"] == first["requests"], summary["kinds"]


def test_a_request_ends_at_its_own_deadline_not_the_connections(
    tmp_path: Path, locust_installed: None
) -> None:
    # The socket timeout is an hour (one per connection); the viewer's deadline is --request-timeout
    # (a young stream's first playlists: two segment durations + 2 s = 2.2 s here at most per attempt).
    with raw_server(silent) as port:
        started = time.monotonic()
        summary = run_viewer(port, tmp_path, request_timeout=0.5, seconds=4)
        elapsed = time.monotonic() - started
    first = summary["kinds"]["first_playlist"]
    assert first["requests"] >= 1 and first["p50_ms"] is not None and first["p50_ms"] < 2500, first
    assert elapsed < 30, elapsed


def test_parts_late_past_their_deadline_fail_as_timeouts_again_and_again(
    live_emulator: LiveEmulator, tmp_path: Path
) -> None:
    # Every part answered 1.5 s late, the deadline 1 s: each part's timer fires, and is armed again for
    # the next part (one timer per deadline, restarted per request), while the reloads go on.
    live_emulator.server.llhls.faults.part_delay_s = 1.5
    settings = LoadSettings(stream="app/stream", viewers=2, spawn_rate=2, duration_s=8, request_timeout_s=1.0)
    result = run_load(live_emulator.target, settings, tmp_path).result
    assert set(result.errors) == {"timeout"}, result.errors
    part = result.kinds["part"]
    assert part.failures >= 4 and part.failures == part.requests, part
    assert result.kinds["blocking_reload"].failures == 0


def test_a_viewer_behind_real_time_when_the_run_ends_still_reports_its_parts_and_stalls(
    live_emulator: LiveEmulator, tmp_path: Path
) -> None:
    # Parts 1.2 s late: a viewer behind real time fetches several listed parts in one step, which Locust
    # kills at the run's end; what it counted in that step is reported all the same.
    live_emulator.server.llhls.faults.part_delay_s = 1.2
    settings = LoadSettings(stream="app/stream", viewers=3, spawn_rate=3, duration_s=10)
    result = run_load(live_emulator.target, settings, tmp_path).result
    assert result.viewer_counts["parts"] == result.kinds["part"].requests, (
        result.viewer_counts,
        result.kinds,
    )
    assert result.viewer_counts["stalls"] > 0
