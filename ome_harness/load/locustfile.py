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
from locust import FastHttpUser, constant, events, task
from locust.runners import STATE_RUNNING, STATE_SPAWNING, WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from ome_harness.load.viewer import Answer, LlhlsFollower
from ome_harness.playback.llhls_player import NOT_YET_STATUSES

_COUNTERS = ("parts", "stalls", "resyncs", "viewers_started", "viewers_stalled")
_totals = dict.fromkeys(_COUNTERS, 0)
# Each viewer's time to its first media playlist and first part (seconds), gathered like the counts.
_FIRSTS = ("time_to_first_playlist_s", "time_to_first_part_s")
_firsts: dict[str, list[float]] = {key: [] for key in _FIRSTS}
_lock = threading.Lock()  # gevent-patched: a cheap guard, kept for clarity


def _add(delta: dict[str, int], firsts: dict[str, list[float]] | None = None) -> None:
    with _lock:
        for key in _COUNTERS:
            _totals[key] += int(delta.get(key, 0))
        for key, values in (firsts or {}).items():
            if key in _firsts:
                _firsts[key] += [float(v) for v in values]


def failure_cause(status: int, error: object) -> str:
    """One short cause per failed request: what the report groups errors by."""
    if status:
        return f"HTTP {status}"
    # geventhttpclient wraps the last error of a request it gave up on (RetriesExceeded(original=...)).
    error = getattr(error, "original", None) or error
    text = f"{type(error).__name__}: {error}".lower()
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if "refused" in text:
        return "connection refused"
    # Closed without an answer: requests says RemoteDisconnected, geventhttpclient HTTPConnectionClosed.
    if "reset" in text or "aborted" in text or "remotedisconnected" in text or "connectionclosed" in text:
        return "connection reset"
    return "connection error"


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--stream-path", default="/app/stream/llhls.m3u8",
                        help="Path of the LL-HLS master playlist under --host")
    parser.add_argument("--request-timeout", type=float, default=5.0, help="Seconds per request")
    parser.add_argument("--segment-duration", type=float, default=0.0,
                        help="The app's LL-HLS segment duration (a young stream's first playlists may take "
                             "two of them); 0: OME's default")
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


class LlhlsViewerUser(FastHttpUser):
    """One LL-HLS viewer: blocking reloads, parts in real time (it paces itself: no wait between steps).

    FastHttpUser (geventhttpclient, one kept connection per viewer) rather than HttpUser (requests): the
    HTTP layer was 82 % of the viewer's CPU with requests (py-spy, bench/README.md).
    """

    wait_time = constant(0)
    # geventhttpclient sets one socket timeout per connection; each request's own deadline (a blocking
    # reload's is longer, a young stream's first playlists longer still) is a gevent.Timeout in _fetch.
    network_timeout = connection_timeout = 3600.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.follower = LlhlsFollower(f"{self.host.rstrip('/')}{options.stream_path}", self._fetch,
                                      sleep=gevent.sleep, timeout_s=options.request_timeout,
                                      segment_s=getattr(options, "segment_duration", 0) or None)
        self._seen = (0, 0, 0)  # parts, stalls, resyncs already counted
        self._firsts_sent: set[str] = set()
        self._stalled = False
        _add({"viewers_started": 1})

    @task
    def follow(self) -> None:
        self.follower.step()
        self._report_counts()

    def on_stop(self) -> None:
        # Locust ends a run by killing a step it waited --stop-timeout for: a viewer behind real time
        # (late parts) spends seconds in one step, and the parts and stalls it counted there are reported
        # here, not lost (Locust calls on_stop when it kills the user's greenlet).
        if getattr(self, "follower", None) is not None:
            self._report_counts()

    def _report_counts(self) -> None:
        counts = self.follower.counts
        # Lean on purpose: this runs after every step of every viewer (bench/README.md).
        seen, self._seen = self._seen, (counts.parts, counts.stalls, counts.resyncs)
        delta = {"parts": counts.parts - seen[0], "stalls": counts.stalls - seen[1],
                 "resyncs": counts.resyncs - seen[2]}
        if counts.stalls and not self._stalled:
            self._stalled = True
            delta["viewers_stalled"] = 1
        firsts = None
        if len(self._firsts_sent) < len(_FIRSTS):
            figures = {"time_to_first_playlist_s": counts.first_playlist_s,
                       "time_to_first_part_s": counts.first_part_s}
            firsts = {k: [v] for k, v in figures.items() if v is not None and k not in self._firsts_sent}
            self._firsts_sent.update(firsts)
        _add(delta, firsts)

    def _fetch(self, kind: str, url: str, timeout_s: float) -> Answer:
        # A Timeout ending a request is caught by Locust's session (its FAILURE_EXCEPTIONS), recorded as
        # this request's failure, and the connection is closed by geventhttpclient (never reused half-read).
        with gevent.Timeout(timeout_s), self.client.get(url, name=kind, catch_response=True) as response:
            status = response.status_code or 0
            if status == 200:
                response.success()
                return Answer(200, response.content or b"")
            if kind == "first_playlist" and status in NOT_YET_STATUSES:
                response.success()  # a young stream's "not yet" (404, 201): the viewer asks again
                return Answer(status)
            response.failure(failure_cause(status, getattr(response, "error", None)))
            return Answer(status or None)


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict) -> None:
    with _lock:
        data["omh_counts"] = dict(_totals)
        data["omh_firsts"] = {key: list(values) for key, values in _firsts.items()}
        for key in _COUNTERS:
            _totals[key] = 0
        for values in _firsts.values():
            values.clear()


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict) -> None:
    _add(data.get("omh_counts", {}), data.get("omh_firsts", {}))


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
        summary = {"viewer_counts": dict(_totals), "kinds": kinds, "errors": errors,
                   "first_figures": {key: list(values) for key, values in _firsts.items()}}
    Path(path).write_text(json.dumps(summary, indent=2) + "\n")
