"""`ome-harness run`: the bundled features and steps through pytest-bdd, from any folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ome_harness.child_processes import end_child_processes
from ome_harness.container.stop_signals import Interruption, interruptible_command
from ome_harness.resources import resource_dir
from ome_harness.scenarios.collector import ScenarioCollector

# pytest's exit codes folded into ours: 0 passed, 1 a scenario failed, 2 could not run,
# 130/143 interrupted by SIGINT/SIGTERM (decided by the signal, not by pytest).
EXIT_CODES = {pytest.ExitCode.OK: 0, pytest.ExitCode.TESTS_FAILED: 1}


# Against the emulator each xdist worker runs its own emulator, and the scenarios mostly wait on real
# time (an encoder publishing, a viewer watching): with 4 workers the bundled run took 15.5 s instead
# of 39 s on 2 cores; 6 gained nothing beyond the noise (bench/README.md, run_split.py).
EMULATOR_WORKERS = 4
# Each worker is a Python process with its own emulator (and ffmpeg, a database): beyond this a run only
# loads the machine, and while xdist starts workers signals wait (parallel.py), so `--workers 100000`
# would fork for minutes with Ctrl-C held back (found by the CLI audit).
MAX_WORKERS = 32


class WorkersError(ValueError):
    """--workers that cannot be honoured (not a number, or parallel runs against one container)."""


def worker_count(choice: str, target: str) -> int:
    """`--workers`: "auto" is parallel on the emulator and in turn on one OME (a container or a URL, where
    parallel scenarios would share the one server); a number is taken as given, except for a container
    (every worker would launch its own OME)."""
    if choice == "auto":
        return EMULATOR_WORKERS if target == "emulator" else 1
    if not choice.isdigit() or not 1 <= int(choice) <= MAX_WORKERS:
        raise WorkersError(f"--workers {choice!r}: a number from 1 to {MAX_WORKERS}, or auto")
    if int(choice) > 1 and target == "container":
        raise WorkersError("--workers: a container run launches one OME and runs its scenarios in turn "
                           "(use 1, or --target emulator / url for parallel scenarios)")
    return int(choice)


@dataclass
class RunOutcome:
    """How a run ended: the exit code, test-report.md if one was written, and why not if none was."""

    exit_code: int
    report: Path | None
    problem: str | None = None


class _SessionProbe:
    """Hands the runner the session's collector once pytest has configured it."""

    collector: ScenarioCollector | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        self.collector = config.stash.get(ScenarioCollector.KEY, None)


def pytest_args(out: Path, *, config: Path | None, target: str | None, api_url: str | None, token: str | None,
                image: str | None, allow_mutating: bool, select: str | None, tags: str | None,
                verbose: bool, media: dict[str, str | None] | None = None, fail_on: str = "error",
                team_features: Path | None = None, workers: int = 1) -> list[str]:
    """`media`: --omh-* options for where media goes (rtmp-url, srt-url, llhls-url, webrtc-url, server-xml,
    stream-prefix). `workers` > 1 runs the scenarios in that many pytest-xdist worker processes."""
    steps, features = resource_dir("steps"), resource_dir("features")
    # Only the plugins the scenarios need, named here (plugin autoload is off, see run_scenarios).
    plugins = ["pytest_bdd.plugin", "ome_harness.scenarios.plugin",
               *(["xdist.plugin", "ome_harness.scenarios.parallel"] if workers > 1 else [])]
    args = [str(steps), *(arg for name in plugins for arg in ("-p", name)), "-p", "no:cacheprovider",
            # pytest collects garbage five times at exit to report unraisable exceptions: ~0.3 s per
            # process, each xdist worker included; a scenario run reports its own failures.
            "-p", "no:unraisableexception",
            # An empty ini keeps a user's own pytest configuration (in the folder they run from) out of it.
            "-c", os.devnull, "--rootdir", str(steps.parent), "-o", f"bdd_features_base_dir={features}",
            # Only the steps' own conftest.py: in a source checkout the folder above holds the test
            # suite's, which a user's run must not load (it did, with a warning per run).
            "--confcutdir", str(steps),
            # The plugin writes every report file (junit.xml included) from the results it collected.
            "--omh-report", str(out), "--omh-fail-on", fail_on, "-rs",
            "-v" if verbose else "-q"]
    options = {"--omh-config": config, "--omh-target": target, "--omh-api-url": api_url, "--omh-token": token,
               "--omh-image": image, "-k": select, "-m": tags, "--omh-features": team_features,
               **{f"--omh-{name}": value for name, value in (media or {}).items()}}
    for flag, value in options.items():
        if value is not None:
            args += [flag, str(value)]
    if allow_mutating:
        args.append("--omh-allow-mutating")
    if workers > 1:
        # One scenario at a time to whichever worker is free, in the order parallel.py gives (long first).
        args += ["-n", str(workers), "--dist", "load", "--maxschedchunk", "1"]
    return args


