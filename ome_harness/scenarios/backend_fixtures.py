"""Scenario fixtures for the stream backend: the backend under test, and one whose OME the harness can stop.

Imported by steps/conftest.py (pytest-bdd shares fixtures and steps through conftest), so it also works in an
installed `ome-harness run`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from ome_harness.backend.under_test import BackendUnderTest, backend_with_own_ome, now, open_backend
from ome_harness.config import ConfigError, HarnessConfig
from ome_harness.target import OmeTarget

FIRST_WITHOUT_SCTE35_API = "0.21.0"


@contextmanager
def _refusing_bad_config() -> Iterator[None]:
    """A configuration the backend cannot be run with fails the scenario with its sentence, no traceback."""
    try:
        yield
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def stream_backend(harness_config: HarnessConfig, ome_target: OmeTarget) -> Iterator[BackendUnderTest]:
    """The backend the run verifies: `backend.url`, or the reference backend in-process on the target's OME."""
    with _refusing_bad_config(), open_backend(harness_config, ome_target) as backend:
        yield backend


@pytest.fixture
def stoppable_backend(harness_config: HarnessConfig) -> Iterator[BackendUnderTest]:
    """The reference backend in front of an OME of its own that a scenario may stop (degraded mode)."""
    if harness_config.backend.url:
        pytest.skip("degraded mode is verified on the reference backend, whose OME the harness can stop; "
                    "for your backend, stop your OME and run the backend scenarios again")
    with _refusing_bad_config(), backend_with_own_ome(harness_config) as backend:
        yield backend


@pytest.fixture
def backend_on_ome_without_scte35(harness_config: HarnessConfig) -> Iterator[BackendUnderTest]:
    """The reference backend on an emulator of the first OME without SCTE-35 in its API (v0.21.0)."""
    if harness_config.backend.url:
        pytest.skip("the target's OME still accepts SCTE-35 through its API; upgrade behaviour is shown "
                    "on the reference backend only")
    with _refusing_bad_config(), backend_with_own_ome(harness_config, version=FIRST_WITHOUT_SCTE35_API) as backend:
        yield backend


@pytest.fixture
def step_started(backend: BackendUnderTest) -> datetime:
    """When the scenario's action began: audit entries must be at least this new (2s grace for another host's clock)."""
    return now() - timedelta(seconds=0 if backend.launched else 2)

