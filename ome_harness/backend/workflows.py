"""The stream workflows users verify: start, stop, SCTE-35, listing and details, each audited.

Every workflow writes exactly one audit entry, whatever the outcome: `ok`, `rejected` (our 4xx),
`failed` (OME refused) or `degraded` (OME unreachable). State changes and their audit entry
commit in one transaction, so the log never claims what the tables do not show.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ome_harness.backend import contract
from ome_harness.backend.errors import BackendError
from ome_harness.backend.models import ACTIVE, INACTIVE, AuditEntry, Channel, Scte35Marker, utcnow
from ome_harness.backend.settings import (
    FAKE_SCTE35_SUCCESS,
    FORGET_DB_WRITE,
    SERVER_ERROR,
    SKIP_AUDIT,
    SKIP_OME_DELETE,
    SWALLOW_OME_REFUSAL,
    BackendSettings,
)
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeBadRequest, OmeError, OmeNotFound, OmeTimeout, OmeUnreachable
from ome_harness.ome.versions import OmeVersion, capabilities
from ome_harness.redaction import fingerprint
from ome_harness.scte35.break_rule import honoured, min_break_ms, read_segment_duration
from ome_harness.scte35.insertion import no_insertion_words

_ID = re.compile(contract.ID_PATTERN)
_UNREACHABLE = (OmeUnreachable, OmeTimeout)


def shown(value: str) -> str:
    """A user-supplied id as messages may quote it: escaped and bounded."""
    text = ascii(value)[1:-1]
    return text if len(text) <= 80 else text[:77] + "..."


def aware(moment: datetime | None) -> datetime | None:
    """Stored naive UTC → answered with its offset (RFC 3339 date-time, as the OpenAPI document says)."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def channel_out(channel: Channel) -> contract.ChannelOut:
    return contract.ChannelOut(
        id=channel.id, name=channel.name, status=channel.status, stream_key=channel.stream_key,  # type: ignore[arg-type]
        ome=_location(channel), created_at=aware(channel.created_at), updated_at=aware(channel.updated_at),
        activated_at=aware(channel.activated_at), deactivated_at=aware(channel.deactivated_at))


def marker_out(marker: Scte35Marker) -> contract.MarkerOut:
    return contract.MarkerOut(id=marker.id, name=marker.name, cue_type=marker.cue_type,  # type: ignore[arg-type]
                              duration_ms=marker.duration_ms, auto_return=marker.auto_return,
                              event_id_policy=marker.event_id_policy,  # type: ignore[arg-type]
                              splice_event_id=marker.splice_event_id)


def _location(channel: Channel) -> contract.OmeLocation:
    return contract.OmeLocation(vhost=channel.ome_vhost, app=channel.ome_app, stream=channel.ome_stream)


def _stream_shown(channel: Channel) -> str:
    """The channel's OME stream as messages quote it: named after the stream key by default, so fingerprinted then."""
    name = channel.ome_stream
    return fingerprint(name) if channel.stream_key and channel.stream_key in name else name


def _said(exc: OmeError, channel: Channel) -> str:
    """OME's error as messages quote it: its text may name the stream, i.e. the stream key."""
    return str(exc).replace(channel.ome_stream, _stream_shown(channel))


def _unreachable(exc: OmeError, doing: str) -> BackendError:
    return BackendError(503, "ome_unreachable", f"OME is unreachable, cannot {doing}: {exc}", degraded=True)


