"""Start Locust as its own processes (one local process, or a master and K workers on loopback), wait for
the run to end by itself, and stop every process on Ctrl-C/SIGTERM so the report can still be written.

Locust saves its HTML report on SIGINT but not on SIGTERM (locust/main.py), so stopping early sends SIGINT
to the master (started in its own session, so a terminal's Ctrl-C reaches only the harness); workers quit
when their master tells them, and are killed if they linger.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ome_harness.load.settings import LoadSettings
from ome_harness.polling import Ready, WaitTimedOut, poll_until

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STARTUP_S = 30.0  # Locust's import, the workers joining, the first spawn
STOP_GRACE_S = 15.0


@dataclass
class LocustOutputs:
    """Where a run's Locust files are, and how the run ended."""

    folder: Path
    exit_codes: list[int | None] = field(default_factory=list)
    stop_signal: int | None = None  # the SIGINT/SIGTERM that stopped the run early
    timed_out: bool = False

    @property
    def interrupted(self) -> bool:
        return self.stop_signal is not None

    @property
    def csv_prefix(self) -> Path:
        return self.folder / "locust"

    @property
    def summary(self) -> Path:
        return self.folder / "locust-summary.json"

    @property
    def html(self) -> Path:
        return self.folder / "locust.html"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def locust_commands(settings: LoadSettings, host: str, out: LocustOutputs) -> list[list[str]]:
    """The master's (or the single process's) command line first, then one per worker."""
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--stream-path", settings.master_path,
            "--request-timeout", str(settings.request_timeout_s), "--loglevel", "WARNING"]
    if settings.segment_s:
        base += ["--segment-duration", f"{settings.segment_s:g}"]
    main = [
        *base,
        "--headless",
        "--host",
        host,
        "-u",
        str(settings.viewers),
        "-r",
        f"{settings.spawn_rate:g}",
        "--omh-run-time",
        str(settings.duration_s),
        "--stop-timeout",
        "2",
        "--exit-code-on-error",
        "0",
        "--csv",
        str(out.csv_prefix),
        "--csv-full-history",
        "--html",
        str(out.html),
        "--only-summary",
        "--omh-summary",
        str(out.summary),
        "--logfile",
        str(out.folder / "locust.log"),
    ]
    if not settings.workers:
        return [main]
    port = _free_port()
    master = [*main, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
              "--expect-workers", str(settings.workers), "--expect-workers-max-wait", str(int(STARTUP_S))]
    workers = [[*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                "--logfile", str(out.folder / f"locust-worker-{i + 1}.log")] for i in range(settings.workers)]
    return [master, *workers]


@contextlib.contextmanager
def _stop_requests() -> Iterator[Callable[[], int | None]]:
    """While the run lasts, SIGINT and SIGTERM to the harness mean "stop the run", not "die now"."""
    asked: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _frame: asked.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: asked[0] if asked else None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_locust(settings: LoadSettings, host: str, folder: Path) -> LocustOutputs:
    """Run Locust to the end (or until the harness is asked to stop); nothing it started is left running."""
    out = LocustOutputs(folder)
    commands = locust_commands(settings, host, out)
    processes: list[subprocess.Popen[bytes]] = []
    output = (folder / "locust-output.txt").open("wb")
    try:
        with _stop_requests() as stop_asked:
            for command in commands:
                processes.append(subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True))
            master = processes[0]

            def probe() -> Ready[str] | str:
                if master.poll() is not None:
                    return Ready("ended")
                if stop_asked() is not None:
                    return Ready("stop asked")
                return "Locust still running"

            try:
                ended = poll_until(probe, deadline_s=settings.duration_s + STARTUP_S + STOP_GRACE_S,
                                   what="Locust to end its timed run", interval_s=0.2)
            except WaitTimedOut:
                ended, out.timed_out = "overran", True
            out.stop_signal = stop_asked() if ended == "stop asked" else None
            _stop_all(processes)
    finally:
        _stop_all(processes)
        output.close()
    out.exit_codes = [p.returncode for p in processes]
    return out


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT to the master first (it stops its workers and gathers their last reports, then writes its
    reports), then to any worker still running, then SIGKILL past a grace period each."""
    for group in (processes[:1], processes[1:]):
        for process in group:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_S
        for process in group:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=5)
