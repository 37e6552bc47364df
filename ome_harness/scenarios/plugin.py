"""pytest plugin behind features/ and steps/: target from config, mutating gate, scenario results.

Loaded by the repository's root conftest.py and by `ome-harness run` (with -p), so the same
fixtures serve a developer's `pytest` and a user's installed `ome-harness run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ome_harness.config import ConfigError, HarnessConfig, load_config, scenario_target
from ome_harness.container.errors import ContainerError
from ome_harness.ome.client import OmeClient
from ome_harness.redaction import install_log_redaction
from ome_harness.report.charts import chart_data
from ome_harness.report.coverage import COVERAGE_TAGS
from ome_harness.report.run_facts import add_container_log, launch_failure, session_facts
from ome_harness.scenarios.collector import ScenarioCollector, scenario_of
from ome_harness.target import OmeTarget, open_target
from ome_harness.target.media_addresses import EXAMPLES, NAMES, require_ingest_address

# pytest ini switch with which this repository's own test run lets the container feature launch the
# stand-in image when the target is not a container (ome_harness/scenarios/container_launch.py).
STANDIN_OPT_IN = "omh_container_feature_standin"

# Registered here, not in an ini file, so an installed `ome-harness run` knows them too.
MARKERS = {
    "connectivity": "reaching the OME API",
    "authentication": "the API token",
    "streams": "the streams endpoint",
    "metrics": "the stats endpoints",
    "media": "needs a real encoder (ffmpeg) pushing media",
    "playback": "a viewer plays a stream (LL-HLS, WebRTC)",
    "browser": "a viewer's browser plays a stream (OvenPlayer + hls.js in Chromium; ~0.6 core each)",
    "mutating": "changes state on the target (skipped on a target the harness did not launch, "
                "unless --allow-mutating)",
    "docker": "needs a Docker engine",
    "container": "launches an OME container",
    "backend": "exercises the stream backend",
    "db": "checks the database",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ome-harness", "ome-harness scenarios")
    group.addoption("--omh-config", default=None, help="ome-harness YAML config for the scenarios")
    group.addoption("--omh-target", default=None, choices=("emulator", "url", "container"),
                    help="where the scenarios run (default: the built-in emulator)")
    group.addoption("--omh-api-url", default=None, help="OME API URL (with --omh-target url)")
    group.addoption("--omh-token", default=None, help="OME API access token")
    group.addoption("--omh-image", default=None, help="OME image (with --omh-target container)")
    group.addoption("--omh-allow-mutating", action="store_true", default=None,
                    help="allow @mutating scenarios against a target the harness did not launch")
    group.addoption("--omh-report", default=None,
                    help="diagnose the target first and write the run report (test-report.md, results.json, "
                         "junit.xml, cucumber.json, test-report.html) here")
    group.addoption("--omh-features", default=None,
                    help="a folder of your own .feature files to run with the harness's shared steps")
    group.addoption("--omh-fail-on", default="error", choices=("warn", "error"),
                    help="which outcome makes the run fail (default: error)")
    for protocol, example in EXAMPLES.items():
        group.addoption(f"--omh-{protocol}-url", default=None,
                        help=f"{NAMES[protocol]} base URL of an OME the harness did not launch ({example})")
    group.addoption("--omh-server-xml", default=None, help="OME's Server.xml: media ports on the API's host")
    group.addoption("--omh-stream-prefix", default=None, help="test streams' name prefix (default omh-)")
    parser.addini(STANDIN_OPT_IN, type="bool", default=False,
                  help="launch the harness's stand-in image in the container feature when the target is "
                       "not a container (this repository's own test run)")


_TEAM_FEATURES: list[Path] = []


def team_features_dir() -> Path | None:
    """The folder given with --omh-features in this session (read by steps/test_team_features.py)."""
    return _TEAM_FEATURES[-1] if _TEAM_FEATURES else None


def pytest_configure(config: pytest.Config) -> None:
    _TEAM_FEATURES.clear()
    if config.getoption("--omh-features", None):
        _TEAM_FEATURES.append(Path(config.getoption("--omh-features")).resolve())
    for name, text in (MARKERS | COVERAGE_TAGS).items():
        config.addinivalue_line("markers", f"{name}: {text}")
    collector = ScenarioCollector(config)
    config.stash[ScenarioCollector.KEY] = collector
    config.pluginmanager.register(collector, "omh-scenario-collector")


def _overrides(config: pytest.Config) -> dict[str, Any]:
    opt = config.getoption
    return {"target": opt("--omh-target"), "allow_mutating": opt("--omh-allow-mutating"),
            "api": {"url": opt("--omh-api-url"), "token": opt("--omh-token")},
            "container": {"image": opt("--omh-image")},
            "endpoints": {p: opt(f"--omh-{p}-url") for p in EXAMPLES},
            "checks": {"server_xml": opt("--omh-server-xml")},
            "media": {"stream_prefix": opt("--omh-stream-prefix")},
            # Container logs and other artefacts land next to test-report.md.
            "report": {"out": opt("--omh-report")}}


@pytest.hookimpl(trylast=True)  # after -m/-k deselected what they do not pick
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse the run, in one line, when selected scenarios would publish to an OME of unknown address."""
    publishing = sum(1 for item in items if item.get_closest_marker("media"))
    if not publishing:
        return
    try:
        cfg = load_config(config.getoption("--omh-config"), _overrides(config))
        if scenario_target(cfg) == "url" and cfg.allow_mutating:
            require_ingest_address(cfg, publishing)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    """The harness configuration the scenarios run with (file, OMH_* env, --omh-* options)."""
    try:
        cfg = load_config(pytestconfig.getoption("--omh-config"), _overrides(pytestconfig))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    cfg.target = scenario_target(cfg)  # a given API URL means that URL, never a silent emulator
    pytestconfig.stash[ScenarioCollector.KEY].secrets.extend(cfg.secrets())
    install_log_redaction(cfg.secrets())  # pytest shows captured log records in reports
    return cfg


