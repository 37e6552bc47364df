"""`ome-harness run --workers N`: scenarios in parallel worker processes, the same report as in turn."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from leftover_probe import LeftoverProbe

from ome_harness.scenarios.parallel import list_schedule_order

READ_ONLY = "not media and not backend and not docker and not container and not mutating"


def _scenarios(out: Path) -> list[tuple[str, str]]:
    data = json.loads((out / "results.json").read_text())
    return [(r["title"], r["status"]) for r in data["results"] if r.get("scenario")]


def test_a_parallel_run_reports_the_same_scenarios_in_the_same_order_and_leaves_no_temporary_files(
        run_cli, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    runs = {}
    for workers in ("1", "3"):
        out = tmp_path / f"workers-{workers}"
        run = run_cli("run", "--target", "emulator", "--out", str(out), "-m", READ_ONLY, "--workers", workers,
                      env={"TMPDIR": str(scratch)}, timeout=240)
        assert run.code == 0, run.output[-3000:]
        runs[workers] = _scenarios(out)
    assert len(runs["1"]) >= 16
    # Workers finish scenarios in another order than they were collected: the report does not show it.
    assert runs["3"] == runs["1"]
    # pytest's per-worker folders went to a temporary folder of the run's own, removed at its end.
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "many"], "--workers 'many': a number from 1 to 32, or auto"),
    (["--workers", "0"], "--workers '0': a number from 1 to 32, or auto"),
    # Found by the CLI audit: 100000 forked workers for minutes, Ctrl-C held back while they started.
    (["--workers", "33"], "--workers '33': a number from 1 to 32, or auto"),
    (["--target", "container", "--workers", "2"], "a container run launches one OME"),
])
def test_workers_that_cannot_be_honoured_are_refused_in_one_line(
        run_cli, args: list[str], message: str) -> None:
    run = run_cli("run", *args)
    assert run.code == 2, run.output
    assert message in run.stderr and "Traceback" not in run.stderr


def test_the_costliest_scenarios_are_handed_out_first_one_per_worker() -> None:
    costs = {"api-1": 0, "publish-1": 1, "api-2": 0, "watch-1": 2, "publish-2": 1, "api-3": 0, "watch-2": 2,
             "api-4": 0}
    order = list_schedule_order(list(costs), costs.__getitem__, workers=2)
    assert sorted(order) == sorted(costs)
    # xdist gives each worker two consecutive items to start with: one long and one short each.
    assert order[:4] == ["watch-1", "api-4", "watch-2", "api-3"]
    # Then the rest, costliest first, in the order they were collected.
    assert order[4:] == ["publish-1", "publish-2", "api-1", "api-2"]


def test_a_signal_while_workers_start_waits_until_they_can_clean_up(tmp_path: Path) -> None:
    """SIGINT lands between starting a worker's Python and sending it execnet's bootstrap (injected): the
    run still ends as interrupted, says so in one line, and leaves no worker behind."""
    probe = LeftoverProbe(tmp_path)
    injected = str(Path(__file__).parent / "injected")
    proc = probe.start("run", "--target", "emulator", "--workers", "3", "-m", READ_ONLY,
                       PYTEST_PLUGINS="signal_while_workers_start",
                       PYTHONPATH=os.pathsep.join(filter(None, [injected, os.environ.get("PYTHONPATH")])))
    _, stderr = proc.communicate(timeout=120)  # the run signals itself
    assert "Traceback" not in stderr, stderr[-3000:]
    assert proc.returncode == 128 + signal.SIGINT, stderr[-3000:]
    assert probe.report("results.json")["interrupted_by"] == "SIGINT"
    assert probe.leftovers() == []
