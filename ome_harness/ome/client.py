"""The one client for OME's REST API v1. Nothing else builds OME URLs or auth headers."""

from __future__ import annotations

import base64
import functools
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import certifi
import httpx
from pydantic import TypeAdapter, ValidationError

from ome_harness.ome.deadline import deadline, deadline_transport
from ome_harness.ome.errors import (
    OmeApiError,
    OmeBadRequest,
    OmeBadResponse,
    OmeNotFound,
    OmeTimeout,
    OmeUnauthorized,
    OmeUnreachable,
)
from ome_harness.ome.models import (
    Application,
    EventResult,
    Stats,
    Stream,
    Version,
    VirtualHost,
)

EMULATOR_HEADER = "X-OME-Emulator"
"""Header the built-in emulator adds to every answer, so reports can say what they ran against."""

T = TypeVar("T")

# Far above any OME answer (a stream detail is ~3 KB): a peer streaming without end is cut off here.
MAX_ANSWER_BYTES = 16 * 1024 * 1024


# How long a timed-out request's second look waits for a peer's first bytes (banners come at once).
NON_HTTP_PEEK_S = 2.0


class _TooSlow(Exception):
    """The answer did not complete within the request's total deadline (or never ends)."""


def auth_header(token: str) -> str:
    """OME wants the token alone base64-encoded: no 'user:' prefix and no trailing colon."""
    return "Basic " + base64.b64encode(token.encode()).decode()


@dataclass(frozen=True)
class Exchange:
    """What one request looked like on the wire: the evidence checks report."""

    method: str
    path: str
    status: int | None
    latency_ms: float
    server: str | None = None
    emulator: str | None = None
    error: str | None = None


