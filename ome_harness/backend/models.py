"""The reference backend's tables: channels, SCTE-35 marker templates and the audit log (SQLAlchemy 2.0
ORM)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACTIVE, INACTIVE = "active", "inactive"


def utcnow() -> datetime:
    """Timestamps are stored as naive UTC: the same on SQLite (no time zones) and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Channel(Base):
    """A channel users publish to: its stream key and where it lives in OME."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=INACTIVE)
    stream_key: Mapped[str] = mapped_column(String(128), unique=True)
    ome_vhost: Mapped[str] = mapped_column(String(128))
    ome_app: Mapped[str] = mapped_column(String(128))
    ome_stream: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Scte35Marker(Base):
    """A named cue template: what a SCTE-35 insertion sends (splice insert out/in, duration, event id)."""

    __tablename__ = "scte35_markers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cue_type: Mapped[str] = mapped_column(String(8))  # "out" (to the break) or "in" (back to the program)
    duration_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    auto_return: Mapped[bool] = mapped_column(Boolean, default=True)
    # "fixed": every insertion sends splice_event_id; "increment": each insertion takes the next id.
    event_id_policy: Mapped[str] = mapped_column(String(16), default="increment")
    splice_event_id: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """One operation: who did what to which channel, and how it ended."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    # Plain text, no foreign key: the log keeps requests for unknown channels and outlives deletions.
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    marker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | rejected | failed | degraded
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