@pytest.fixture(scope="session")
def ome_target(harness_config: HarnessConfig, pytestconfig: pytest.Config) -> Iterator[OmeTarget]:
    """The OME under test; whatever the harness starts for it is stopped at the end of the session."""
    collector: ScenarioCollector = pytestconfig.stash[ScenarioCollector.KEY]
    with contextlib.ExitStack() as owned:
        try:
            target = owned.enter_context(open_target(harness_config))
        except ContainerError as exc:
            collector.session.update(launch_failure(exc, harness_config))
            pytest.exit(f"could not launch OME: {exc}", returncode=2)
        collector.target = target
        if pytestconfig.getoption("--omh-report"):
            collector.session.update(session_facts(target, harness_config))
        # pytest resumes the generator at teardown; the ExitStack then stops what open_target started.
        yield target


@pytest.fixture(scope="session", autouse=True)
def _diagnosis_first(request: pytest.FixtureRequest) -> None:
    """`ome-harness run` opens and diagnoses the target (read-only) before any scenario, for its report."""
    if request.config.getoption("--omh-report"):
        request.getfixturevalue("ome_target")


@pytest.fixture
def keep_for_report(request: pytest.FixtureRequest) -> Callable[[str, Any], Any]:
    """`keep_for_report(chart, value)`: a step keeps a measurement for the report's charts; returns the
    value."""

    def keep(chart: str, value: Any) -> Any:
        run = scenario_of(request.node)
        if run is not None:
            run.charts[chart] = chart_data(chart, value)
        return value

    return keep


@pytest.fixture
def ome_client(ome_target: OmeTarget) -> Iterator[OmeClient]:
    with ome_target.client() as client:
        yield client


@pytest.fixture(autouse=True)
def _mutating_gate(request: pytest.FixtureRequest) -> None:
    """Read-only by default: a target we did not launch is only changed on explicit request."""
    if request.node.get_closest_marker("mutating") is None:
        return
    target: OmeTarget = request.getfixturevalue("ome_target")
    cfg: HarnessConfig = request.getfixturevalue("harness_config")
    if not (target.launched or cfg.allow_mutating):
        pytest.skip("mutating scenario: the target was not launched by the harness "
                    "(pass --allow-mutating to run it against this OME)")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # trylast: after pytest's own sessionfinish has torn down every fixture (containers removed).
    out = session.config.getoption("--omh-report")
    if not out or hasattr(session.config, "workerinput"):  # xdist workers ship results; the controller writes
        return
    collector: ScenarioCollector = session.config.stash[ScenarioCollector.KEY]
    collector.note_interruption()
    # Nothing ran and no target was opened (a usage error, say): nothing to report — unless a signal
    # stopped the run, which always gets a report, even before its first scenario finished.
    if (
        collector.results
        or collector.interrupted_by
        or {"diagnosis", "launch_error"} & collector.session.keys()
    ):
        collector.session.setdefault("fail_on", session.config.getoption("--omh-fail-on"))
        add_container_log(collector.session)
        report = collector.build_report()
        collector.write_report(Path(out), report)
        if report.exit_code == 1 and session.exitstatus == pytest.ExitCode.OK:
            # --fail-on warn, or a failed diagnosis check: the report's verdict is the run's.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
