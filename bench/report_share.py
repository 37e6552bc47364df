"""The share of an `ome-harness run` spent writing its report (every format, charts included).

Runs the bundled scenarios against the emulator in-process (media included when ffmpeg is here, so
the charts are drawn) and times building + writing the report inside the same run.
Run: python bench/report_share.py [--runs 3] [-m "not docker and not container"]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ome_harness.scenarios.collector import ScenarioCollector
from ome_harness.scenarios.runner import run_scenarios

spent: list[float] = []


def _timed(method):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-m", dest="tags", default="not docker and not container")
    options = parser.parse_args()
    ScenarioCollector.build_report = _timed(ScenarioCollector.build_report)
    ScenarioCollector.write_report = _timed(ScenarioCollector.write_report)
    shares, totals, reporting = [], [], []
    for _ in range(options.runs):
        spent.clear()
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            code = run_scenarios(Path(out), config=None, target="emulator", api_url=None, token=None,
                                 image=None, allow_mutating=False, select=None, tags=options.tags,
                                 verbose=False).exit_code
            total = time.perf_counter() - started
            files = sorted(p.name for p in Path(out).iterdir() if p.is_file())
        # write_report calls build_report itself when not given one; the plugin builds once, then writes.
        report_s = sum(spent)
        totals.append(total)
        reporting.append(report_s)
        shares.append(report_s / total)
        print(f"exit {code}: run {total:.2f} s, reporting {report_s * 1000:.0f} ms "
              f"({report_s / total:.1%}); files: {', '.join(files)}")
    print(f"median: run {statistics.median(totals):.2f} s, reporting {statistics.median(reporting) * 1000:.0f} ms, "
          f"share {statistics.median(shares):.1%}")


if __name__ == "__main__":
    main()
