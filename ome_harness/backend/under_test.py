"""The backend a run verifies: the user's (`backend.url`) or the reference backend started in-process.

What scenario steps call: the backend's API, the read-only database checks, and OME's side of
each workflow (a live publisher on the channel, the stream gone after a stop, the cue received).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from ome_harness.backend import cue_effect
from ome_harness.backend.client import BackendAnswer, BackendClient, hide_stream_keys
from ome_harness.config import ConfigError, HarnessConfig
from ome_harness.dbcheck import DbChecker, DbUnavailable
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError, OmeNotFound
from ome_harness.ome.versions import capabilities
from ome_harness.scte35.break_rule import app_segment_duration, break_for, too_short_break
from ome_harness.target.base import OmeTarget

FAULTS_ENV = "OMH_BACKEND__REFERENCE_FAULTS"
"""backend.reference_faults from the environment: comma-separated faults for the in-process reference backend."""

REFERENCE_DB_ENV = "OMH_BACKEND__REFERENCE_DB_URL"
"""backend.reference_db_url from the environment: a database meant for the in-process reference backend."""

T = TypeVar("T")


class NotApplicable(Exception):
    """This check cannot run against this setup; the message says why (a scenario skips with it)."""


class ToolMissing(NotApplicable):
    """A tool the check needs is not installed: a skip on a laptop, a failure under CI=true."""


def needs(call: Callable[[], T]) -> T:
    """Run a harness call; what cannot apply to this setup skips the scenario with its reason."""
    import pytest

    from ome_harness.testing import require

    try:
        return call()
    except ToolMissing as exc:
        require(False, str(exc))
        raise  # unreachable: require() skips or fails
    except NotApplicable as exc:
        pytest.skip(str(exc))


@dataclass
class Channel:
    id: str
    # The OME stream is named after the stream key by default: both are ingest credentials.
    stream: str = field(repr=False)
    stream_key: str | None = field(default=None, repr=False)
    cues_before: int = 0
    """How many cues the emulator had received (for any stream) when the scenario took the channel."""
    live_publisher: bool = False
    cue_sent_at: datetime | None = None


@dataclass(frozen=True)
class Marker:
    """A SCTE-35 marker and the cue it must produce; values are None when a configured marker's are unknown."""

    id: str
    cue_type: str | None = None
    duration_ms: int | None = None
    auto_return: bool | None = None
    event_id_policy: str | None = None
    splice_event_id: int | None = None

    def expected_cue(self, nth: int) -> dict[str, Any]:
        """The :sendEvent item OME must receive for the marker's `nth` insertion (0-based); unknowns left out."""
        event_id = self.splice_event_id
        if event_id is not None and self.event_id_policy == "increment":
            event_id = (event_id + nth) % 2**32
        wanted = {"spliceCommand": "spliceInsert", "id": event_id, "type": self.cue_type,
                  "duration": self.duration_ms, "autoReturn": self.auto_return}
        return {k: v for k, v in wanted.items() if v is not None}


