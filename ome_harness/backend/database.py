"""The backend's database: engine settings per engine, schema creation on start, sessions."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from ome_harness.backend.models import Base
from ome_harness.config import ConfigError
from ome_harness.dbcheck.checker import describe_db_url


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """An engine for the backend's own database, with its tables created if missing."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"not a database URL: {describe_db_url(url)} (expected e.g. sqlite:///backend.db)"
        ) from None
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        # The API answers from a thread pool; SQLite serialises writers, so wait for the lock
        # instead of failing with "database is locked".
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"no driver for {describe_db_url(url)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", _sqlite_wal)
    _create_tables(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


def _create_tables(engine: Engine) -> None:
    """The tables, once. Several reference backends may share one database (`run --workers` with
    backend.reference_db_url): two that both find a table missing both create it, and PostgreSQL refuses
    the second; by then the table exists, and a second pass finds it."""
    try:
        Base.metadata.create_all(engine)
    except (IntegrityError, ProgrammingError):
        Base.metadata.create_all(engine)


def _sqlite_wal(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the read-only checker read while the backend writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
