"""The read-only database checker: passes on what the backend wrote, fails naming the row it missed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from ome_harness.backend.settings import FORGET_DB_WRITE
from ome_harness.config import ConfigError
from ome_harness.dbcheck import DbChecker, DbCheckFailed, DbUnavailable
from ome_harness.redaction import fingerprint

if TYPE_CHECKING:
    from backend_fixtures import Rig

pytest_plugins = ["backend_fixtures"]


def _write(db_url: str, *statements: str) -> None:
    """Tamper with the database behind the backend's back (a writable engine of the test's own)."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_a_missing_audit_row_fails_and_says_which_row(rig: Rig) -> None:
    rig.channel("news")
    before = datetime.now(UTC)
    assert rig.api.start("news").status == 200
    rig.db.expect_audit("stream.start", "news", after=before)
    _write(rig.db_url, "DELETE FROM audit_log WHERE action = 'stream.start'")
    with pytest.raises(DbCheckFailed) as failure:
        rig.db.expect_audit("stream.start", "news", after=before)
    message = str(failure.value)
    assert message.startswith("expected an audit_log row with action='stream.start', channel_id='news', "
                              "outcome='ok', created_at at or after ")
    assert "found none (1 recent entry for 'news', newest first: channel.create ok at" in message


def test_a_missing_channel_row_fails_and_lists_what_is_there(rig: Rig) -> None:
    rig.channel("news")
    rig.channel("sport")
    _write(rig.db_url, "DELETE FROM channels WHERE id = 'news'")
    with pytest.raises(DbCheckFailed, match=re.escape(
            "expected a channels row id='news' with status='active'; found no row with that id "
            "(ids present: ['sport'])")):
        rig.db.expect_channel_status("news", "active")


def test_the_forgets_the_db_write_fault_is_caught_by_the_status_check(make_rig) -> None:
    rig: Rig = make_rig(faults=frozenset({FORGET_DB_WRITE}))
    rig.channel("news")
    answer = rig.api.start("news")
    # The API alone looks perfect: 200, the key, "active".
    assert answer.status == 200 and answer.field("status") == "active" and answer.field("stream_key")
    rig.db.expect_stream_key("news", answer.field("stream_key"))
    with pytest.raises(DbCheckFailed) as failure:
        rig.db.expect_channel_status("news", "active")
    message = str(failure.value)
    assert message.startswith("expected channels row id='news' with status='active'; found status='inactive'")
    assert answer.field("stream_key") not in message and fingerprint(answer.field("stream_key")) in message


def test_a_different_stored_key_fails_showing_fingerprints_only(rig: Rig) -> None:
    key = rig.channel("news")["stream_key"]
    with pytest.raises(DbCheckFailed) as failure:
        rig.db.expect_stream_key("news", "not-the-key")
    message = str(failure.value)
    assert key not in message and "not-the-key" not in message
    assert fingerprint(key) in message and fingerprint("not-the-key") in message


def test_an_insertion_for_another_marker_does_not_count(rig: Rig) -> None:
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break30")
    rig.marker("break60", duration_ms=60_000)
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    before = datetime.now(UTC)
    assert rig.api.insert_scte35("news", "break30").status == 200
    rig.db.expect_marker_inserted("break30", "news", after=before)
    with pytest.raises(
        DbCheckFailed, match="marker_id='break60'.*found none.*scte35.insert ok at .* marker=break30"
    ):
        rig.db.expect_marker_inserted("break60", "news", after=before)


def test_an_entry_older_than_the_step_does_not_count(rig: Rig) -> None:
    rig.channel("news")
    rig.api.start("news")
    later = datetime.now(UTC)
    with pytest.raises(DbCheckFailed, match="at or after"):
        rig.db.expect_audit("stream.start", "news", after=later)


def test_the_checker_cannot_write(rig: Rig) -> None:
    rig.channel("news")
    for statement in ("UPDATE channels SET status = 'active'", "DELETE FROM audit_log",
                      "CREATE TABLE intruder (id INTEGER)"):
        with pytest.raises(Exception, match="(?i)read-?only"), rig.db.engine.begin() as conn:
            conn.execute(text(statement))
    rig.db.expect_channel_status("news", "inactive")
    rig.db.expect_audit("channel.create", "news")


def test_a_users_own_schema_is_checked_through_the_table_map(db_url: str) -> None:
    _write(
        db_url,
        "CREATE TABLE tv_channels (channel_ref VARCHAR(40) PRIMARY KEY, state VARCHAR(10), ingest_key "
        "VARCHAR(64))",
        "CREATE TABLE events_log (seq INTEGER PRIMARY KEY, happened TIMESTAMP, kind VARCHAR(40), "
        "channel_ref VARCHAR(40), result VARCHAR(10), info TEXT)",
        "INSERT INTO tv_channels VALUES ('ch1', 'LIVE', 'k-123')",
        "INSERT INTO events_log VALUES (1, '2030-01-01 10:00:00', 'START_STREAM', 'ch1', 'success', "
        '\'{"marker": "none"}\')',
        "INSERT INTO events_log VALUES (2, '2030-01-01 10:00:05', 'CUE', 'ch1', 'success', "
        '\'{"marker": "promo-1"}\')',
    )
    table_map = {
        "channels": {
            "table": "tv_channels",
            "id": "channel_ref",
            "status": "state",
            "stream_key": "ingest_key",
            "active_value": "LIVE",
            "inactive_value": "OFF",
        },
        "audit": {
            "table": "events_log",
            "time": "happened",
            "action": "kind",
            "channel": "channel_ref",
            "outcome": "result",
            "ok_value": "success",
            "marker": "-",
            "details": "info",
            "stream.start": "START_STREAM",
            "scte35.insert": "CUE",
        },
    }
    with DbChecker(db_url, table_map) as db:
        db.expect_channel_status("ch1", "active")
        db.expect_stream_key("ch1", "k-123")
        db.expect_audit("stream.start", "ch1", after=datetime(2030, 1, 1, 9, 59, tzinfo=UTC))
        db.expect_marker_inserted("promo-1", "ch1")
        with pytest.raises(
            DbCheckFailed, match=r"expected tv_channels row id='ch1' with state='OFF'; found state='LIVE'"
        ):
            db.expect_channel_status("ch1", "inactive")
        with pytest.raises(
            DbCheckFailed,
            match=r"expected an events_log row with kind='START_STREAM', "
            r"channel_ref='ch1', result='success', happened at or after 2030-01-01T10:01",
        ):
            db.expect_audit("stream.start", "ch1", after=datetime(2030, 1, 1, 10, 1, tzinfo=UTC))


