"""Collects one result per scenario into the common result model, also when pytest-xdist runs them.

How a scenario is recognised: pytest-bdd keeps every scenario function it generates in
`pytest_bdd.scenario.scenario_wrapper_template_registry` (function -> its ScenarioTemplate);
`tests/test_scenario_collector.py` pins that internal. At collection the collector stores a
`ScenarioRun` in the item's stash (the project's own key), so nothing later depends on the
generated `__doc__` or on where the test module lives.

How results travel: the part that sees the test run (`pytest_runtest_makereport`, on an xdist
worker or in the only process) attaches the scenario record to the test report as
`omh_scenario` (plain JSON data, so xdist ships it to the controller); the part that builds
results (`pytest_runtest_logreport`) runs where every report arrives and does nothing on workers.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd.scenario import scenario_wrapper_template_registry

from ome_harness.container.stop_signals import Terminated, current_interruption
from ome_harness.redaction import Redactor
from ome_harness.results import CheckResult, Evidence, Report, ScenarioRun, ScenarioStep, Status

SCENARIO_KEY = pytest.StashKey[ScenarioRun]()
SESSION_ATTR = "omh_session"
SCENARIO_ATTR = "omh_scenario"


def _scenario_run(item: pytest.Item) -> ScenarioRun | None:
    """The scenario behind a collected item, rendered with its example row for a Scenario Outline."""
    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    if template is None:
        return None
    callspec = getattr(item, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec else {}
    scenario = template.render(example)
    feature = template.feature
    rule_tags = template.rule.tags if template.rule else set()
    return ScenarioRun(
        feature=feature.name, feature_file=feature.rel_filename, feature_line=feature.line_number,
        feature_tags=sorted(feature.tags), scenario=scenario.name, line=scenario.line_number,
        tags=sorted(template.tags | feature.tags | rule_tags),
        steps=[ScenarioStep(keyword=s.keyword, name=s.name, line=s.line_number) for s in scenario.steps],
        uses_target="ome_target" in getattr(item, "fixturenames", ()))


def _collection_order(result: CheckResult) -> tuple[str, str, int, str]:
    """Results in the order a serial run collects them (module, then feature line), also when xdist
    workers finish them in another order: the report reads the same however the run was split."""
    scenario = result.scenario
    return (result.id.split("::")[0], scenario.feature_file if scenario else "",
            scenario.line if scenario else 0, result.id)


def scenario_of(item: pytest.Item) -> ScenarioRun | None:
    return item.stash.get(SCENARIO_KEY, None)


class ScenarioCollector:
    KEY = pytest.StashKey["ScenarioCollector"]()

    def __init__(self, config: pytest.Config | None = None) -> None:
        self.results: list[CheckResult] = []
        self.target: Any = None
        self.secrets: list[str] = []
        # Filled by the plugin where the target lives; shipped to the controller with the first report.
        self.session: dict[str, Any] = {}
        self._session_sent = False
        self._is_worker = config is not None and hasattr(config, "workerinput")
        self._step_started: dict[str, float] = {}
        # "SIGINT"/"SIGTERM" once a signal stopped the session; where test-report.md went, once written.
        self.interrupted_by: str | None = None
        self.written: Path | None = None
        self._deselected = 0

    # --- where the scenarios run ---------------------------------------------------------------

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """What -m/-k picked, for the report's Notes: the expressions and every scenario chosen, with its
        tags."""
        option = session.config.option
        if getattr(option, "numprocesses", None) and not self._is_worker:
            return  # the xdist controller collects nothing; its workers ship the selection with their facts
        chosen = [f"{run.feature}: {run.scenario} ({' '.join('@' + t for t in run.tags) or 'no tags'})"
                  for item in session.items if (run := scenario_of(item)) is not None]
        given = (("-m", getattr(option, "markexpr", "")), ("-k", getattr(option, "keyword", "")))
        expressions = [f"{flag} {value!r}" for flag, value in given if value]
        if expressions:
            self.session["selection"] = (f"Selected by {' '.join(expressions)}: {len(chosen)} scenario(s) "
                                         f"({self._deselected} left out) — " + "; ".join(chosen))

    @pytest.hookimpl
    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self._deselected += len(items)

    @pytest.hookimpl
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            run = _scenario_run(item)
            if run is not None:
                item.stash[SCENARIO_KEY] = run

    @pytest.hookimpl
    def pytest_bdd_before_step(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        self._step_started[request.node.nodeid] = time.monotonic()

    @pytest.hookimpl
    def pytest_bdd_after_step(self, request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
        self._mark_step(request.node, step, "passed")

    @pytest.hookimpl
    def pytest_bdd_step_error(self, request: pytest.FixtureRequest, step: Any, exception: Exception,
                              **_: Any) -> None:
        run = self._mark_step(request.node, step, "failed", _first_line(str(exception)))
        if run is not None:
            run.failed_step = f"{step.keyword} {step.name}"
            run.cause = _cause(exception)

    @pytest.hookimpl
    def pytest_bdd_after_scenario(self, request: pytest.FixtureRequest) -> None:
        # Steps ask for fixtures as they run, so only now is it known whether the scenario needed the
        # run's OME (request.fixturenames includes every fixture requested so far, transitively).
        run = scenario_of(request.node)
        if run is not None:
            run.uses_target = "ome_target" in request.fixturenames

    @pytest.hookimpl
    def pytest_bdd_step_func_lookup_error(self, request: pytest.FixtureRequest, step: Any,
                                          exception: Exception, **_: Any) -> None:
        run = self._mark_step(request.node, step, "undefined", _first_line(str(exception)))
        if run is not None:
            run.failed_step = f"{step.keyword} {step.name}"

    def _mark_step(
        self, item: pytest.Item, step: Any, status: str, error: str | None = None
    ) -> ScenarioRun | None:
        run = scenario_of(item)
        if run is None:
            return None
        started = self._step_started.pop(item.nodeid, time.monotonic())
        for recorded in run.steps:
            if recorded.line == step.line_number and recorded.status == "skipped":
                recorded.status = status  # type: ignore[assignment]
                recorded.duration_ms = round((time.monotonic() - started) * 1000, 1)
                recorded.error = error
                break
        return run

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo
    ) -> Generator[None, Any, Any]:
        report = yield
        run = scenario_of(item)
        if run is not None:
            setattr(report, SCENARIO_ATTR, run.model_dump(mode="json"))
            if self.session and not self._session_sent:
                setattr(report, SESSION_ATTR, self.session)
                self._session_sent = True
        return report

    # --- where the results are gathered (the xdist controller, or the only process) -------------

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._is_worker:
            return
        for key, value in (getattr(report, SESSION_ATTR, None) or {}).items():
            self.session.setdefault(key, value)
        data = getattr(report, SCENARIO_ATTR, None)
        if data is None:
            return
        run = ScenarioRun.model_validate(data)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(_result(report, run))
        elif report.when == "teardown" and report.failed:
            self._teardown_failed(report)

    def _teardown_failed(self, report: pytest.TestReport) -> None:
        for result in self.results:
            if result.id == report.nodeid and result.status is not Status.ERROR:
                result.status = Status.ERROR
                result.summary = f"failed while cleaning up: {_failure_line(report)}"

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

    def build_report(self) -> Report:
        from ome_harness.report.run_report import run_report

        self.note_interruption()
        return run_report(sorted(self.results, key=_collection_order),
                          {**self.session, "interrupted_by": self.interrupted_by})

    def write_report(self, out: Path, report: Report | None = None) -> dict[str, Path]:
        from ome_harness.report.render import write_report

        files = write_report(report or self.build_report(), out, secrets=self.all_secrets())
        self.written = files["markdown"]
        return files

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # pytest's junit.xml is written at session end and knows nothing of our secrets: scrub it after.
        xmlpath = getattr(config.option, "xmlpath", None)
        if xmlpath and Path(xmlpath).is_file() and self.all_secrets():
            path = Path(xmlpath)
            path.write_text(Redactor(self.all_secrets())(path.read_text(encoding="utf-8")), encoding="utf-8")


def _result(report: pytest.TestReport, run: ScenarioRun) -> CheckResult:
    if report.skipped:
        status, summary = Status.SKIP, _skip_reason(report)
    elif report.passed:
        status, summary = Status.OK, "passed"
    else:
        status = Status.ERROR
        if run.failed_step:
            summary = f"failed at '{run.failed_step}': {_failure_line(report)}"
        else:
            summary = _failure_line(report)
            if report.when == "setup":
                summary = f"could not be set up: {summary}"
    # What a scenario recorded about itself (which image the container feature launched) is shown with it.
    summary = "; ".join([summary, *(f"{key}: {value}" for key, value in report.user_properties)])
    return CheckResult(
        id=report.nodeid,
        title=f"{run.feature}: {run.scenario}",
        status=status,
        summary=summary,
        duration_ms=round(report.duration * 1000, 1),
        kind="scenario",
        scenario=run,
        evidence=[Evidence(what="tags", outcome=" ".join(f"@{t}" for t in run.tags) or "-")],
    )


def _cause(exception: BaseException) -> str | None:
    """A typed failure names its cause; an assertion does not (the diagnosis and the failed step do)."""
    from sqlalchemy.exc import OperationalError

    from ome_harness.backend.client import BackendUnreachable
    from ome_harness.ome.errors import OmeBadResponse, OmeTimeout, OmeUnauthorized, OmeUnreachable

    for kind, cause in (
        (OmeUnreachable, "ome_unreachable"),
        (OmeTimeout, "ome_timeout"),
        (OmeUnauthorized, "ome_unauthorized"),
        (OmeBadResponse, "ome_bad_response"),
        (BackendUnreachable, "backend_unreachable"),
        (OperationalError, "database_unreachable"),
    ):
        if isinstance(exception, kind):
            return cause
    return None


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["failed"])[0][:300]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _failure_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:300] if text.strip() else "failed"
