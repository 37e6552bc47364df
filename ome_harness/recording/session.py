"""What a procedure works with: the target, a deadline, its own streams, and ways to observe.

Every observation goes through here, so every network call has its timeout and every answer — a
refusal, a timeout, a wrong shape — is kept as it came: a misbehaving OME is recorded, not judged.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ome_harness.media.encoder import EncoderSettings, FfmpegEncoder
from ome_harness.ome.errors import OmeError
from ome_harness.polling import Deadline
from ome_harness.recording.model import Observation, Recording, TimelineEntry
from ome_harness.target.base import OmeTarget

WRONG_TOKEN = "ome-harness-wrong-token"
CREDENTIALS = {
    "token": "the recording's token (redacted)",
    "wrong": "a wrong token",
    "none": "(no Authorization header)",
}
MEDIA_TIMEOUT_S = 5.0
STREAM_PREFIX = "omh-rec-"


class ProcedureStopped(Exception):
    """A procedure could not go on (its deadline passed, its stream never came): recorded, not raised on."""


@dataclass
class Session:
    """One procedure's run against one target."""

    target: OmeTarget
    recording: Recording
    procedure: str
    deadline: Deadline
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    own_streams: list[str] = field(default_factory=list)
    segment_s: float = 6.0
    part_s: float = 0.5
    # The edge of `target` named by `record --edge` (procedures/edge.py); None when none was named.
    edge: OmeTarget | None = None
    _media: httpx.Client | None = None

    # -- time ---------------------------------------------------------------------------------
    def left(self) -> float:
        return self.deadline.remaining()

    def check_deadline(self, doing: str) -> None:
        if self.deadline.passed():
            raise ProcedureStopped(f"stopped at its {self.deadline.seconds:g} s deadline before {doing}")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.left())))

    # -- the REST API ---------------------------------------------------------------------------
    def api(
        self,
        step: str,
        method: str,
        path: str,
        *,
        credential: str = "token",
        body: Any = None,
        keep: bool = True,
    ) -> Observation:
        """Ask the API and keep the answer as `<procedure>/<step>` (a transport failure is an answer too)."""
        self.check_deadline(step)
        token = {"token": self.target.token, "wrong": WRONG_TOKEN, "none": None}[credential]
        observation = Observation(
            f"{self.procedure}/{step}",
            request=f"{method} {path}",
            auth=CREDENTIALS[credential],
            sent_body=_json_text(body) if body is not None else None,
        )
        started = time.monotonic()
        with self.target.client(token, connection=self.target.connection()) as client:
            try:
                answer = client.capture(method, path, body)
            except OmeError as exc:
                observation.notes.append(f"no answer: {exc}")
                return self._keep(observation, keep)
        observation.elapsed_s = round(time.monotonic() - started, 3)
        observation.status = answer.status_code
        observation.headers = _raw_headers(answer)
        observation.body = _body_text(answer, method)
        return self._keep(observation, keep)

    def _keep(self, observation: Observation, keep: bool) -> Observation:
        if keep:
            self.recording.add(observation)
        return observation

    # -- playback (LL-HLS) ---------------------------------------------------------------------
    def media_client(self) -> httpx.Client:
        if self._media is None:
            self._media = self.stack.enter_context(httpx.Client(timeout=MEDIA_TIMEOUT_S))
        return self._media

    def media(
        self, step: str, url: str, *, timeout_s: float = MEDIA_TIMEOUT_S, keep: bool = True
    ) -> Observation:
        """GET a playlist or a part; held requests wait up to `timeout_s` (no answer is an answer)."""
        self.check_deadline(step)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        observation = Observation(f"{self.procedure}/{step}", request=f"GET {path}")
        started = time.monotonic()
        try:
            answer = self.media_client().get(url, timeout=min(timeout_s, max(0.5, self.left())))
        except httpx.TimeoutException:
            observation.notes.append(f"no answer within {timeout_s:g} s")
            return self._keep(observation, keep)
        except httpx.HTTPError as exc:
            observation.notes.append(f"no answer: {type(exc).__name__}: {exc}")
            return self._keep(observation, keep)
        observation.elapsed_s = round(time.monotonic() - started, 3)
        observation.status = answer.status_code
        observation.headers = _raw_headers(answer)
        observation.body = _body_text(answer, "GET")
        return self._keep(observation, keep)

    def timeline(self, step: str, entries: list[TimelineEntry], notes: list[str]) -> Observation:
        return self.recording.add(
            Observation(f"{self.procedure}/{step}", "timeline", timeline=entries, notes=notes)
        )

    def note(self, step: str, text: str, notes: list[str]) -> Observation:
        return self.recording.add(Observation(f"{self.procedure}/{step}", "text", text=text, notes=notes))

    # -- the recording's own streams ------------------------------------------------------------------
    def new_stream_name(self) -> str:
        name = f"{STREAM_PREFIX}{uuid.uuid4().hex[:8]}"
        self.own_streams.append(name)
        return name

    def publish_rtmp(self, stream: str, settings: EncoderSettings | None = None) -> FfmpegEncoder:
        """ffmpeg publishing the test signal to the recording's own stream until the procedure ends."""
        encoder = FfmpegEncoder(self.target.rtmp_url(stream), settings or EncoderSettings())
        return self.stack.enter_context(encoder)

    def close(self) -> None:
        self.stack.close()


def _json_text(body: Any) -> str:
    import json

    return json.dumps(body, separators=(",", ":"))


def _raw_headers(answer: httpx.Response) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.headers.raw]


TEXT_TYPES = ("json", "mpegurl", "text", "xml")


def _body_text(answer: httpx.Response, method: str) -> str:
    if method == "HEAD" or not answer.content:
        return ""
    kind = answer.headers.get("content-type", "")
    if any(t in kind for t in TEXT_TYPES):
        return answer.text
    return f"<{len(answer.content)} bytes of {kind or 'unknown type'}>"
