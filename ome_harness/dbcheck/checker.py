"""Read-only database checks for steps: what a backend should have written after each workflow.

Every check opens a connection, reads in one short transaction and closes it (NullPool): nothing
is held open against a user's database between steps. Writes are refused by the database itself
where the engine allows it (SQLite `mode=ro` + `PRAGMA query_only`, PostgreSQL
`default_transaction_read_only`, MySQL `SET SESSION TRANSACTION READ ONLY`), not only by our habits.
Tables are reflected, so a user's backend needs no models of ours: only `backend.table_map`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ome_harness.dbcheck.mapping import TableMap
from ome_harness.redaction import fingerprint

RECENT = 5
"""How many of a channel's newest audit entries a failure message shows."""

SCAN = 500
"""How many matching audit entries are read when a filter cannot be put in SQL (text times, marker in details)."""


def _row_key(row: dict[str, Any]) -> str:
    """A row's identity for setting it aside (audit rows have no id in every schema; all their values are)."""
    return repr(sorted((k, repr(v)) for k, v in row.items()))


class DbCheckFailed(AssertionError):
    """The database does not hold what the workflow should have written; the message says what was found."""


class DbUnavailable(Exception):
    """The database could not be read (connection, missing table or column): not a verdict on the backend."""


def describe_db_url(url: str | URL) -> str:
    """The URL as logs and reports may show it: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable database URL)"


def read_only_engine(url: str | URL) -> Engine:
    """An engine whose connections cannot write, on every engine we know how to lock."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DbUnavailable(f"not a database URL: {describe_db_url(url)}") from None
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise DbUnavailable("an in-memory SQLite database cannot be checked from outside its process")
        path = parsed.database.removeprefix("file:")
        parsed = parsed.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
        connect_args = {"timeout": 5}
    elif backend == "postgresql":
        connect_args = {"connect_timeout": 5,
                        "options": "-c default_transaction_read_only=on -c statement_timeout=5000"}
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_query_only)
    elif backend in ("mysql", "mariadb"):
        event.listen(engine, "connect", _mysql_read_only)
    return engine


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _mysql_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()


