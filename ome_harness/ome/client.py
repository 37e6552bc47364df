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
import httpcore
import httpx
from pydantic import TypeAdapter, ValidationError

from ome_harness.ome.deadline import deadline, deadline_pool
from ome_harness.ome.errors import (
    AnswerTooLarge,
    ConnectionReset,
    HtmlAnswer,
    NotHttpAnswer,
    NotJsonAnswer,
    OmeApiError,
    OmeBadRequest,
    OmeBadResponse,
    OmeNotFound,
    OmeTimeout,
    OmeUnauthorized,
    OmeUnreachable,
    PlainHttpAnswer,
    Redirected,
    TlsHandshakeFailed,
    TlsPortAnswer,
    UnexpectedShape,
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
                 read_timeout: float = 5.0, connection: Connection | None = None) -> None:
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

    def send_events(
        self, vhost: str, app: str, stream: str, bodies: list[dict[str, Any]]
    ) -> list[EventResult]:
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

    def capture(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The whole answer to any API request as received (status, headers, decoded body), unjudged: what
        `ome-harness record` keeps. Kept as an exchange like every other; transport failures raise alike."""
        return self._answer(method, path if path.startswith("/") else "/" + path, body)

    def _call(self, method: str, path: str, *, json_body: Any = None, bare: bool = False) -> Any:
        return _unwrap(self._answer(method, path, json_body), self._url(path), bare=bare)

    def _answer(self, method: str, path: str, json_body: Any) -> httpx.Response:
        url = self._url(path)
        started = time.perf_counter()
        try:
            response = self._fetch(method, path, json_body,
                                   deadline_at=started + self.connect_timeout + self.read_timeout)
        except _TooSlow as exc:
            self._record(method, path, None, started, error="deadline")
            raise OmeTimeout(url=url, phase="read", seconds=self.read_timeout) from exc
        except httpcore.TimeoutException as exc:
            phase = "connect" if isinstance(exc, httpcore.ConnectTimeout) else "read"
            seconds = self.connect_timeout if phase == "connect" else self.read_timeout
            self._record(method, path, None, started, error=f"{phase} timeout")
            deadline_at = started + self.connect_timeout + self.read_timeout
            if phase == "read" and (banner := self._non_http_greeting(deadline_at)) is not None:
                # h11 waits for a whole header block, so a service that sends one line and keeps the
                # socket open looks "slow"; its first bytes show it is not HTTP at all.
                raise NotHttpAnswer(url=url, status=0,
                                    detail=f"the peer does not answer HTTP: it sent {banner!r}") from exc
            raise OmeTimeout(url=url, phase=phase, seconds=seconds) from exc
        except httpcore.ConnectError as exc:
            self._record(method, path, None, started, error=type(exc).__name__)
            tls = next((e for e in _causes(exc) if isinstance(e, ssl.SSLError)), None)
            if tls is not None:
                raise _tls_failure(url, tls) from exc
            raise _unreachable(url, exc) from exc
        except UnicodeError as exc:
            self._record(method, path, None, started, error=type(exc).__name__)
            raise _unreachable(url, exc) from exc
        except (httpcore.ProtocolError, httpcore.NetworkError) as exc:  # read, write, close, protocol
            # A connection was made, but what answered does not speak HTTP (or hung up mid-answer).
            self._record(method, path, None, started, error=type(exc).__name__)
            if self._speaks_tls(started + self.connect_timeout + self.read_timeout):
                raise TlsPortAnswer(url=url, status=0, detail="this port speaks TLS (a TLS handshake "
                                                              "succeeds): use https://") from exc
            if _hung_up(exc):
                raise ConnectionReset(url=url, status=0,
                                      detail="the peer reset the connection without answering") from exc
            raise NotHttpAnswer(
                url=url, status=0, detail=f"the peer does not answer HTTP ({type(exc).__name__}: {exc})"
            ) from exc
        self._record(method, path, response.status_code, started,
                     server=response.headers.get("server"),
                     emulator=response.headers.get(EMULATOR_HEADER))
        return response

    def _fetch(self, method: str, path: str, json_body: Any, *, deadline_at: float) -> httpx.Response:
        """The whole answer within connect + read timeout: httpcore bounds each read, not a peer that
        trickles."""
        with deadline(deadline_at):
            answer = self._http.send(method, path, self._auth, json_body)
            try:
                headers = httpx.Headers(answer.headers)
                body = bytearray()
                for chunk in _body(answer, headers, self._url(path)):
                    body += chunk
                    if time.perf_counter() > deadline_at:
                        raise _TooSlow
                    if len(body) > MAX_ANSWER_BYTES:
                        raise AnswerTooLarge(url=self._url(path), status=answer.status, detail=(
                            f"answer larger than {MAX_ANSWER_BYTES} bytes: not OME's API"))
            finally:
                answer.close()
        if "content-encoding" in headers:  # `body` is decoded already: the answer must not decode it again
            headers = httpx.Headers([(k, v) for k, v in headers.multi_items()
                                     if k.lower() != "content-encoding"])
        return httpx.Response(answer.status, headers=headers, content=bytes(body))

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
            with socket.create_connection(
                (parts.hostname, port), timeout=min(self.connect_timeout, left)
            ) as sock:
                peek = min(self.read_timeout, NON_HTTP_PEEK_S, deadline_at - time.perf_counter())
                sock.settimeout(max(0.01, peek))
                sock.sendall(request)
                first = sock.recv(64)
        except OSError:  # timeout included: silence is a slow peer, not a foreign protocol
            return None
        if not first or first.startswith(b"HTTP/") or b"HTTP/".startswith(first):
            return None  # an HTTP answer, or the start of one trickling in: slow, not foreign
        return first.decode("latin-1").strip()[:40]

    def _speaks_tls(self, deadline_at: float) -> bool:
        """Whether an http:// URL's port completes a TLS handshake (certificate not checked: only the
        protocol is asked), within what is left of the request's own bound."""
        parts = urlsplit(self.base_url)
        left = deadline_at - time.perf_counter()
        if parts.scheme != "http" or parts.hostname is None or left < 0.05:
            return False
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((parts.hostname, parts.port if parts.port is not None else 80),
                                          timeout=min(self.connect_timeout, left)) as sock:
                sock.settimeout(max(0.01, min(NON_HTTP_PEEK_S, deadline_at - time.perf_counter())))
                with context.wrap_socket(sock, server_hostname=parts.hostname):
                    return True
        except (OSError, ValueError):  # ssl.SSLError is an OSError: not TLS, or not answering
            return False

    def _record(self, method: str, path: str, status: int | None, started: float, **extra: Any) -> None:
        exchange = Exchange(method, path, status, round((time.perf_counter() - started) * 1000, 2), **extra)
        with self._lock:
            self.exchanges.append(exchange)


