"""`ome-harness run`: the bundled features and steps through pytest-bdd, from any folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ome_harness.child_processes import end_child_processes
from ome_harness.container.stop_signals import interruptible_command
from ome_harness.resources import resource_dir
from ome_harness.scenarios.collector import ScenarioCollector

# pytest's exit codes folded into ours: 0 passed, 1 a scenario failed, 2 could not run,
# 130/143 interrupted by SIGINT/SIGTERM (decided by the signal, not by pytest).
EXIT_CODES = {pytest.ExitCode.OK: 0, pytest.ExitCode.TESTS_FAILED: 1}


@dataclass
class ScenarioRun:
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
                team_features: Path | None = None) -> list[str]:
    """`media`: --omh-* options for where media goes (rtmp-url, srt-url, llhls-url, webrtc-url, server-xml,
    stream-prefix)."""
    steps, features = resource_dir("steps"), resource_dir("features")
    args = [str(steps), "-p", "ome_harness.scenarios.plugin", "-p", "no:cacheprovider",
            # An empty ini keeps a user's own pytest configuration (in the folder they run from) out of it.
            "-c", os.devnull, "--rootdir", str(steps.parent), "-o", f"bdd_features_base_dir={features}",
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
    return args


def run_scenarios(out: Path, **options: object) -> ScenarioRun:
    """Run pytest in this process; SIGINT/SIGTERM unwind it and still leave an "interrupted" report."""
    out.mkdir(parents=True, exist_ok=True)
    probe = _SessionProbe()
    with interruptible_command() as interruption:
        try:
            code: int = pytest.main(pytest_args(out, **options), plugins=[probe])  # type: ignore[arg-type]
        except KeyboardInterrupt:
            # Before pytest's session took over (loading plugins, parsing options): nothing ran yet.
            code = pytest.ExitCode.INTERRUPTED
        with interruption.hold():
            collector = probe.collector
            if interruption.name is not None:
                end_child_processes()
                if collector is None:
                    collector = ScenarioCollector()
                if collector.written is None or collector.interrupted_by is None:
                    collector.write_report(out)
                return ScenarioRun(interruption.exit_code, collector.written)
    written = collector.written if collector is not None else None
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return ScenarioRun(2, written, "no scenario matches the -k/-m selection; no report was written")
    if code == pytest.ExitCode.USAGE_ERROR:
        # pytest has said why in one "ERROR: ..." line (a -k/-m that does not parse, a refused run).
        return ScenarioRun(2, written)
    return ScenarioRun(EXIT_CODES.get(code, 2), written,
                       None if written else "the scenarios could not run (see above); no report was written")