def as_utc(value: Any) -> datetime | None:
    """Timestamps as aware UTC; naive ones are taken as UTC (the reference backend stores UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bound_for(moment: datetime, column_type: DateTime) -> datetime:
    # A naive column holds UTC (as ours does): compare naive UTC, or PostgreSQL would apply the session's zone.
    return moment if column_type.timezone else moment.replace(tzinfo=None)


def _values(data: Any) -> list[Any]:
    """Every scalar in a JSON-like structure (dict values, list items), flattened."""
    if isinstance(data, dict):
        return [v for value in data.values() for v in _values(value)]
    if isinstance(data, list):
        return [v for value in data for v in _values(value)]
    return [data]


def _show(row: dict[str, Any]) -> str:
    # Stream keys are credentials for ingest: failure messages show a fingerprint, never the key.
    return ", ".join(f"{k}={fingerprint(str(v)) if k == 'stream_key' and v else repr(v)}" for k, v in row.items())


class DbChecker:
    """Checks by logical name (`channels`, `audit`, `markers`) against any SQLAlchemy URL."""

    def __init__(self, url: str | URL, table_map: dict[str, dict[str, str]] | None = None) -> None:
        self.url = describe_db_url(url)
        self.map = TableMap(table_map)
        self.engine = read_only_engine(url)
        self._tables: dict[str, Table] = {}
        self._earlier: set[str] = set()  # audit rows set aside as another scenario's

    def set_aside_audit(self, channel_id: str) -> int:
        """The channel's audit rows written so far are not the caller's: later expectations ignore them.

        A user's backend is verified on one configured channel; without this, a check's clock grace
        would accept (or object to) the previous scenario's row written a moment before.
        """
        rows = self.audit_entries(channel_id, limit=SCAN)
        self._earlier.update(_row_key(row) for row in rows)
        return len(rows)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> DbChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin() as transaction:
                yield conn
                transaction.rollback()  # read-only: there is never anything to commit
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise DbUnavailable(f"cannot read the database {self.url}: {reason}") from None

    def _table(self, conn: Connection, logical: str) -> Table:
        if logical not in self._tables:
            name = self.map.table(logical)
            try:
                table = Table(name, MetaData(), autoload_with=conn)
            except NoSuchTableError:
                raise DbUnavailable(f"{self.url} has no table '{name}' (logical '{logical}'; map it with "
                                    f"backend.table_map.{logical}.table)") from None
            missing = [c for c in self.map.columns(logical).values() if c not in table.c]
            if missing:
                raise DbUnavailable(f"table '{name}' has no column(s) {', '.join(map(repr, missing))} "
                                    f"(map them in backend.table_map.{logical}, or '-' if absent)")
            self._tables[logical] = table
        return self._tables[logical]

    def _rows(self, logical: str, where: dict[str, Any], order_by: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
        """Rows of a logical table as {logical key: value}, filtered by equality on logical keys."""
        columns = self.map.columns(logical)
        with self._read() as conn:
            table = self._table(conn, logical)
            query = select(*(table.c[real].label(key) for key, real in columns.items()))
            for key, value in where.items():
                query = query.where(table.c[columns[key]] == value)
            if order_by is not None:
                query = query.order_by(table.c[columns[order_by]].desc())
            if limit is not None:
                query = query.limit(limit)
            return [dict(row._mapping) for row in conn.execute(query)]

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        rows = self._rows("channels", {"id": channel_id})
        return rows[0] if rows else None

    def audit_entries(self, channel_id: str | None = None, limit: int = RECENT) -> list[dict[str, Any]]:
        where = {"channel": channel_id} if channel_id is not None else {}
        return self._rows("audit", where, order_by="time", limit=limit)

    # -- checks -----------------------------------------------------------------------------
    def expect_channel_status(self, channel_id: str, status: str) -> dict[str, Any]:
        """`status` is logical ('active'/'inactive'); the table map says how the schema spells it."""
        wanted = self.map.value("channels", f"{status}_value") if status in ("active", "inactive") else status
        table, column = self.map.table("channels"), self.map.column("channels", "status")
        row = self._expect_channel(channel_id, f"{column}={wanted!r}")
        if str(row.get("status")) != wanted:
            raise DbCheckFailed(f"expected {table} row id={channel_id!r} with {column}={wanted!r}; "
                                f"found {column}={row.get('status')!r} ({_show(row)})")
        return row

    def expect_stream_key(self, channel_id: str, stream_key: str) -> dict[str, Any]:
        """The key the API handed out is the one stored (shown only as a fingerprint on failure)."""
        __tracebackhide__ = True  # pytest would print this frame's arguments: the key
        table, column = self.map.table("channels"), self.map.column("channels", "stream_key")
        row = self._expect_channel(channel_id, f"{column} = the returned key")
        stored = row.get("stream_key")
        if stored != stream_key:
            shown = fingerprint(str(stored)) if stored else repr(stored)
            raise DbCheckFailed(f"expected {table} row id={channel_id!r} to store the stream key the API "
                                f"returned ({fingerprint(stream_key)}); found {column} {shown}")
        return row

    def _expect_channel(self, channel_id: str, wanted: str) -> dict[str, Any]:
        row = self.channel(channel_id)
        if row is None:
            table = self.map.table("channels")
            known = [r["id"] for r in self._rows("channels", {}, limit=10)]
            raise DbCheckFailed(f"expected a {table} row id={channel_id!r} with {wanted}; found no row with "
                                f"that id (ids present: {known or 'none'})")
        return row

    def expect_audit(self, action: str, channel_id: str | None, *, after: datetime | None = None,
                     outcome: str | None = "ok", marker_id: str | None = None) -> dict[str, Any]:
        """An audit entry for `action` on the channel, newer than `after`, with the outcome (and marker)."""
        real_action = self.map.action(action)
        wanted_outcome = self.map.value("audit", "ok_value") if outcome == "ok" else outcome
        since = as_utc(after) if after is not None else None
        columns = self.map.columns("audit")
        with self._read() as conn:
            table = self._table(conn, "audit")
            column = {key: table.c[real] for key, real in columns.items()}
            query = select(*(c.label(key) for key, c in column.items())).where(column["action"] == real_action)
            if channel_id is not None:
                query = query.where(column["channel"] == channel_id)
            if wanted_outcome is not None and "outcome" in column:
                query = query.where(column["outcome"] == wanted_outcome)
            # A time stored as text, or a marker only named in a details text, is filtered here in Python.
            time_in_sql = since is not None and isinstance(column["time"].type, DateTime)
            if time_in_sql:
                query = query.where(column["time"] >= _bound_for(since, column["time"].type))
            marker_in_sql = marker_id is not None and "marker" in column
            if marker_in_sql:
                query = query.where(column["marker"] == marker_id)
            exact = ((since is None or time_in_sql) and (marker_id is None or marker_in_sql)
                     and not self._earlier)
            query = query.order_by(column["time"].desc()).limit(1 if exact else SCAN)
            candidates = [dict(row._mapping) for row in conn.execute(query)]
        for entry in candidates:
            if self._earlier and _row_key(entry) in self._earlier:
                continue
            if since is not None and not time_in_sql and ((at := as_utc(entry.get("time"))) is None or at < since):
                continue
            if marker_id is not None and not marker_in_sql and not self._mentions_marker(entry, marker_id):
                continue
            return entry
        recent = self.audit_entries(channel_id, limit=RECENT)
        raise DbCheckFailed(self._missing_audit(real_action, channel_id, since, wanted_outcome, marker_id, recent))

    def expect_marker_inserted(self, marker_id: str, channel_id: str | None = None, *,
                               after: datetime | None = None) -> dict[str, Any]:
        return self.expect_audit("scte35.insert", channel_id, after=after, outcome="ok", marker_id=marker_id)

    def expect_no_audit(self, action: str, channel_id: str | None, *, after: datetime,
                        outcome: str | None = "ok", marker_id: str | None = None) -> None:
        """Nothing of that kind was recorded (e.g. no successful cue on an inactive channel)."""
        try:
            entry = self.expect_audit(action, channel_id, after=after, outcome=outcome, marker_id=marker_id)
        except DbCheckFailed:
            return
        raise DbCheckFailed(f"expected no {self.map.table('audit')} row for {action} on {channel_id!r} "
                            f"(outcome {outcome}) after {as_utc(after)}; found one: {_show(entry)}")

    @staticmethod
    def _mentions_marker(entry: dict[str, Any], marker_id: str) -> bool:
        if "marker" in entry:
            return entry["marker"] == marker_id
        # A schema without a marker column: the id must be a whole value of the details (promo-1 is not promo-10).
        details = entry.get("details")
        if isinstance(details, str):
            try:
                details = json.loads(details)
            except ValueError:
                return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(marker_id)}(?![A-Za-z0-9_.-])", details) is not None
        return marker_id in _values(details)

    def _missing_audit(self, action: str, channel_id: str | None, since: datetime | None,
                       outcome: str | None, marker_id: str | None, entries: list[dict[str, Any]]) -> str:
        table, cols = self.map.table("audit"), self.map.columns("audit")
        wanted = [f"{cols['action']}={action!r}"]
        if channel_id is not None:
            wanted.append(f"{cols['channel']}={channel_id!r}")
        if outcome is not None and "outcome" in cols:
            wanted.append(f"{cols['outcome']}={outcome!r}")
        if marker_id is not None:
            wanted.append(f"{cols.get('marker', 'details')}={marker_id!r}")
        if since is not None:
            wanted.append(f"{cols['time']} at or after {since.isoformat()}")
        recent = "; ".join(f"{e.get('action')} {e.get('outcome', '')} at {e.get('time')}"
                           + (f" marker={e['marker']}" if e.get("marker") else "") for e in entries[:5])
        whose = f"for {channel_id!r}" if channel_id is not None else "in the table"
        return (f"expected an {table} row with {', '.join(wanted)}; found none "
                f"({len(entries)} recent entr{'y' if len(entries) == 1 else 'ies'} {whose}"
                + (f", newest first: {recent})" if recent else ")"))