def _body(answer: httpcore.Response, headers: httpx.Headers, url: str) -> Iterator[bytes]:
    """The body as its Content-Encoding says (the client asks for none; a peer may encode anyway)."""
    if "content-encoding" not in headers:
        yield from answer.iter_stream()
        return
    try:  # httpx's decoders, chunk by chunk, so the size bound holds for what they produce
        yield from httpx.Response(answer.status, headers=headers, stream=_Body(answer)).iter_bytes()
    except httpx.DecodingError as exc:
        raise NotJsonAnswer(url=url, status=answer.status, detail=(
            f"the body does not decode as its Content-Encoding "
            f"({headers.get('content-encoding', '?')[:40]}) says")) from exc


class Connection:
    """A keep-alive connection pool to one OME, shareable by clients (and threads) with any token.

    Requests go to httpcore's pool, the one under httpx, without httpx.Client's per-request layers
    (URL merging, cookies, auth and redirect flows, event hooks, its request and exception
    wrappers): ~35 % of a loopback request's CPU here, none of it needed — auth travels as a header
    and redirects are diagnosed, never followed (bench/README.md). Errors stay httpcore's.
    """

    def __init__(self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout).as_dict()
        self._pool = deadline_pool(_tls_context())
        self._origin: tuple[bytes, bytes, int | None, bytes, bytes] | None = None
        self.is_closed = False

    def send(self, method: str, path: str, headers: dict[str, str],
             json_body: Any = None) -> httpcore.Response:
        """Send one request to base_url + path; the answer's body is left to stream (close it)."""
        scheme, host, port, host_header, prefix = self._parsed()
        raw = [(b"Host", host_header), *_HEADERS, *((k.encode(), v.encode()) for k, v in headers.items())]
        body = b""
        if json_body is not None:  # as httpx encodes `json=`
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            raw.append((b"Content-Type", b"application/json"))
        if body or method in ("POST", "PUT", "PATCH"):
            raw.append((b"Content-Length", str(len(body)).encode()))
        request = httpcore.Request(
            method.encode(), httpcore.URL(scheme=scheme, host=host, port=port, target=prefix + _ascii(path)),
            headers=raw, content=body, extensions={"timeout": self._timeout})
        for _ in range(_MOST_ATTEMPTS - 1):
            kept = method in _RETRIED_METHODS and any(c.is_idle() for c in self._pool.connections)
            try:
                return self._pool.handle_request(request)
            except _CLOSED_BEFORE_ANSWER:
                # The failed connection has left the pool; the next attempt takes another or a new one.
                if not kept:
                    raise
        return self._pool.handle_request(request)

    def _parsed(self) -> tuple[bytes, bytes, int | None, bytes, bytes]:
        # Parsed by httpx (IDNA, IPv6 brackets) on first use, so a bad URL fails as a request would.
        if self._origin is None:
            url = httpx.URL(self.base_url)
            self._origin = (url.raw_scheme, url.raw_host, url.port, url.netloc, url.raw_path.rstrip(b"/"))
        return self._origin

    @property
    def open_sockets(self) -> int:
        """How many connections the pool holds (idle or busy)."""
        return len(self._pool.connections)

    def close(self) -> None:
        self.is_closed = True
        self._pool.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Body(httpx.SyncByteStream):
    """httpcore's streamed body as httpx reads it (decoding, close returns the connection)."""

    def __init__(self, answer: httpcore.Response) -> None:
        self._answer = answer

    def __iter__(self) -> Iterator[bytes]:
        yield from self._answer.iter_stream()

    def close(self) -> None:
        self._answer.close()


