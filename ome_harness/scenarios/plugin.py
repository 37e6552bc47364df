"""pytest plugin behind features/ and steps/: target from config, mutating gate, scenario results.

Loaded by the repository's root conftest.py and by `ome-harness run` (with -p), so the same
fixtures serve a developer's `pytest` and a user's installed `ome-harness run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ome_harness.config import ConfigError, HarnessConfig, load_config, scenario_target
from ome_harness.container.errors import ContainerError
from ome_harness.ome.client import OmeClient
from ome_harness.redaction import install_log_redaction
from ome_harness.scenarios.collector import ScenarioCollector
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
    group.addoption("--omh-report", default=None, help="write test-report.md and test-report.json here")
    for protocol, example in EXAMPLES.items():
        group.addoption(f"--omh-{protocol}-url", default=None,
                        help=f"{NAMES[protocol]} base URL of an OME the harness did not launch ({example})")
    group.addoption("--omh-server-xml", default=None, help="OME's Server.xml: media ports on the API's host")
    group.addoption("--omh-stream-prefix", default=None, help="test streams' name prefix (default omh-)")
    parser.addini(STANDIN_OPT_IN, type="bool", default=False,
                  help="launch the harness's stand-in image in the container feature when the target is "
                       "not a container (this repository's own test run)")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    collector = ScenarioCollector()
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
    with contextlib.ExitStack() as owned:
        try:
            target = owned.enter_context(open_target(harness_config))
        except ContainerError as exc:
            pytest.exit(f"could not launch OME: {exc}", returncode=2)
        pytestconfig.stash[ScenarioCollector.KEY].target = target
        # pytest resumes the generator at teardown; the ExitStack then stops what open_target started.
        yield target


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
    collector: ScenarioCollector = session.config.stash[ScenarioCollector.KEY]
    collector.note_interruption()
    # An interrupted run always gets a report, even before its first scenario finished.
    if out and (collector.results or collector.interrupted_by):
        collector.write_report(Path(out))
