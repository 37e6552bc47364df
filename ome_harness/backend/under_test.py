"""The backend a run verifies: the user's (`backend.url`) or the reference backend started in-process.

What scenario steps call: the backend's API, the read-only database checks, and OME's side of
each workflow (a live publisher on the channel, the stream gone after a stop, the cue received).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from ome_harness.backend.client import BackendAnswer, BackendClient
from ome_harness.config import HarnessConfig
from ome_harness.dbcheck import DbChecker
from ome_harness.ome.errors import OmeError, OmeNotFound
from ome_harness.ome.versions import capabilities
from ome_harness.redaction import fingerprint
from ome_harness.target.base import OmeTarget

FAULTS_ENV = "OME_HARNESS_BACKEND_FAULTS"
"""Comma-separated faults for the in-process reference backend: how the suite proves its scenarios fail."""

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
    stream: str
    stream_key: str | None = None


@dataclass
class BackendUnderTest:
    """One backend with its OME and database; `launched` when the harness runs it (reference backend)."""

    url: str
    token: str | None
    target: OmeTarget
    db_url: str | None
    table_map: dict[str, dict[str, str]]
    launched: bool
    configured_channel: str | None = None
    configured_marker: str | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _api: BackendClient | None = None
    _db: DbChecker | None = None

    @property
    def api(self) -> BackendClient:
        if self._api is None:
            self._api = self._stack.enter_context(BackendClient(self.url, self.token))
        return self._api

    @property
    def db(self) -> DbChecker:
        if self.db_url is None:
            raise NotApplicable("database checks need backend.db_url (the backend's database, read-only)")
        if self._db is None:
            self._db = self._stack.enter_context(DbChecker(self.db_url, self.table_map))
        return self._db

    def close(self) -> None:
        self._stack.close()

    # -- channels and markers ---------------------------------------------------------------
    def new_channel(self) -> Channel:
        """A channel to work on: created through the API, or the one configured for a user's backend."""
        if self.configured_channel:
            detail = self.api.stream(self.configured_channel)
            record = detail.field("channel") or {}
            stream = (record.get("ome") or {}).get("stream") or self.configured_channel
            return Channel(self.configured_channel, stream, record.get("stream_key"))
        channel_id = f"omh-{uuid.uuid4().hex[:10]}"
        answer = self.api.create_channel(channel_id, f"ome-harness scenario {channel_id}")
        if answer.status != 201:
            raise AssertionError(f"could not create a channel through POST /api/channels: {answer.status} "
                                 f"{answer.body} (set backend.channel to use an existing one)")
        return Channel(channel_id, answer.body["ome"]["stream"], answer.body["stream_key"])

    def new_marker(self, duration_s: int) -> str:
        if self.configured_marker:
            return self.configured_marker
        marker_id = f"omh-break-{uuid.uuid4().hex[:8]}"
        answer = self.api.create_marker(marker_id, cue_type="out", duration_ms=duration_s * 1000,
                                        event_id_policy="increment", splice_event_id=1000)
        if answer.status != 201:
            raise AssertionError(f"could not create a marker through POST /api/markers: {answer.status} "
                                 f"{answer.body} (set backend.marker to use an existing one)")
        return marker_id

    # -- OME's side -------------------------------------------------------------------------
    @property
    def ome_version(self) -> str:
        with self.target.client() as client:
            return client.version().version

    def scte35_in_api(self) -> bool:
        return capabilities(self.ome_version).scte35_api

    def make_live(self, stream: str) -> None:
        """A publisher on the channel: simulated on the emulator, a real encoder on any other OME."""
        emulator = self.target.emulator
        if emulator is not None:
            emulator.state.add_stream(stream, vhost=self.target.vhost, app=self.target.app)
            return
        self.publish(stream)

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

    def ome_lists(self, stream: str) -> bool:
        with self.target.client() as client:
            return stream in client.streams(self.target.vhost, self.target.app)

    def wait_gone(self, stream: str, deadline_s: float = 5.0) -> float:
        """OME deletes asynchronously: poll until the stream is 404; the seconds it took."""
        started = time.monotonic()
        last = "still listed"
        with self.target.client() as client:
            while time.monotonic() - started < deadline_s:
                try:
                    client.stream(self.target.vhost, self.target.app, stream)
                except OmeNotFound:
                    return round(time.monotonic() - started, 3)
                except OmeError as exc:
                    last = str(exc)
                time.sleep(0.05)
        raise AssertionError(f"OME still has stream {stream!r} {deadline_s:g}s after the stop ({last})")

    def received_events(self, stream: str) -> list[dict[str, Any]] | None:
        """The :sendEvent bodies OME accepted for the stream, when the OME is our emulator (else None)."""
        emulator = self.target.emulator
        if emulator is None:
            return None
        return [e.body for e in emulator.state.events if e.stream == stream]

    def stop_ome(self) -> None:
        emulator = self.target.emulator
        if emulator is None or not self.target.launched:
            raise NotApplicable("only an OME the harness runs can be stopped")
        emulator.stop()


def now() -> datetime:
    return datetime.now(UTC)


def expect_answer(answer: BackendAnswer, status: int, code: str | None = None) -> Any:
    """The backend answered `status` (and `code`); the body is returned for further checks."""
    shown = _without_keys(answer.body)
    assert answer.status == status, f"expected the backend to answer {status}, got {answer.status}: {shown}"
    if code is not None:
        assert answer.code == code, f"expected error code {code!r}, got {answer.code!r}: {shown}"
    return answer.body


def _without_keys(body: Any) -> Any:
    """A body as failure messages show it: stream keys (ingest credentials) as fingerprints."""
    if isinstance(body, dict):
        return {k: fingerprint(v) if k == "stream_key" and isinstance(v, str) else _without_keys(v)
                for k, v in body.items()}
    if isinstance(body, list):
        return [_without_keys(v) for v in body]
    return body


def _reference_backend(cfg: HarnessConfig, target: OmeTarget, stack: contextlib.ExitStack) -> tuple[str, str, str]:
    from ome_harness.backend.server import BackendServer
    from ome_harness.backend.settings import BackendSettings

    faults = frozenset(f.strip() for f in os.environ.get(FAULTS_ENV, "").split(",") if f.strip())
    if cfg.backend.db_url is not None:
        db_url = cfg.backend.db_url.get_secret_value()
    else:
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
            under_test = BackendUnderTest(section.url, token, target, db_url, dict(section.table_map), launched=False,
                                          configured_channel=section.channel, configured_marker=section.marker)
        else:
            url, token, db_url = _reference_backend(cfg, target, stack)
            under_test = BackendUnderTest(url, token, target, db_url, {}, launched=True)
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
