"""Collects one result per scenario (pytest-bdd hooks) into the common result model."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ome_harness.container.stop_signals import Terminated, current_interruption
from ome_harness.redaction import Redactor
from ome_harness.results import CheckResult, Evidence, Status


class ScenarioCollector:
    KEY = pytest.StashKey["ScenarioCollector"]()

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self.target: Any = None
        self.secrets: list[str] = []
        self._scenarios: dict[str, tuple[str, str, list[str]]] = {}
        self._failed_step: dict[str, str] = {}
        # "SIGINT"/"SIGTERM" once a signal stopped the session; where test-report.md went, once written.
        self.interrupted_by: str | None = None
        self.written: Path | None = None
        self.selection: str | None = None
        self._deselected = 0
        """What -m/-k picked, for the report: the expressions and every scenario chosen, with its tags."""

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        option = session.config.option
        chosen = [f"{_scenario_title(item)} ({' '.join('@' + t for t in _tags(item)) or 'no tags'})"
                  for item in session.items if _scenario_title(item)]
        given = (("-m", getattr(option, "markexpr", "")), ("-k", getattr(option, "keyword", "")))
        expressions = [f"{flag} {value!r}" for flag, value in given if value]
        if expressions:
            self.selection = (f"Selected by {' '.join(expressions)}: {len(chosen)} scenario(s) "
                              f"({self._deselected} left out) — " + "; ".join(chosen))

    @pytest.hookimpl
    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self._deselected += len(items)

    @pytest.hookimpl
    def pytest_bdd_before_scenario(self, request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
        self._scenarios[request.node.nodeid] = (feature.name, scenario.name, sorted(scenario.tags))

    @pytest.hookimpl
    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                              step_func: Any, step_func_args: Any, exception: Exception) -> None:
        self._failed_step[request.node.nodeid] = f"{step.keyword} {step.name}"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Generator[None, Any, Any]:
        report = yield
        scenario = self._scenarios.get(item.nodeid)
        doc = getattr(getattr(item, "obj", None), "__doc__", "") or ""
        is_bdd = scenario is not None or ": " in doc and item.nodeid.startswith(("steps/", "steps\\"))
        if not is_bdd:
            return report
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._result(item, report, scenario, doc))
        return report

    def _result(self, item: pytest.Item, report: pytest.TestReport, scenario: Any, doc: str) -> CheckResult:
        feature, name, tags = scenario if scenario else (*doc.split(": ", 1), [])
        if report.skipped:
            status, summary = Status.SKIP, _skip_reason(report)
        elif report.passed:
            status, summary = Status.OK, "passed"
        else:
            status = Status.ERROR
            step = self._failed_step.get(item.nodeid)
            summary = f"failed at '{step}': {_failure_line(report)}" if step else _failure_line(report)
        # What a scenario recorded about itself (which image the container feature launched) is shown with it.
        summary = "; ".join([summary, *(f"{key}: {value}" for key, value in item.user_properties)])
        return CheckResult(id=item.nodeid, title=f"{feature}: {name}", status=status, summary=summary,
                           duration_ms=round(report.duration * 1000, 1),
                           evidence=[Evidence(what="tags", outcome=" ".join(f"@{t}" for t in tags) or "-")])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        # Teardown is cleanup (containers, ffmpeg, the backend's temporary database): a signal waits for
        # it, then stops the session before the next scenario.
        interruption = current_interruption()
        if interruption is None:
            return (yield)
        with interruption.hold():
            result = yield
        if interruption.name is not None:
            self.interrupted_by = interruption.name
            item.session.shouldstop = f"interrupted by {interruption.name}"
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, Any, Any]:
        # Every remaining fixture is torn down in here: signals are recorded, not raised, until it is done.
        interruption = current_interruption()
        if interruption is None:
            return (yield)
        with interruption.hold():
            return (yield)

    @pytest.hookimpl
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest.exit() comes through here too; only a signal is an interruption.
        if isinstance(excinfo.value, KeyboardInterrupt):
            interruption = current_interruption()
            self.interrupted_by = (interruption.name if interruption and interruption.name
                                   else "SIGTERM" if isinstance(excinfo.value, Terminated) else "SIGINT")

    def note_interruption(self) -> None:
        """A signal recorded while pytest cleaned up also makes the run interrupted."""
        interruption = current_interruption()
        if interruption is not None and interruption.name is not None:
            self.interrupted_by = interruption.name

    def all_secrets(self) -> list[str]:
        token = getattr(self.target, "token", None)
        return [*self.secrets, *([token] if token else [])]

    def write_report(self, out: Path) -> Path:
        from ome_harness.report.scenario_report import write_scenario_report

        self.note_interruption()
        files = write_scenario_report(self.results, self.target, out, secrets=self.all_secrets(),
                                      notes=[self.selection] if self.selection else [],
                                      interrupted_by=self.interrupted_by)
        self.written = files["markdown"]
        return self.written

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # pytest's junit.xml is written at session end and knows nothing of our secrets: scrub it after.
        xmlpath = getattr(config.option, "xmlpath", None)
        if xmlpath and Path(xmlpath).is_file() and self.all_secrets():
            path = Path(xmlpath)
            path.write_text(Redactor(self.all_secrets())(path.read_text(encoding="utf-8")), encoding="utf-8")


def _scenario_title(item: pytest.Item) -> str | None:
    """'Feature: Scenario' of a pytest-bdd scenario, else None."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    return f"{template.feature.name}: {template.name}" if template is not None else None


# pytest's own marks, not Gherkin tags.
_NOT_TAGS = {"parametrize", "usefixtures", "filterwarnings", "skip", "skipif", "xfail"}


def _tags(item: pytest.Item) -> list[str]:
    return sorted({mark.name for mark in item.iter_markers()} - _NOT_TAGS)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _failure_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:300] if text.strip() else "failed"
