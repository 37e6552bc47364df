"""The harness's LL-HLS viewer as a Locust user. Runs only inside Locust's processes (never imported by
the harness: importing Locust patches the standard library with gevent).

    locust -f ome_harness/load/locustfile.py --host http://OME:3333 --stream-path /app/stream/llhls.m3u8

Each request is recorded by Locust under its kind (playlist, blocking_reload, part, segment); a failure's
message is its cause (`HTTP 503`, `timeout`, `connection refused`, ...). Parts, stalls and resyncs are
counted here, sent from workers to the master with Locust's report events, and written as JSON by the
master (or the single local process) to `--omh-summary` when Locust quits.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import gevent
from locust import HttpUser, constant, events, task
from locust.runners import STATE_RUNNING, STATE_SPAWNING, WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from ome_harness.load.viewer import Answer, LlhlsFollower

_COUNTERS = ("parts", "stalls", "resyncs", "viewers_started", "viewers_stalled")
_totals = dict.fromkeys(_COUNTERS, 0)
_lock = threading.Lock()  # gevent-patched: a cheap guard, kept for clarity


def _add(delta: dict[str, int]) -> None:
    with _lock:
        for key in _COUNTERS:
            _totals[key] += int(delta.get(key, 0))


def failure_cause(status: int, error: object) -> str:
    """One short cause per failed request: what the report groups errors by."""
    if status:
        return f"HTTP {status}"
    text = f"{type(error).__name__}: {error}".lower()
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if "refused" in text:
        return "connection refused"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return "connection reset"
    return "connection error"


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--stream-path", default="/app/stream/llhls.m3u8",
                        help="Path of the LL-HLS master playlist under --host")
    parser.add_argument("--request-timeout", type=float, default=5.0, help="Seconds per request")
    parser.add_argument("--omh-summary", default="", include_in_web_ui=False,
                        help="Where the master (or a local run) writes the viewers' counts as JSON")
    parser.add_argument("--omh-run-time", type=float, default=0, include_in_web_ui=False,
                        help="Seconds to run, then stop the workers, gather their last reports and quit "
                             "(Locust's -t quits at once and loses the workers' last seconds)")


def _gather_worker_reports(runner) -> None:
    """Stop the workers and wait one report interval: a worker reports every WORKER_REPORT_INTERVAL s
    even once stopped, so its last figures (and counts) reach the master before anything is written."""
    if isinstance(runner, MasterRunner) and runner.state in (STATE_SPAWNING, STATE_RUNNING):
        runner.stop()
        gevent.sleep(WORKER_REPORT_INTERVAL + 0.5)


def _finish(environment) -> None:
    _gather_worker_reports(environment.runner)
    environment.runner.quit()


@events.test_start.add_listener
def _start_run_timer(environment, **_kwargs) -> None:
    seconds = getattr(environment.parsed_options, "omh_run_time", 0)
    if seconds and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn_later(seconds, _finish, environment)


class LlhlsViewerUser(HttpUser):
    """One LL-HLS viewer: blocking reloads, parts in real time (it paces itself: no wait between steps)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.follower = LlhlsFollower(f"{self.host.rstrip('/')}{options.stream_path}", self._fetch,
                                      sleep=gevent.sleep, timeout_s=options.request_timeout)
        self._seen = {"parts": 0, "stalls": 0, "resyncs": 0}
        self._stalled = False
        _add({"viewers_started": 1})

    @task
    def follow(self) -> None:
        self.follower.step()
        counts = self.follower.counts
        now = {"parts": counts.parts, "stalls": counts.stalls, "resyncs": counts.resyncs}
        delta = {k: now[k] - self._seen[k] for k in now}
        if counts.stalls and not self._stalled:
            self._stalled = True
            delta["viewers_stalled"] = 1
        self._seen = now
        _add(delta)

    def _fetch(self, kind: str, url: str, timeout_s: float) -> Answer:
        with self.client.get(url, name=kind, timeout=timeout_s, catch_response=True) as response:
            status = response.status_code or 0
            if status == 200:
                response.success()
                return Answer(200, response.content or b"")
            response.failure(failure_cause(status, getattr(response, "error", None)))
            return Answer(status or None)


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict) -> None:
    with _lock:
        data["omh_counts"] = dict(_totals)
        for key in _COUNTERS:
            _totals[key] = 0


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict) -> None:
    _add(data.get("omh_counts", {}))


def _percentile(entry, share: float) -> float | None:
    return float(entry.get_response_time_percentile(share)) if entry.num_requests else None


@events.quitting.add_listener
def _write_summary(environment, **_kwargs) -> None:
    """The run's final figures: Locust's CSVs are written on an interval and may miss the last second."""
    path = getattr(environment.parsed_options, "omh_summary", "")
    if not path or isinstance(environment.runner, WorkerRunner):
        return
    _gather_worker_reports(environment.runner)  # stopped early (Ctrl-C): workers may still be running
    stats = environment.runner.stats
    kinds = {name: {"requests": entry.num_requests, "failures": entry.num_failures,
                    "p50_ms": _percentile(entry, 0.5), "p95_ms": _percentile(entry, 0.95),
                    "p99_ms": _percentile(entry, 0.99), "bytes": entry.total_content_length}
             for (name, _method), entry in stats.entries.items()}
    errors = [
        {"error": str(error.error), "occurrences": error.occurrences} for error in stats.errors.values()
    ]
    with _lock:
        summary = {"viewer_counts": dict(_totals), "kinds": kinds, "errors": errors}
    Path(path).write_text(json.dumps(summary, indent=2) + "\n")
