"""Fixtures for the backend and database-check tests: the emulator as OME, the reference backend, both
engines.

Test modules load it with `pytest_plugins = ["backend_fixtures"]`. Every test that takes `db_url`
runs twice: on SQLite (embedded) and on a throwaway PostgreSQL cluster (skipped with one line when
the server binaries are missing; a failure under CI=true).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ome_harness.backend.client import BackendClient
from ome_harness.backend.server import BackendServer
from ome_harness.backend.settings import BackendSettings
from ome_harness.backend.throwaway_postgres import PostgresCluster, PostgresUnavailable, throwaway_postgres
from ome_harness.dbcheck import DbChecker
from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.media.publishing import wait_stream_gone
from ome_harness.ome.client import OmeClient
from ome_harness.scenarios.backend_driver import FAULTS_ENV
from ome_harness.testing import require

BACKEND_TOKEN = "backend-bearer-token-for-tests"
OME_TOKEN = "ome-api-token-2024"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster | str]:
    """One cluster per test session (per xdist worker); a string saying why when none can start."""
    try:
        with throwaway_postgres() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        yield f"PostgreSQL not available: {exc}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'backend.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    require(not isinstance(cluster, str), str(cluster))
    return cluster.create_database(f"omh_{uuid.uuid4().hex[:12]}")


@dataclass
class Rig:
    """One OME (the emulator), one reference backend on it, a client for each, a read-only DB checker."""

    ome: EmulatorServer
    backend: BackendServer
    api: BackendClient
    db: DbChecker
    db_url: str = field(repr=False)  # may carry a password

    def channel(self, channel_id: str = "news", **extra: object) -> dict:
        answer = self.api.create_channel(channel_id, **extra)
        assert answer.status == 201, answer.body
        return answer.body

    def marker(self, marker_id: str = "break30", **template: object) -> dict:
        answer = self.api.create_marker(marker_id, **template)
        assert answer.status == 201, answer.body
        return answer.body

    def wait_gone(self, stream: str, deadline_s: float = 5.0) -> float:
        """OME's DELETE is asynchronous: poll the API until the stream is 404; the seconds it took."""
        with OmeClient(self.ome.url, OME_TOKEN) as client:
            return wait_stream_gone(client, "default", "app", stream, deadline_s=deadline_s)


@pytest.fixture
def make_rig(db_url: str) -> Iterator[Callable[..., Rig]]:
    """Build rigs on this test's database: `make_rig(ome_version="0.21.0", faults={...},
    ome_token="wrong")`."""
    with ExitStack() as stack:

        def make(*, ome_version: str = "0.20.0", faults: frozenset[str] = frozenset(),
                 ome_token: str = OME_TOKEN) -> Rig:
            # Faults from the environment let a test run another test file against a broken backend.
            faults = faults | {f for f in os.environ.get(FAULTS_ENV, "").split(",") if f}
            ome = stack.enter_context(EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=OME_TOKEN,
                                                                      version=ome_version)))
            settings = BackendSettings(
                token=BACKEND_TOKEN,
                db_url=db_url,
                ome_url=ome.url,
                ome_token=ome_token,
                faults=faults,
                ome_connect_timeout=1.0,
                ome_read_timeout=3.0,
            )
            backend = stack.enter_context(BackendServer(settings))
            api = stack.enter_context(BackendClient(backend.url, BACKEND_TOKEN))
            db = stack.enter_context(DbChecker(db_url))
            return Rig(ome=ome, backend=backend, api=api, db=db, db_url=db_url)

        yield make


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    """A healthy OME v0.20.0 (SCTE-35 through the API) with the reference backend in front of it."""
    return make_rig()