@dataclass
class BackendUnderTest:
    """One backend with its OME and database; `launched` when the harness runs it (reference backend)."""

    url: str
    token: str | None = field(repr=False)
    target: OmeTarget
    db_url: str | None = field(repr=False)
    table_map: dict[str, dict[str, str]]
    launched: bool
    configured_channel: str | None = None
    configured_marker: str | None = None
    name_prefix: str = "omh-"  # media.stream_prefix: channels the harness creates are named with it
    stream_keys: set[str] = field(default_factory=set, repr=False)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _api: BackendClient | None = None
    _db: DbChecker | None = None

    @property
    def api(self) -> BackendClient:
        if self._api is None:
            self._api = self._stack.enter_context(BackendClient(self.url, self.token))
        return self._api

    def caller(self, credential: str) -> BackendClient:
        """The backend's API as an outsider calls it: no bearer token ("none") or a wrong one ("wrong")."""
        token = None if credential == "none" else "wrong-" + secrets.token_hex(8)
        return self._stack.enter_context(BackendClient(self.url, token))

    @property
    def db(self) -> DbChecker:
        if self.db_url is None:
            raise NotApplicable("database checks need backend.db_url (the backend's database, read-only)")
        if self._db is None:
            self._db = self._stack.enter_context(DbChecker(self.db_url, self.table_map))
        return self._db

    def close(self) -> None:
        self._stack.close()

    def shown(self, value: Any) -> Any:
        """A value as failure messages show it: every stream key seen in this run as a fingerprint."""
        return hide_stream_keys(value, self.stream_keys)

    def expect(self, answer: BackendAnswer, status: int, code: str | None = None) -> Any:
        """`expect_answer`, hiding also the keys of this run's channels (OME's stream names default to them)."""
        self.stream_keys.update(k for k in _keys_in(answer) if k)
        try:
            return expect_answer(answer, status, code)
        except AssertionError as exc:
            # Raised afresh so that pytest's traceback shows no frame whose arguments hold the keys.
            raise AssertionError(self.shown(str(exc))) from None

    # -- channels and markers ---------------------------------------------------------------
    def new_channel(self) -> Channel:
        """A channel to work on, inactive: created through the API, or the one configured for a user's backend."""
        if self.configured_channel:
            # Whatever the previous scenario left (active, live), the scenario starts from a stopped channel.
            self.expect(self.api.stop(self.configured_channel), 200)
            detail = self.api.stream(self.configured_channel)
            record = detail.field("channel") or {}
            # The channel's OME stream: `ome.stream` in the reference contract, or a flat `ome_stream`;
            # unnamed, OME's stream is named after the stream key (docs/backend.md).
            stream = ((record.get("ome") or {}).get("stream") or record.get("ome_stream")
                      or record.get("stream_key") or self.configured_channel)
            channel = Channel(self.configured_channel, stream, record.get("stream_key"))
            self._set_aside_earlier_rows(channel.id)
        else:
            channel_id = f"{self.name_prefix}{uuid.uuid4().hex[:10]}"
            answer = self.api.create_channel(channel_id, f"ome-harness scenario {channel_id}")
            if answer.status != 201:
                raise AssertionError(f"could not create a channel through POST /api/channels: {answer.status} "
                                     f"{hide_stream_keys(answer.body)} (set backend.channel to use an existing one)")
            channel = Channel(channel_id, answer.body["ome"]["stream"], answer.body["stream_key"])
        if channel.stream_key:
            self.stream_keys.add(channel.stream_key)
        if self.target.emulator is not None:
            channel.cues_before = len(self.target.emulator.state.events)
        return channel

    def _set_aside_earlier_rows(self, channel_id: str) -> None:
        """One configured channel serves every scenario: its rows so far belong to earlier scenarios."""
        with contextlib.suppress(NotApplicable, DbUnavailable):
            self.db.set_aside_audit(channel_id)

    def new_marker_the_app_drops(self) -> Marker:
        """A marker whose break OME v0.20 accepts and drops (exactly 1.5 × the app's LL-HLS segment duration)."""
        if self.configured_marker:
            raise NotApplicable("needs a marker the harness creates (backend.marker is configured)")
        with self.target.client() as client:
            return self.new_marker(too_short_break(app_segment_duration(client, self.target.vhost, self.target.app)))

    def new_marker_the_app_keeps(self) -> Marker:
        with self.target.client() as client:
            return self.new_marker(break_for(app_segment_duration(client, self.target.vhost, self.target.app)))

    def new_marker(self, duration_s: float) -> Marker:
        """A marker for a break of `duration_s`: created through the API, or the one configured."""
        if self.configured_marker:
            return self._configured_marker(self.configured_marker)
        marker = Marker(f"omh-break-{uuid.uuid4().hex[:8]}", cue_type="out", duration_ms=round(duration_s * 1000),
                        auto_return=True, event_id_policy="increment", splice_event_id=1000)
        answer = self.api.create_marker(marker.id, cue_type=marker.cue_type, duration_ms=marker.duration_ms,
                                        auto_return=marker.auto_return, event_id_policy=marker.event_id_policy,
                                        splice_event_id=marker.splice_event_id)
        if answer.status != 201:
            raise AssertionError(f"could not create a marker through POST /api/markers: {answer.status} "
                                 f"{answer.body} (set backend.marker to use an existing one)")
        return marker

    def _configured_marker(self, marker_id: str) -> Marker:
        # The reference contract lists markers; a backend without GET /api/markers is checked on the command only.
        answer = self.api.call("GET", "/api/markers")
        listed = [m for m in answer.body if isinstance(m, dict) and m.get("id") == marker_id] \
            if answer.status == 200 and isinstance(answer.body, list) else []
        if not listed:
            return Marker(marker_id)
        found = listed[0]
        return Marker(marker_id, cue_type=found.get("cue_type"), duration_ms=found.get("duration_ms"),
                      auto_return=found.get("auto_return"), event_id_policy=found.get("event_id_policy"),
                      splice_event_id=found.get("splice_event_id"))

    # -- OME's side -------------------------------------------------------------------------
    @property
    def ome_version(self) -> str:
        with self.target.client() as client:
            return client.version().version

    def scte35_in_api(self) -> bool:
        return capabilities(self.ome_version).scte35_api

    # Channels, not stream names, are passed around: pytest prints the arguments of failing frames, and
    # the stream name is the stream key by default (Channel's repr leaves both out).
    def make_live(self, channel: Channel) -> None:
        """A publisher on the channel: simulated on the emulator, a real encoder on any other OME."""
        emulator = self.target.emulator
        if emulator is not None:
            emulator.state.add_stream(channel.stream, vhost=self.target.vhost, app=self.target.app)
            return
        self.publish(channel.stream)
        channel.live_publisher = True

    def insert_marker(self, channel: Channel, marker_id: str) -> BackendAnswer:
        """Through the backend; on a real OME with a live publisher, timed so that a cut would show."""
        if self.target.emulator is None and channel.live_publisher:
            cue_effect.prepare_visible_cut(self.target, channel.stream)
        channel.cue_sent_at = now()
        return self.api.insert_scte35(channel.id, marker_id)

    def publish_as_channel(self, channel: Channel, handed_out_key: str | None) -> float:
        """Publish as the channel's encoder would: to its OME stream (`ome_stream`) when the channel names
        one, else to the stream key the backend handed out (OME names the stream after what is published)."""
        named_after_key = channel.stream_key is not None and channel.stream == channel.stream_key
        if handed_out_key and (named_after_key or not channel.stream):
            channel.stream = handed_out_key
        self.stream_keys.update(k for k in (handed_out_key,) if k)
        return self.publish(channel.stream)

    def publish(self, stream: str, deadline_s: float = 10.0) -> float:
        """Publish with ffmpeg over RTMP until OME lists the stream; seconds it took. Stopped on close()."""
        from ome_harness.media.encoder import FfmpegMissing, publish

        if self.target.rtmp_base is None and self.target.kind == "emulator":
            raise NotApplicable("this emulator takes no RTMP ingest")
        client = self._stack.enter_context(self.target.client())
        try:
            publication = self._stack.enter_context(
                publish(client, self.target.rtmp_url(stream), self.target.vhost, self.target.app, stream,
                        deadline_s=deadline_s))
        except FfmpegMissing as exc:
            raise ToolMissing(str(exc)) from None
        return publication.listed_after_s

    def ome_lists(self, channel: Channel) -> bool:
        with self.target.client() as client:
            return channel.stream in client.streams(self.target.vhost, self.target.app)

    def wait_gone(self, channel: Channel, deadline_s: float = 5.0) -> float:
        """OME deletes asynchronously: poll until the channel's stream is 404; the seconds it took."""
        with self.target.client() as client:
            try:
                return wait_stream_gone(client, self.target.vhost, self.target.app, channel.stream, deadline_s)
            except AssertionError as exc:
                raise AssertionError(self.shown(str(exc))) from None

    def received_events(self, channel: Channel) -> list[dict[str, Any]] | None:
        """The :sendEvent bodies OME accepted for the channel's stream in this scenario (None: not the emulator)."""
        emulator = self.target.emulator
        if emulator is None:
            return None
        return [e.body for e in emulator.state.events[channel.cues_before:] if e.stream == channel.stream]

    def expect_cues(self, channel: Channel, marker: Marker, count: int = 1) -> None:
        """OME received `count` cues for the channel, each with the marker's values (id policy included);
        on a real OME: the cut in its LL-HLS output at the cue time."""
        if self.target.emulator is None:
            cue_effect.expect_cut(self.target, channel.stream, self._cue_time(channel), marker.duration_ms,
                                  marker.splice_event_id)
            return
        received = self._observed_events(channel)
        problems = [] if len(received) == count else [f"{len(received)} :sendEvent call(s), expected {count}"]
        for nth, body in enumerate(received):
            items = body.get("events") if isinstance(body, dict) else None
            wanted = marker.expected_cue(nth)
            if not isinstance(items, list) or len(items) != 1 or body.get("eventFormat") != "scte35":
                problems.append(f"call {nth + 1} is not one scte35 event: {body}")
                continue
            wrong = {k: items[0].get(k) for k, v in wanted.items() if items[0].get(k) != v}
            if wrong:
                problems.append(f"call {nth + 1} has {wrong}, the marker {marker.id!r} needs "
                                f"{ {k: wanted[k] for k in wrong} }")
        if problems:
            raise AssertionError(self.shown(f"OME received the wrong cue(s) for channel {channel.id!r}: "
                                            + "; ".join(problems)))

    def expect_no_cue(self, channel: Channel) -> None:
        """OME received no :sendEvent for the channel's stream in this scenario; on a real OME: no cut."""
        if self.target.emulator is None:
            cue_effect.expect_no_cut(self.target, channel.stream, self._cue_time(channel), None)
            return
        received = self._observed_events(channel)
        if received:
            raise AssertionError(self.shown(f"OME received {len(received)} cue(s) for channel {channel.id!r}, "
                                            f"which the backend refused: {received}"))

    @staticmethod
    def _cue_time(channel: Channel) -> datetime:
        if channel.cue_sent_at is None or not channel.live_publisher:
            raise NotApplicable("the cue's effect is seen in LL-HLS only with a live publisher on the channel")
        return channel.cue_sent_at

    def _observed_events(self, channel: Channel) -> list[dict[str, Any]]:
        received = self.received_events(channel)
        if received is None:
            raise NotApplicable("what OME received is observed on the emulator only (a real OME does not "
                                "list the cues it was sent)")
        return received

    def stop_ome(self) -> None:
        emulator = self.target.emulator
        if emulator is None or not self.target.launched:
            raise NotApplicable("only an OME the harness runs can be stopped")
        emulator.stop()