def test_a_map_naming_a_missing_table_or_column_is_a_clear_error(db_url: str) -> None:
    _write(db_url, "CREATE TABLE tv_channels (ref VARCHAR(40) PRIMARY KEY, state VARCHAR(10))")
    with (
        DbChecker(db_url, {"channels": {"table": "nope"}}) as db,
        pytest.raises(
            DbUnavailable,
            match=r"has no table 'nope' \(logical 'channels'; map it with backend.table_map.channels.table\)",
        ),
    ):
        db.channel("x")
    with DbChecker(db_url, {"channels": {"table": "tv_channels", "id": "ref"}}) as db, pytest.raises(
            DbUnavailable, match=r"table 'tv_channels' has no column\(s\) 'status', 'stream_key'"):
        db.channel("x")


def test_a_map_with_unknown_names_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown table 'chanels'"):
        DbChecker("sqlite:///x.db", {"chanels": {"table": "c"}})
    with pytest.raises(ConfigError, match=r"backend.table_map.channels: unknown key 'state'"):
        DbChecker("sqlite:///x.db", {"channels": {"state": "s"}})


def test_an_unreachable_database_is_unavailable_not_a_verdict(tmp_path) -> None:
    with (
        DbChecker("postgresql+psycopg://u:hunter2secret@127.0.0.1:1/db") as db,
        pytest.raises(DbUnavailable) as exc,
    ):
        db.channel("x")
    assert "hunter2secret" not in str(exc.value) and "u:***@127.0.0.1:1/db" in str(exc.value)
    with (
        DbChecker(f"sqlite:///{tmp_path / 'missing.db'}") as db,
        pytest.raises(DbUnavailable, match="cannot read"),
    ):
        db.channel("x")
    assert not (tmp_path / "missing.db").exists()  # read-only: not even an empty file was created


def test_a_required_key_mapped_to_dash_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError,
        match=r"backend.table_map.audit.channel: the checks cannot work without it, "
        r"so it cannot be '-'",
    ):
        DbChecker("sqlite:///x.db", {"audit": {"channel": "-"}})
    with pytest.raises(ConfigError, match=r"backend.table_map.channels.status: .* cannot be '-'"):
        DbChecker("sqlite:///x.db", {"channels": {"status": "-"}})


def test_a_marker_named_in_details_counts_only_as_a_whole_value(db_url: str) -> None:
    _write(
        db_url,
        "CREATE TABLE events_log (seq INTEGER PRIMARY KEY, happened TIMESTAMP, kind VARCHAR(40), "
        "channel_ref VARCHAR(40), info TEXT)",
        "INSERT INTO events_log VALUES (1, '2030-01-01 10:00:00', 'CUE', 'ch1', "
        "'{\"marker\": \"promo-10\"}')",
        "INSERT INTO events_log VALUES (2, '2030-01-01 10:00:01', 'CUE', 'ch2', 'cue promo-10 sent')",
        "INSERT INTO events_log VALUES (3, '2030-01-01 10:00:02', 'CUE', 'ch3', 'cue promo-1 sent')",
    )
    table_map = {
        "audit": {
            "table": "events_log",
            "time": "happened",
            "action": "kind",
            "channel": "channel_ref",
            "outcome": "-",
            "marker": "-",
            "details": "info",
            "scte35.insert": "CUE",
        }
    }
    with DbChecker(db_url, table_map) as db:
        db.expect_marker_inserted("promo-10", "ch1")
        db.expect_marker_inserted("promo-10", "ch2")
        db.expect_marker_inserted("promo-1", "ch3")
        for channel in ("ch1", "ch2"):
            with pytest.raises(DbCheckFailed, match=r"details='promo-1'; found none"):
                db.expect_marker_inserted("promo-1", channel)


def test_an_entry_is_found_behind_many_newer_ones(rig: Rig) -> None:
    rig.channel("news")
    before = datetime.now(UTC)
    assert rig.api.start("news").status == 200
    for _ in range(30):  # thirty newer audit entries for the same channel
        assert rig.api.stream("news").status == 200
    rig.db.expect_audit("stream.start", "news", after=before)
    with pytest.raises(
        DbCheckFailed, match=r"found none \(5 recent entries for 'news', newest first: stream.get"
    ):
        rig.db.expect_audit("stream.stop", "news", after=before)
