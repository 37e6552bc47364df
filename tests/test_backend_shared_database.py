"""Reference backends sharing one database (`run --workers` with backend.reference_db_url) all start."""

from __future__ import annotations

import threading

from ome_harness.backend.database import open_database
from ome_harness.backend.throwaway_postgres import PostgresCluster
from ome_harness.testing import require

pytest_plugins = ["backend_fixtures"]


def _open_together(url: str, count: int) -> list[str]:
    """`count` backends opening `url` at the same moment; what each that failed said."""
    start = threading.Barrier(count)
    failures: list[str] = []

    def open_it() -> None:
        start.wait()  # as xdist workers starting their first backend scenario together
        try:
            engine, _ = open_database(url)
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            failures.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def test_backends_opening_one_new_postgresql_database_at_once_all_get_their_tables(
        postgres_cluster: PostgresCluster | str) -> None:
    require(not isinstance(postgres_cluster, str), str(postgres_cluster))
    for attempt in range(3):
        url = postgres_cluster.create_database(f"omh_shared_{attempt}")
        # Without a second pass PostgreSQL refuses all but one CREATE TABLE (IntegrityError), every time here.
        assert _open_together(url, 6) == []