def now() -> datetime:
    return datetime.now(UTC)


def wait_stream_gone(client: OmeClient, vhost: str, app: str, stream: str, deadline_s: float = 5.0) -> float:
    """OME deletes asynchronously: poll until the stream is 404; the seconds it took."""
    started = time.monotonic()
    last = "still listed"
    while time.monotonic() - started < deadline_s:
        try:
            client.stream(vhost, app, stream)
        except OmeNotFound:
            return round(time.monotonic() - started, 3)
        except OmeError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise AssertionError(f"OME still has stream {stream!r} {deadline_s:g}s after the stop ({last})")


def _keys_in(answer: BackendAnswer) -> list[str]:
    body = answer.body if isinstance(answer.body, dict) else {}
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    return [k for k in (body.get("stream_key"), channel.get("stream_key")) if isinstance(k, str)]


def expect_answer(answer: BackendAnswer, status: int, code: str | None = None) -> Any:
    """The backend answered `status` (and `code`); the body is returned for further checks.

    Failure messages show the body's stream keys as fingerprints (and `BackendUnderTest.expect` all keys seen).
    """
    if answer.status != status:
        raise AssertionError(f"expected the backend to answer {status}, got {answer.status}: "
                             f"{hide_stream_keys(answer.body)}")
    if code is not None and answer.code != code:
        raise AssertionError(f"expected error code {code!r}, got {answer.code!r}: {hide_stream_keys(answer.body)}")
    return answer.body


