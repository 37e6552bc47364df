"""Run checks concurrently, each as soon as the checks it needs are done."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


def run_checks(checks: list[Check], ctx: CheckContext, *, workers: int = 8) -> list[CheckResult]:
    """Results in registry order; independent checks overlap in time."""
    done: dict[str, CheckResult] = {}
    pending = {c.id: c for c in checks}
    known = set(pending)
    running: dict[Future[CheckResult], str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="omh-check") as pool:
        while pending or running:
            ready = [c for c in pending.values() if all(n in done or n not in known for n in c.needs)]
            for c in ready:
                del pending[c.id]
                running[pool.submit(_run_one, c, replace(ctx, done=dict(done)))] = c.id
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                done[running.pop(future)] = result
    order = {c.id: i for i, c in enumerate(checks)}
    return sorted(done.values(), key=lambda r: order[r.id])
