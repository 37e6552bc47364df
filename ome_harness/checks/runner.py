"""Run checks concurrently, each as soon as the checks it needs are done."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ome_harness.checks.context import CheckContext
from ome_harness.checks.registry import Check
from ome_harness.results import CheckResult, Status


def _run_one(check: Check, ctx: CheckContext) -> CheckResult:
    started = time.perf_counter()
    try:
        result = check.run(ctx)
    except Exception as exc:  # a check must never take the diagnosis down with it
        result = CheckResult(id=check.id, title=check.title, status=Status.ERROR,
                             summary=f"the check itself failed: {type(exc).__name__}: {exc}",
                             error=f"{type(exc).__name__}: {exc}", failure=exc)
    return result.model_copy(update={"duration_ms": round((time.perf_counter() - started) * 1000, 1),
                                     "expected": result.expected or check.expected or None})


class _Schedule:
    """Which checks may start; the thread that finishes a check starts what it unblocked.

    Continuing on the finishing thread (instead of waking a coordinator) saves a thread hand-off
    per step of the critical path (api → auth → streams → metrics): most of diagnose's own cost.
    """

    def __init__(
        self, checks: list[Check], ctx: CheckContext, pool: ThreadPoolExecutor, *, in_turn: bool
    ) -> None:
        self.ctx, self.pool, self.in_turn = ctx, pool, in_turn
        self.pending = {c.id: c for c in checks}
        self.known = set(self.pending)
        # The check most others wait for (api) goes first and stays on the thread at hand.
        self.waiting_on = {c.id: sum(c.id in other.needs for other in checks) for c in checks}
        self.done: dict[str, CheckResult] = {}
        self.running = 0
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def _take_ready(self) -> list[tuple[Check, CheckContext]]:
        """Under the lock: the checks whose needs are met, each with a snapshot of the results so far."""
        ready = [
            c for c in self.pending.values() if all(n in self.done or n not in self.known for n in c.needs)
        ]
        ready.sort(key=lambda c: -self.waiting_on[c.id])
        for check in ready:
            del self.pending[check.id]
        self.running += len(ready)
        if not self.running:
            self.finished.set()  # all done (or a cycle in `needs`: nothing can ever start)
        return [(c, replace(self.ctx, done=dict(self.done))) for c in ready]

    def start(self) -> None:
        """Start every ready check; the one most others need runs on the calling thread."""
        with self.lock:
            ready = self._take_ready()
        if ready:
            self._launch(ready[1:])
            self._run(*ready[0])

    def _launch(self, ready: list[tuple[Check, CheckContext]]) -> None:
        for check, ctx in ready:
            self.pool.submit(self._run, check, ctx)

    def _run(self, check: Check, ctx: CheckContext) -> None:
        queue = [(check, ctx)]
        while queue:
            check, ctx = queue.pop(0)
            result = _run_one(check, ctx)
            with self.lock:
                self.done[check.id] = result
                self.running -= 1
                ready = self._take_ready()
            if self.in_turn:
                queue += ready  # every check this one unblocked, in turn on this thread
            elif ready:
                queue.append(ready[0])  # the first unblocked check continues on this thread
                self._launch(ready[1:])


# Threads for the checks that start beside the first (tcp beside api) when checks run in turn, kept
# across diagnoses: a thread started per diagnosis cost ~5 % of a loopback diagnose (bench/README.md).
# Threads are made only when none is idle, and the bound is far above what a fleet's concurrent
# diagnoses (at most 256, each with one such check) can hold, so a silent node's probe queues nobody.
_BESIDE = ThreadPoolExecutor(max_workers=1024, thread_name_prefix="omh-check")


def run_checks(checks: list[Check], ctx: CheckContext, *, workers: int = 8) -> list[CheckResult]:
    """Results in registry order; independent checks overlap in time.

    workers=1: the checks that need nothing (tcp, api) still start at once — each may wait out a
    timeout and those must not add up — but whatever they unblock runs in turn on their thread.
    """
    in_turn = workers == 1
    with contextlib.ExitStack() as own_pool:
        pool = _BESIDE if in_turn else own_pool.enter_context(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="omh-check"))
        schedule = _Schedule(checks, ctx, pool, in_turn=in_turn)
        schedule.start()
        schedule.finished.wait()
    order = {c.id: i for i, c in enumerate(checks)}
    return sorted(schedule.done.values(), key=lambda r: order[r.id])
