"""pytest plugin for bench/run_split.py: when each scenario ran, and when the report was written.

Loaded in the `ome-harness run` process (the xdist controller, which receives every worker's
reports with their start/stop times) through PYTEST_ADDOPTS="-p run_timeline"; it writes one JSON
file named by BENCH_TIMELINE at the end of the session.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

_phases: list[dict[str, object]] = []
_marks: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _phases.append({"nodeid": report.nodeid, "when": report.when, "start": report.start,
                    "stop": report.stop, "worker": getattr(report, "worker_id", None) or "main"})


@pytest.hookimpl(wrapper=True, tryfirst=True)  # around every sessionfinish, the report writer's included
def pytest_sessionfinish(session: pytest.Session):
    if hasattr(session.config, "workerinput"):
        return (yield)
    _marks["sessionfinish_start"] = time.time()
    try:
        return (yield)
    finally:
        _marks["sessionfinish_end"] = time.time()
        Path(os.environ["BENCH_TIMELINE"]).write_text(json.dumps({"phases": _phases, "marks": _marks}))