def _reference_backend(cfg: HarnessConfig, target: OmeTarget, stack: contextlib.ExitStack) -> tuple[str, str, str]:
    from ome_harness.backend.server import BackendServer
    from ome_harness.backend.settings import BackendSettings

    faults = frozenset(cfg.backend.reference_faults)
    if cfg.backend.db_url is not None:
        # The reference backend creates tables and writes: never on the database of the user's own backend.
        raise ConfigError("backend.db_url is set but backend.url is not: set backend.url to the backend that "
                          "owns that database, or unset backend.db_url to verify the reference backend "
                          "(the harness never writes to your database)")
    db_url = cfg.backend.reference_db_url.get_secret_value() if cfg.backend.reference_db_url else ""
    if not db_url:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="omh-backend-"))
        db_url = f"sqlite:///{folder}/backend.db"
    token = secrets.token_urlsafe(24)
    settings = BackendSettings(token=token, db_url=db_url, ome_url=target.api_url, ome_token=target.token,
                               vhost=target.vhost, app=target.app, faults=faults,
                               ome_connect_timeout=min(target.connect_timeout, 2.0),
                               ome_read_timeout=target.read_timeout)
    server = stack.enter_context(BackendServer(settings))
    return server.url, token, db_url


@contextlib.contextmanager
def open_backend(cfg: HarnessConfig, target: OmeTarget) -> Iterator[BackendUnderTest]:
    """The user's backend when `backend.url` is set, else the reference backend on a free loopback port."""
    with contextlib.ExitStack() as stack:
        section = cfg.backend
        if section.url:
            token = section.token.get_secret_value() if section.token else None
            db_url = section.db_url.get_secret_value() if section.db_url else None
            under_test = BackendUnderTest(section.url, token, target, db_url, dict(section.table_map),
                                          launched=False, configured_channel=section.channel,
                                          configured_marker=section.marker,
                                          name_prefix=cfg.media.stream_prefix)
        else:
            url, token, db_url = _reference_backend(cfg, target, stack)
            under_test = BackendUnderTest(url, token, target, db_url, {}, launched=True,
                                          name_prefix=cfg.media.stream_prefix)
        stack.callback(under_test.close)
        yield under_test


@contextlib.contextmanager
def backend_with_own_ome(cfg: HarnessConfig, version: str | None = None) -> Iterator[BackendUnderTest]:
    """The reference backend in front of an emulator of its own, which the caller may stop (degraded mode)."""
    from ome_harness.emulator import EmulatorServer, EmulatorSettings

    with contextlib.ExitStack() as stack:
        settings = EmulatorSettings(hosts=("127.0.0.1",), token=secrets.token_urlsafe(16),
                                    version=version or cfg.emulator.version, vhost=cfg.api.vhost,
                                    apps=(cfg.api.app,), rtmp_port=None, llhls_port=None)
        emulator = stack.enter_context(EmulatorServer(settings))
        target = OmeTarget(kind="emulator", api_url=emulator.url, token=settings.token, vhost=cfg.api.vhost,
                           app=cfg.api.app, connect_timeout=1.0, read_timeout=3.0, launched=True, emulator=emulator)
        url, token, db_url = _reference_backend(cfg, target, stack)
        under_test = BackendUnderTest(url, token, target, db_url, {}, launched=True)
        stack.callback(under_test.close)
        yield under_test