class StreamWorkflows:
    """The backend's operations over its database and OME; the HTTP layer only maps them."""

    def __init__(self, settings: BackendSettings, sessions: sessionmaker[Session]) -> None:
        self.settings, self.sessions = settings, sessions

    def ome(self) -> OmeClient:
        """A client per operation: nothing accumulates in a long-running service."""
        return OmeClient(self.settings.ome_url, self.settings.ome_token,
                         connect_timeout=self.settings.ome_connect_timeout,
                         read_timeout=self.settings.ome_read_timeout)

    # -- audit ------------------------------------------------------------------------------
    @staticmethod
    def _entry(actor: str, action: str, channel_id: str | None, outcome: str, message: str,
               marker_id: str | None = None, details: dict[str, Any] | None = None) -> AuditEntry:
        valid = channel_id is not None and _ID.match(channel_id)
        marker_valid = marker_id is not None and _ID.match(marker_id)
        return AuditEntry(created_at=utcnow(), actor=actor, action=action,
                          channel_id=channel_id if valid else None,
                          marker_id=marker_id if marker_valid else None,
                          outcome=outcome, message=message, details=details or {})

    def _refuse(self, error: BackendError, actor: str, action: str, channel_id: str | None,
                marker_id: str | None = None, outcome: str | None = None,
                details: dict[str, Any] | None = None) -> BackendError:
        """Record a refused or failed operation in its own short transaction; return the error to raise."""
        if outcome is None:
            outcome = "degraded" if error.degraded else "rejected" if error.status < 500 else "failed"
        with self.sessions() as session:
            self._record(session, self._entry(actor, action, channel_id, outcome, error.message, marker_id,
                                              {"code": error.code, "status": error.status, **(details or {})}))
            session.commit()
        return error

    def _record(self, session: Session, entry: AuditEntry) -> None:
        if SKIP_AUDIT not in self.settings.faults:
            session.add(entry)

    def _channel(self, session: Session, channel_id: str, actor: str, action: str) -> Channel:
        channel = session.get(Channel, channel_id) if _ID.match(channel_id) else None
        if channel is None:
            raise self._refuse(BackendError(404, "channel_not_found", f"no channel with id '{shown(channel_id)}'"),
                               actor, action, channel_id)
        return channel

    # -- admin ------------------------------------------------------------------------------
    def create_channel(self, body: contract.ChannelCreate, actor: str) -> contract.ChannelOut:
        key = secrets.token_urlsafe(24)
        with self.sessions() as session:
            if session.get(Channel, body.id) is not None:
                raise self._refuse(BackendError(409, "channel_exists", f"a channel with id '{body.id}' exists"),
                                   actor, "channel.create", body.id)
            now = utcnow()
            channel = Channel(id=body.id, name=body.name, status=INACTIVE, stream_key=key,
                              ome_vhost=self.settings.vhost, ome_app=body.ome_app or self.settings.app,
                              ome_stream=body.ome_stream or key, created_at=now, updated_at=now)
            session.add(channel)
            self._record(session, self._entry(actor, "channel.create", body.id, "ok", f"channel '{body.id}' created"))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise self._refuse(BackendError(409, "channel_exists", f"a channel with id '{body.id}' exists"),
                                   actor, "channel.create", body.id) from None
            return channel_out(channel)

    def create_marker(self, body: contract.MarkerCreate, actor: str) -> contract.MarkerOut:
        with self.sessions() as session:
            if session.get(Scte35Marker, body.id) is not None:
                raise self._refuse(BackendError(409, "marker_exists", f"a marker with id '{body.id}' exists"),
                                   actor, "marker.create", None, body.id)
            marker = Scte35Marker(created_at=utcnow(), **body.model_dump())
            session.add(marker)
            self._record(session, self._entry(actor, "marker.create", None, "ok", f"marker '{body.id}' created", body.id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise self._refuse(BackendError(409, "marker_exists", f"a marker with id '{body.id}' exists"),
                                   actor, "marker.create", None, body.id) from None
            return marker_out(marker)

    def channels(self) -> list[contract.ChannelOut]:
        if SERVER_ERROR in self.settings.faults:
            raise RuntimeError("injected fault: server-error")
        with self.sessions() as session:
            return [channel_out(c) for c in session.scalars(select(Channel).order_by(Channel.id))]

    def markers(self) -> list[contract.MarkerOut]:
        with self.sessions() as session:
            return [marker_out(m) for m in session.scalars(select(Scte35Marker).order_by(Scte35Marker.id))]

    def audit(self, channel_id: str | None, limit: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if channel_id is not None:
                if not _ID.match(channel_id):
                    return []  # no channel can have that id: the log holds nothing for it
                query = query.where(AuditEntry.channel_id == channel_id)
            return [{"id": e.id, "time": e.created_at.replace(tzinfo=UTC).isoformat(), "actor": e.actor,
                     "action": e.action, "channel_id": e.channel_id, "marker_id": e.marker_id, "outcome": e.outcome,
                     "message": e.message, "details": e.details} for e in session.scalars(query)]

    # -- stream workflows -------------------------------------------------------------------
    def start(self, channel_id: str, actor: str) -> contract.StartResult:
        """Activate the channel and hand out its stream key; OME is only probed, so this works degraded."""
        with self.sessions() as session:
            channel = self._channel(session, channel_id, actor, "stream.start")
            session.commit()  # no transaction stays open while OME is probed
            status = self._probe()
            now = utcnow()
            if FORGET_DB_WRITE not in self.settings.faults:
                channel.status, channel.activated_at, channel.updated_at = ACTIVE, now, now
            degraded = not status.reachable
            self._record(session, self._entry(actor, "stream.start", channel.id, "degraded" if degraded else "ok",
                                              f"channel '{channel.id}' activated"
                                              + (f"; {status.message}" if degraded else ""),
                                              details={"ome_reachable": status.reachable, "ome_version": status.version}))
            session.commit()
            return contract.StartResult(channel_id=channel.id, status="active", stream_key=channel.stream_key,
                                        ome=_location(channel), ome_status=status, degraded=degraded)

    def stop(self, channel_id: str, actor: str) -> contract.StopResult:
        """Delete the stream in OME if it exists, then mark the channel inactive (also when OME is down)."""
        with self.sessions() as session:
            channel = self._channel(session, channel_id, actor, "stream.stop")
            where = _location(channel)
            session.commit()  # end the read transaction before talking to OME
            outcome, note = "ok", ""
            try:
                if SKIP_OME_DELETE not in self.settings.faults:
                    with self.ome() as ome:
                        ome.delete_stream(where.vhost, where.app, where.stream)
                result = "deleted"
            except OmeNotFound:
                # A stopped publisher or a second stop: nothing to delete is not a failure.
                result, note = "not_found", "; OME had no such stream"
            except OmeError as exc:
                # Unreachable, unauthorized or nonsense: the channel is stopped all the same (as start goes on
                # degraded); OME's stream may still run, so the answer and the log say degraded.
                result, outcome = "unknown", "degraded"
                note = f"; OME unusable ({_said(exc, channel)}), its stream was not deleted"
            now = utcnow()
            channel.status, channel.deactivated_at, channel.updated_at = INACTIVE, now, now
            self._record(session, self._entry(actor, "stream.stop", channel.id, outcome,
                                              f"channel '{channel.id}' deactivated{note}", details={"ome_stream": result}))
            session.commit()
            return contract.StopResult(channel_id=channel.id, status="inactive", ome=where, ome_stream=result,
                                       degraded=outcome == "degraded")

    def insert_scte35(self, channel_id: str, body: contract.Scte35Request, actor: str) -> contract.Scte35Result:
        """Insert a marker's cue through OME's :sendEvent; OME's refusal is a 502, never a success."""
        action, marker_id = "scte35.insert", body.marker_id
        with self.sessions() as session:
            channel = self._channel(session, channel_id, actor, action)
            marker = session.get(Scte35Marker, marker_id) if _ID.match(marker_id) else None
            if marker is None:
                raise self._refuse(BackendError(404, "marker_not_found", f"no marker with id '{shown(marker_id)}'"),
                                   actor, action, channel.id, marker_id)
            if channel.status != ACTIVE:
                raise self._refuse(BackendError(409, "channel_inactive", f"channel '{channel.id}' is not active: "
                                                "start it before inserting a cue"), actor, action, channel.id, marker_id)
            where = _location(channel)
            event_id = self._take_event_id(session, marker)
            event = {"eventFormat": "scte35", "events": [{
                "spliceCommand": "spliceInsert", "id": event_id, "type": marker.cue_type,
                "duration": marker.duration_ms, "autoReturn": marker.auto_return}]}
            session.commit()
            version = self._send(where, _stream_shown(channel), event, actor, channel.id, marker.id,
                                 break_ms=marker.duration_ms if marker.cue_type == "out" else None)
            self._record(session, self._entry(actor, action, channel.id, "ok",
                                              f"marker '{marker.id}' inserted on '{_stream_shown(channel)}' "
                                              f"(OME v{version})", marker.id, {"event": event, "ome_version": version}))
            session.commit()
            return contract.Scte35Result(channel_id=channel.id, marker_id=marker.id, accepted=True,
                                         ome_version=version, event=event, degraded=False)

    @staticmethod
    def _take_event_id(session: Session, marker: Scte35Marker) -> int:
        """The splice event id for this insertion; under `increment` it is reserved atomically in the database,
        so concurrent insertions never share one (a cue OME then refuses still uses its id up)."""
        if marker.event_id_policy != "increment":
            return marker.splice_event_id
        wrap = contract.UINT32_MAX + 1
        following = session.execute(
            update(Scte35Marker).where(Scte35Marker.id == marker.id)
            .values(splice_event_id=(Scte35Marker.splice_event_id + 1) % wrap)
            .returning(Scte35Marker.splice_event_id)).scalar_one()
        return (following - 1) % wrap

    def _send(self, where: contract.OmeLocation, stream_shown: str, event: dict[str, Any], actor: str,
              channel_id: str, marker_id: str, *, break_ms: int | None = None) -> str:
        action = "scte35.insert"
        facts: dict[str, Any] = {"event": event}
        version = "unknown"
        if FAKE_SCTE35_SUCCESS in self.settings.faults:
            return version
        try:
            with self.ome() as ome:
                version = ome.version().version
                facts["ome_version"] = version
                self._refuse_a_break_ome_drops(ome, version, where, break_ms, actor, channel_id, marker_id)
                ome.send_event(where.vhost, where.app, where.stream, event)
        except _UNREACHABLE as exc:
            raise self._refuse(_unreachable(exc, "insert the cue"), actor, action, channel_id, marker_id,
                               details=facts) from None
        except OmeBadRequest as exc:
            if SWALLOW_OME_REFUSAL in self.settings.faults:
                return version
            hint = ""
            try:
                if not capabilities(version).scte35_api:
                    hint = f" {no_insertion_words(OmeVersion.parse(version))}."
            except ValueError:
                pass
            said = exc.message.replace(where.stream, stream_shown)
            message = f"OME v{version} refused the SCTE-35 cue: {said}.{hint}"
            raise self._refuse(BackendError(502, "ome_refused_event", message,
                                            details={"ome_version": version, "ome_message": said}),
                               actor, action, channel_id, marker_id, outcome="failed", details=facts) from None
        except OmeNotFound:
            # OME's own message quotes the stream name, which may be the stream key.
            raise self._refuse(BackendError(409, "stream_not_live", f"OME has no stream '{stream_shown}' "
                                            "(nothing is publishing to the channel)"),
                               actor, action, channel_id, marker_id, outcome="failed", details=facts) from None
        except OmeError as exc:
            raise self._refuse(BackendError(502, "ome_error", f"OME did not accept the cue: "
                                            f"{str(exc).replace(where.stream, stream_shown)}"),
                               actor, action, channel_id, marker_id, outcome="failed", details=facts) from None
        return version

    def _refuse_a_break_ome_drops(self, ome: OmeClient, version: str, where: contract.OmeLocation,
                                  break_ms: int | None, actor: str, channel_id: str, marker_id: str) -> None:
        """OME v0.20 answers 200 to a break not longer than 1.5 × the app's LL-HLS segment duration and drops it
        (its log only, ome-api.md): such a cue is never sent, never called inserted."""
        with contextlib.suppress(ValueError):
            if not capabilities(version).scte35_api:
                return  # OME refuses the cue itself: its own 400 is the answer
        segment_s = read_segment_duration(ome, where.vhost, where.app)
        if segment_s is None or honoured(break_ms, segment_s):
            return
        facts = {"ome_version": version, "min_break_ms": min_break_ms(segment_s), "llhls_segment_s": segment_s}
        raise self._refuse(BackendError(422, "break_too_short", (
            f"OME v{version} would answer 200 and drop this cue: the break ({break_ms} ms) must exceed "
            f"{min_break_ms(segment_s):.0f} ms for application '{where.app}' (LL-HLS segment duration "
            f"{segment_s:g} s); use a longer break or shorter segments"), details=facts),
            actor, "scte35.insert", channel_id, marker_id, details=facts)

    def list_streams(self, actor: str) -> contract.StreamList:
        vhost, app = self.settings.vhost, self.settings.app
        try:
            with self.ome() as ome:
                names = ome.streams(vhost, app)
        except _UNREACHABLE as exc:
            raise self._refuse(_unreachable(exc, "list streams"), actor, "stream.list", None) from None
        except OmeError as exc:
            raise self._refuse(BackendError(502, "ome_error", f"OME did not list streams: {exc}"),
                               actor, "stream.list", None) from None
        with self.sessions() as session:
            owners = dict(session.execute(select(Channel.ome_stream, Channel.id).where(
                Channel.ome_vhost == vhost, Channel.ome_app == app)).all())
            self._record(session, self._entry(actor, "stream.list", None, "ok", f"{len(names)} stream(s) in {vhost}/{app}"))
            session.commit()
        return contract.StreamList(vhost=vhost, app=app, degraded=False,
                                   streams=[contract.StreamSummary(name=n, channel_id=owners.get(n)) for n in names])

    def stream_detail(self, channel_id: str, actor: str) -> contract.StreamDetail:
        """The channel's database record with OME's view of its stream and metrics."""
        with self.sessions() as session:
            channel = self._channel(session, channel_id, actor, "stream.get")
            record, where = channel_out(channel), _location(channel)
            session.commit()
        live: bool | None = False
        detail = metrics = None
        outcome, message = "ok", "stream details read"
        try:
            with self.ome() as ome:
                detail = ome.stream(where.vhost, where.app, where.stream).model_dump(mode="json", by_alias=True)
                metrics = ome.stats(where.vhost, where.app, where.stream).model_dump(mode="json", by_alias=True)
                live = True
        except OmeNotFound:
            live, detail, metrics = (False, None, None) if detail is None else (True, detail, None)
        except OmeError as exc:
            live, detail, metrics = None, None, None
            outcome, message = "degraded", f"OME unusable, database record only: {_said(exc, channel)}"
        with self.sessions() as session:
            self._record(session, self._entry(actor, "stream.get", channel_id, outcome, message))
            session.commit()
        return contract.StreamDetail(channel=record, live=live, ome_stream=detail, metrics=metrics,
                                     degraded=outcome == "degraded")

    def _probe(self) -> contract.OmeStatus:
        try:
            with self.ome() as ome:
                return contract.OmeStatus(reachable=True, version=ome.version().version)
        except OmeError as exc:
            return contract.OmeStatus(reachable=False, message=f"OME unusable: {exc}")