@contextlib.contextmanager
def _no_plugin_autoload() -> Iterator[None]:
    """Every pytest plugin installed next to the harness (hypothesis, schemathesis, locust's: 2 s of
    imports per process, measured) stays out of a run; xdist's workers inherit the setting."""
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous


def run_scenarios(out: Path, **options: object) -> RunOutcome:
    """Run pytest in this process; SIGINT/SIGTERM unwind it and still leave an "interrupted" report."""
    out.mkdir(parents=True, exist_ok=True)
    probe = _SessionProbe()
    with interruptible_command() as interruption:
        # pytest's own temporary folders (xdist makes one per worker) go here and are removed with it,
        # not left under /tmp/pytest-of-USER.
        scratch: Path | None = None
        try:
            scratch = Path(tempfile.mkdtemp(prefix="omh-run-"))
            return _run_pytest(out, probe, interruption, [*pytest_args(out, **options),  # type: ignore[arg-type]
                                                          "--basetemp", str(scratch / "pytest")])
        finally:
            with interruption.hold():
                if scratch is not None:
                    shutil.rmtree(scratch, ignore_errors=True)


def _run_pytest(out: Path, probe: _SessionProbe, interruption: Interruption, args: list[str]) -> RunOutcome:
    try:
        with _no_plugin_autoload():
            code: int = pytest.main(args, plugins=[probe])
    except KeyboardInterrupt:
        # Before pytest's session took over (loading plugins, parsing options): nothing ran yet.
        code = pytest.ExitCode.INTERRUPTED
    except Exception:
        # pytest's own account of the interruption can fail: its terminal reporter formats the
        # KeyboardInterrupt's traceback, and a frame that Python 3.11 left without a line number (the
        # signal landed on an instruction that has none) makes it compute `None - 1` (TypeError, seen
        # in CI and reproduced here). The signal is what happened; the report below says so.
        if interruption.name is None:
            raise
        code = pytest.ExitCode.INTERRUPTED
    with interruption.hold():
        # The run's report is written (or, interrupted, about to be): it is the verdict, and a signal
        # from here on changes neither it nor the exit code.
        interruption.settle()
        collector = probe.collector
        if interruption.name is not None:
            end_child_processes()
            if collector is None:
                collector = ScenarioCollector()
            if collector.written is None or collector.interrupted_by is None:
                collector.write_report(out)
            return RunOutcome(interruption.exit_code, collector.written)
    written = collector.written if collector is not None else None
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return RunOutcome(2, written, "no scenario matches the -k/-m selection; no report was written")
    if code == pytest.ExitCode.USAGE_ERROR:
        # pytest has said why in one "ERROR: ..." line (a -k/-m that does not parse, a refused run).
        return RunOutcome(2, written)
    return RunOutcome(EXIT_CODES.get(code, 2), written,
                       None if written else "the scenarios could not run (see above); no report was written")
