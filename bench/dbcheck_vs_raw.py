"""One database check vs. the same read done bare, on SQLite and on a throwaway PostgreSQL, in one process.

Baseline: `SELECT status FROM channels WHERE id = :id` on a plain engine opened per read (what a
short, pool-less read costs anyway). The checker adds a read-only connection setup, reflection
(cached), logical-name mapping and the comparison. Rounds alternate so drift hits both alike.
Prints medians and the ratio.  Run: python bench/dbcheck_vs_raw.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ome_harness.backend.database import open_database
from ome_harness.backend.models import Channel
from ome_harness.backend.throwaway_postgres import PostgresUnavailable, throwaway_postgres
from ome_harness.dbcheck import DbChecker


def _seed(url: str) -> None:
    engine, sessions = open_database(url)
    with sessions() as session:
        session.add(Channel(id="news", name="news", status="active", stream_key="k" * 32, ome_vhost="default",
                            ome_app="app", ome_stream="k" * 32))
        session.commit()
    engine.dispose()


def compare(label: str, url: str, rounds: int) -> None:
    _seed(url)
    raw_engine = create_engine(url, poolclass=NullPool)
    checker = DbChecker(url)
    checker.expect_channel_status("news", "active")  # reflection happens once, outside the timing
    ours, raw = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        checker.expect_channel_status("news", "active")
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        with raw_engine.connect() as conn:
            assert (
                conn.execute(text("SELECT status FROM channels WHERE id = :id"), {"id": "news"}).scalar()
                == "active"
            )
        raw.append(time.perf_counter() - started)
    checker.close()
    raw_engine.dispose()
    a, b = statistics.median(ours), statistics.median(raw)
    print(f"{label:<10} check {a * 1000:7.2f} ms   raw {b * 1000:7.2f} ms   ratio {a / b:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        compare("sqlite", f"sqlite:///{folder}/bench.db", rounds)
    try:
        with throwaway_postgres() as cluster:
            compare("postgresql", cluster.create_database("bench"), rounds)
    except PostgresUnavailable as exc:
        print(f"postgresql skipped: {exc}")


if __name__ == "__main__":
    main()