class OmeClient:
    """Typed access to OME's REST API v1 with connect/read timeouts and OME's auth."""

    def __init__(self, base_url: str, token: str | None, *, connect_timeout: float = 3.0,
                 read_timeout: float = 5.0, connection: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        # Auth goes with each request, so clients with different tokens can share one connection.
        self._auth = {"Authorization": auth_header(token)} if token is not None else {}
        self._owns_http = connection is None
        self._http = connection or open_connection(self.base_url, connect_timeout=connect_timeout,
                                                   read_timeout=read_timeout)
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []

    # -- life cycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection, unless it is shared (its opener closes it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OmeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def emulator_identity(self) -> str | None:
        """The emulator's self-identification if any answer carried it."""
        return next((e.emulator for e in self.exchanges if e.emulator), None)

    # -- endpoints --------------------------------------------------------------------------
    def version(self) -> Version:
        return self._get("/v1/version", Version)

    def vhosts(self) -> list[str]:
        return self._get("/v1/vhosts", list[str])

    def vhost(self, vhost: str) -> VirtualHost:
        return self._get(f"/v1/vhosts/{_seg(vhost)}", VirtualHost)

    def apps(self, vhost: str) -> list[str]:
        return self._get(f"/v1/vhosts/{_seg(vhost)}/apps", list[str])

    def app(self, vhost: str, app: str) -> Application:
        return self._get(_app_path(vhost, app), Application)

    def streams(self, vhost: str, app: str) -> list[str]:
        return self._get(f"{_app_path(vhost, app)}/streams", list[str])

    def stream(self, vhost: str, app: str, stream: str) -> Stream:
        return self._get(_stream_path(vhost, app, stream), Stream)

    def delete_stream(self, vhost: str, app: str, stream: str) -> None:
        """Drop a stream and disconnect its publisher. OME deletes asynchronously: poll to see it gone."""
        self._call("DELETE", _stream_path(vhost, app, stream))

    def stats(self, vhost: str | None = None, app: str | None = None, stream: str | None = None) -> Stats:
        path = "/v1/stats/current"
        if vhost is not None:
            path += f"/vhosts/{_seg(vhost)}"
            if app is not None:
                path += f"/apps/{_seg(app)}"
                if stream is not None:
                    path += f"/streams/{_seg(stream)}"
        return self._get(path, Stats)

    def send_event(self, vhost: str, app: str, stream: str, body: dict[str, Any]) -> None:
        """POST :sendEvent. OME's 400s surface as OmeBadRequest with OME's own message."""
        self._call("POST", f"{_stream_path(vhost, app, stream)}:sendEvent", json_body=body)

    def send_events(self, vhost: str, app: str, stream: str, bodies: list[dict[str, Any]]) -> list[EventResult]:
        """POST :sendEvents; 207 (mixed) answers are results, not errors."""
        payload = self._call("POST", f"{_stream_path(vhost, app, stream)}:sendEvents",
                             json_body=bodies, bare=True)
        return _parse(TypeAdapter(list[EventResult]), payload, self._url(""), 200)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Any API path (probes of routing and refusals); returns the unwrapped `response`."""
        return self._call(method, path if path.startswith("/") else "/" + path, json_body=body)

    # -- transport --------------------------------------------------------------------------
    def _get(self, path: str, shape: type[T] | Any) -> T:
        payload = self._call("GET", path)
        adapter = shape if isinstance(shape, TypeAdapter) else _adapter(shape)
        return _parse(adapter, payload, self._url(path), 200)

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _call(self, method: str, path: str, *, json_body: Any = None, bare: bool = False) -> Any:
        url = self._url(path)
        started = time.perf_counter()
        try:
            response = self._fetch(method, path, json_body,
                                   deadline_at=started + self.connect_timeout + self.read_timeout)
        except _TooSlow:
            self._record(method, path, None, started, error="deadline")
            raise OmeTimeout(url=url, phase="read", seconds=self.read_timeout) from None
        except httpx.TimeoutException as exc:
            phase = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            seconds = self.connect_timeout if phase == "connect" else self.read_timeout
            self._record(method, path, None, started, error=f"{phase} timeout")
            deadline_at = started + self.connect_timeout + self.read_timeout
            if phase == "read" and (banner := self._non_http_greeting(deadline_at)) is not None:
                # h11 waits for a whole header block, so a service that sends one line and keeps the
                # socket open looks "slow"; its first bytes show it is not HTTP at all.
                raise OmeBadResponse(url=url, status=0, kind="not-http",
                                     detail=f"the peer does not answer HTTP: it sent {banner!r}") from None
            raise OmeTimeout(url=url, phase=phase, seconds=seconds) from None
        except httpx.ConnectError as exc:
            self._record(method, path, None, started, error=type(exc).__name__)
            tls = next((e for e in _causes(exc) if isinstance(e, ssl.SSLError)), None)
            if tls is not None:
                raise _tls_failure(url, tls) from None
            raise _unreachable(url, exc) from None
        except UnicodeError as exc:
            self._record(method, path, None, started, error=type(exc).__name__)
            raise _unreachable(url, exc) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # A connection was made, but what answered does not speak HTTP (or hung up mid-answer).
            self._record(method, path, None, started, error=type(exc).__name__)
            if _hung_up(exc):
                raise OmeBadResponse(url=url, status=0, kind="reset",
                                     detail="the peer reset the connection without answering") from None
            raise OmeBadResponse(url=url, status=0, kind="not-http",
                                 detail=f"the peer does not answer HTTP ({type(exc).__name__}: {exc})") from None
        self._record(method, path, response.status_code, started,
                     server=response.headers.get("server"),
                     emulator=response.headers.get(EMULATOR_HEADER))
        return _unwrap(response, url, bare=bare)

    def _fetch(self, method: str, path: str, json_body: Any, *, deadline_at: float) -> httpx.Response:
        """The whole answer within connect + read timeout: httpx bounds each read, not a peer that trickles."""
        with deadline(deadline_at), self._http.stream(method, path, json=json_body,
                                                      headers=self._auth) as streamed:
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if time.perf_counter() > deadline_at:
                    raise _TooSlow
                if len(body) > MAX_ANSWER_BYTES:
                    raise OmeBadResponse(url=self._url(path), status=streamed.status_code, kind="too-large",
                                         detail=f"answer larger than {MAX_ANSWER_BYTES} bytes: not OME's API")
            return httpx.Response(streamed.status_code, headers=streamed.headers, content=bytes(body),
                                  request=streamed.request)

    def _non_http_greeting(self, deadline_at: float) -> str | None:
        """The first bytes of a fresh plain connection when they are not an HTTP answer (None otherwise).

        The look fits in what is left of the request's own bound (connect + read timeout), so a
        silent peer still ends within it."""
        parts = urlsplit(self.base_url)
        left = deadline_at - time.perf_counter()
        if parts.scheme != "http" or parts.hostname is None or left < 0.05:
            return None
        port = parts.port if parts.port is not None else 80
        request = f"GET /v1/version HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        try:
            with socket.create_connection((parts.hostname, port), timeout=min(self.connect_timeout, left)) as sock:
                peek = min(self.read_timeout, NON_HTTP_PEEK_S, deadline_at - time.perf_counter())
                sock.settimeout(max(0.01, peek))
                sock.sendall(request)
                first = sock.recv(64)
        except OSError:  # timeout included: silence is a slow peer, not a foreign protocol
            return None
        if not first or first.startswith(b"HTTP/") or b"HTTP/".startswith(first):
            return None  # an HTTP answer, or the start of one trickling in: slow, not foreign
        return first.decode("latin-1").strip()[:40]

    def _record(self, method: str, path: str, status: int | None, started: float, **extra: Any) -> None:
        exchange = Exchange(method, path, status, round((time.perf_counter() - started) * 1000, 2), **extra)
        with self._lock:
            self.exchanges.append(exchange)


def open_connection(base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 5.0) -> httpx.Client:
    """A keep-alive connection pool to one OME, shareable by clients (and threads) with any token."""
    return httpx.Client(base_url=base_url.rstrip("/"), headers={"Accept": "application/json",
                                                                "User-Agent": "ome-harness"},
                        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
                        transport=deadline_transport(_tls_context()), follow_redirects=False, trust_env=False)


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    # Building a TypeAdapter costs about as much as a loopback request: build each shape's once.
    return TypeAdapter(shape)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building a verifying TLS context costs ~10 ms; checks open several clients, so build it once.
    return ssl.create_default_context(cafile=certifi.where())  # the CA bundle httpx itself would use


def _seg(value: str) -> str:
    return quote(value, safe="")


def _app_path(vhost: str, app: str) -> str:
    return f"/v1/vhosts/{_seg(vhost)}/apps/{_seg(app)}"


def _stream_path(vhost: str, app: str, stream: str) -> str:
    return f"{_app_path(vhost, app)}/streams/{_seg(stream)}"


def _unwrap(response: httpx.Response, url: str, *, bare: bool) -> Any:
    status = response.status_code
    if 300 <= status < 400:
        # OME's API never redirects (samples/); a redirect means a proxy or another service answers.
        where = _without_userinfo(response.headers.get("location", ""))
        raise OmeBadResponse(url=url, status=status, kind="redirect",
                             detail=f"redirects to {where or '(no Location)'}; the harness does not follow "
                                    "redirects: point it at OME's API itself")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise _not_json(response, url) from None
    if bare and isinstance(body, list):
        return body
    if not isinstance(body, dict) or "statusCode" not in body or "message" not in body:
        raise OmeBadResponse(url=url, status=status, kind="shape",
                             detail="JSON without OME's statusCode/message envelope")
    if 200 <= status < 300:
        return body.get("response")
    message = str(body.get("message", ""))
    error_type = {400: OmeBadRequest, 401: OmeUnauthorized, 404: OmeNotFound}.get(status, OmeApiError)
    raise error_type(url=url, status=status, message=message)


def _without_userinfo(location: str) -> str:
    parts = urlsplit(location)
    if "@" not in parts.netloc:
        return location[:200]
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()[:200]


def _hung_up(exc: Exception) -> bool:
    """The peer reset the connection (RST). A plain close is left as not-HTTP: h11 cannot tell a
    peer that hung up at once from one that sent a banner of another protocol and then closed."""
    return any(isinstance(e, ConnectionResetError) for e in _causes(exc))


def _not_json(response: httpx.Response, url: str) -> OmeBadResponse:
    content_type = response.headers.get("content-type", "?")
    head = response.text[:200].lstrip().lower()
    if "html" in content_type or head.startswith(("<!doctype html", "<html")):
        return OmeBadResponse(url=url, status=response.status_code, kind="html",
                              detail=f"answered with HTML ({content_type}), not OME's JSON")
    snippet = response.text[:60].replace("\n", " ")
    return OmeBadResponse(url=url, status=response.status_code, kind="not-json",
                          detail=f"answer is not JSON ({content_type}): {snippet!r}")


def _parse(adapter: TypeAdapter[T], payload: Any, url: str, status: int) -> T:
    try:
        return adapter.validate_python(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "response"
        raise OmeBadResponse(url=url, status=status, kind="shape",
                             detail=f"unexpected shape at {where}: {first['msg']}") from None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _tls_failure(url: str, error: ssl.SSLError) -> OmeBadResponse:
    """An https:// URL whose TLS handshake failed: a plain-HTTP port, or a certificate not trusted."""
    reason = (error.reason or "").upper()
    if reason in PLAIN_HTTP_TLS_REASONS:
        return OmeBadResponse(url=url, status=0, kind="plain-http",
                              detail=f"this port speaks plain HTTP (TLS handshake failed: {error.reason})")
    if isinstance(error, ssl.SSLCertVerificationError):
        return OmeBadResponse(url=url, status=0, kind="tls",
                              detail=f"TLS handshake failed: {error.verify_message or error.reason}")
    return OmeBadResponse(url=url, status=0, kind="tls",
                          detail=f"TLS handshake failed: {error.reason or error}")


# What OpenSSL reports when the peer answers a ClientHello with plain text (an HTTP error page).
PLAIN_HTTP_TLS_REASONS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST",
                          "PACKET_LENGTH_TOO_LONG"}


def _unreachable(url: str, exc: Exception) -> OmeUnreachable:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    os_error = next((e for e in _causes(exc) if isinstance(e, OSError)), None)
    if isinstance(exc, UnicodeError) or isinstance(os_error, socket.gaierror):
        reason = "not a valid host name" if isinstance(exc, UnicodeError) else os_error.strerror
        return OmeUnreachable(url=url, host=host, port=port, errno=None,
                              reason=f"name not resolved: {reason}")
    errno = getattr(os_error, "errno", None)
    reason = os_error.strerror if os_error is not None and os_error.strerror else str(exc) or type(exc).__name__
    return OmeUnreachable(url=url, host=host, port=port, errno=errno, reason=reason,
                          addresses=_addresses(host, port))


def _addresses(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))
