"""`ome-harness run --target emulator`: total wall time and where it goes, in turn and in parallel.

Runs the installed command as a user would (a child process, every bundled scenario, ffmpeg
included), once with `--workers 1` and once with the default (`auto`: 4 workers on the emulator),
`--runs` times each, alternating. The split comes from the scenarios' own start/stop times
(bench/run_timeline.py, loaded into the run):
- start-up: from the command's start to the first scenario's setup (imports, workers, emulators);
- scenarios: first setup to the last teardown, and per feature the summed time of its scenarios;
- finish: the last teardown to the command's exit (the workers' teardown, writing every report
  format), with the report writer's own share (pytest_sessionfinish in the main process).

Run: python bench/run_split.py [--runs 3] [--workers auto 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def one_run(workers: str, folder: Path) -> dict[str, object]:
    timeline = folder / f"timeline-{workers}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    env.update(BENCH_TIMELINE=str(timeline), PYTEST_ADDOPTS="-p run_timeline",
               PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")])))
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "ome_harness", "run", "--target", "emulator",
                           "--out", str(folder / f"out-{workers}"), "--workers", workers],
                          env=env, capture_output=True, text=True, timeout=600)
    ended = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"run --workers {workers} exited {proc.returncode}: {proc.stdout[-2000:]}")
    data = json.loads(timeline.read_text())
    phases, marks = data["phases"], data["marks"]
    first = min(p["start"] for p in phases)
    last = max(p["stop"] for p in phases)
    per_feature: dict[str, float] = defaultdict(float)
    for phase in phases:
        per_feature[phase["nodeid"].split("::")[0].removeprefix("steps/")] += phase["stop"] - phase["start"]
    return {"total": ended - started, "startup": first - started, "scenarios": last - first,
            "finish": ended - last, "report": marks["sessionfinish_end"] - marks["sessionfinish_start"],
            "features": dict(per_feature),
            "count": len({p["nodeid"] for p in phases})}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", nargs="+", default=["auto", "1"])
    options = parser.parse_args()
    results: dict[str, list[dict[str, object]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        for index in range(options.runs):
            for workers in options.workers:
                results[workers].append(one_run(workers, Path(folder) / f"{index}"))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; medians of {options.runs} run(s)\n")
    print("| workers | scenarios | total | start-up | scenarios phase | finish (report writing) |")
    print("|---|---|---|---|---|---|")
    for workers, runs in results.items():
        med = {key: statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
               for key in ("total", "startup", "scenarios", "finish", "report")}
        print(f"| {workers} | {runs[0]['count']} | {med['total']:.1f} s | {med['startup']:.1f} s | "
              f"{med['scenarios']:.1f} s | {med['finish']:.1f} s ({med['report']:.2f} s) |")
    print("\nEach feature's scenarios, summed (median; in parallel they overlap):\n")
    names = sorted({f for runs in results.values() for r in runs for f in r["features"]})  # type: ignore[union-attr]
    print("| feature module | " + " | ".join(f"workers {w}" for w in results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        cells = [statistics.median(r["features"].get(name, 0.0) for r in runs)  # type: ignore[union-attr]
                 for runs in results.values()]
        print(f"| {name} | " + " | ".join(f"{c:.1f} s" for c in cells) + " |")


if __name__ == "__main__":
    main()