def _ascii(path: str) -> bytes:
    # The endpoints quote their segments already; a raw non-ASCII path given to request() is
    # percent-encoded (UTF-8), reserved characters kept.
    return (path if path.isascii() else quote(path, safe="/:?=&%@!$'()*+,;~")).encode()


_HEADERS = ((b"Accept", b"application/json"), (b"User-Agent", b"ome-harness"))

# A kept connection can be closed by the server's keep-alive timeout just as a request leaves on it: the
# request then fails with no answer (seen in CI: uvicorn closes idle connections after 5 s, the pool keeps
# them 5 s; OME's own keep-alive timeout is not among the captured facts). httpcore does not retry, so
# the client does, as RFC 9112 §9.3.1 allows for idempotent methods, and only when a kept connection
# may have been taken: a fresh connection that closes without answering is the diagnosis, sent once.
_RETRIED_METHODS = frozenset({"GET", "HEAD"})
_CLOSED_BEFORE_ANSWER = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)
_MOST_ATTEMPTS = 3


def open_connection(base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 5.0) -> Connection:
    """A keep-alive connection pool to one OME, shareable by clients (and threads) with any token."""
    return Connection(base_url, connect_timeout=connect_timeout, read_timeout=read_timeout)


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
        raise Redirected(url=url, status=status,
                         detail=f"redirects to {where or '(no Location)'}; the harness does not follow "
                                    "redirects: point it at OME's API itself")
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: JSON nested thousands deep (OME's answers are a few levels) is not OME's.
        raise _not_json(response, url) from exc
    if bare and isinstance(body, list):
        return body
    if not isinstance(body, dict) or "statusCode" not in body or "message" not in body:
        raise UnexpectedShape(url=url, status=status,
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
        return HtmlAnswer(url=url, status=response.status_code,
                          detail=f"answered with HTML ({content_type}), not OME's JSON")
    snippet = response.text[:60].replace("\n", " ")
    return NotJsonAnswer(url=url, status=response.status_code,
                         detail=f"answer is not JSON ({content_type}): {snippet!r}")


def _parse(adapter: TypeAdapter[T], payload: Any, url: str, status: int) -> T:
    try:
        return adapter.validate_python(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "response"
        raise UnexpectedShape(url=url, status=status,
                              detail=f"unexpected shape at {where}: {first['msg']}") from exc


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
        return PlainHttpAnswer(url=url, status=0,
                               detail=f"this port speaks plain HTTP (TLS handshake failed: {error.reason})")
    if isinstance(error, ssl.SSLCertVerificationError):
        return TlsHandshakeFailed(url=url, status=0,
                                  detail=f"TLS handshake failed: {error.verify_message or error.reason}")
    return TlsHandshakeFailed(url=url, status=0,
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
    reason = (
        os_error.strerror if os_error is not None and os_error.strerror else str(exc) or type(exc).__name__
    )
    return OmeUnreachable(url=url, host=host, port=port, errno=errno, reason=reason,
                          addresses=_addresses(host, port))


def _addresses(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))
