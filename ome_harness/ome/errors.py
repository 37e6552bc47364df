"""The exception family of the OME client: callers catch the leaf they can handle.

One class per failure, so callers and findings branch on types (`isinstance`), never on a string:

    OmeError                        anything that went wrong talking to OME
    ├── OmeUnreachable              no TCP connection (refused, no route, name not resolved)
    ├── OmeTimeout                  no connect or no whole answer within the configured timeout
    ├── OmeBadResponse              something answered, but not with OME's JSON envelope
    │   ├── NotHttpAnswer           the peer does not speak HTTP (a banner, a broken answer)
    │   ├── ConnectionReset         the peer reset the connection before any answer
    │   ├── Redirected              a redirect (OME's API never redirects: a proxy or another service)
    │   ├── PlainHttpAnswer         an https:// URL whose port speaks plain HTTP
    │   ├── TlsPortAnswer           an http:// URL whose port speaks TLS (it hung up on plain text)
    │   ├── TlsHandshakeFailed      TLS failed for another reason (an untrusted certificate, ...)
    │   ├── HtmlAnswer              an HTML page (a web server or a proxy owns the port)
    │   ├── NotJsonAnswer           neither HTML nor JSON
    │   ├── AnswerTooLarge          more than the client's cap: not OME's API
    │   └── UnexpectedShape         JSON, but not the envelope or the fields we rely on
    └── OmeApiError                 OME's own error envelope (any other status, e.g. 5xx)
        ├── OmeBadRequest           400: OME refused the body
        ├── OmeUnauthorized         401: missing or wrong access token
        └── OmeNotFound             404: unknown vhost/app/stream, or a path OME does not route

(`media.metrics.StatsStillGrowing` also derives from OmeError.) Each OmeBadResponse leaf carries a
fixed `kind` label for reports and logs; code never compares it, it compares classes.
"""

from __future__ import annotations

import errno as _errno
import re
from typing import ClassVar

from ome_harness.addresses import url_host

_DECORATION = re.compile(r"^\[HTTP\]\s*(?P<text>.*?)\s*\(\d{3}\)\s*$", re.DOTALL)


def strip_decoration(message: str) -> str:
    """OME wraps error texts as '[HTTP] <text> (<code>)'; users want only the text."""
    match = _DECORATION.match(message or "")
    return match.group("text").strip() if match else (message or "").strip()


class OmeError(Exception):
    """Anything that went wrong talking to OME."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url

    @property
    def summary(self) -> str:
        return str(self)


class OmeUnreachable(OmeError):
    """No TCP connection could be made (refused, no route, name not resolved)."""

    def __init__(self, *, url: str, host: str, port: int, errno: int | None, reason: str,
                 addresses: tuple[str, ...] = ()) -> None:
        self.host, self.port, self.errno, self.reason = host, port, errno, reason
        self.addresses = addresses
        super().__init__(f"connect {self.errname} {self.where}", url=url)

    @property
    def errname(self) -> str:
        if self.errno is None:
            return "failed"
        return _errno.errorcode.get(self.errno, f"errno {self.errno}")

    @property
    def where(self) -> str:
        tried = self.addresses or (self.host,)
        return ", ".join(f"{url_host(a)}:{self.port}" for a in tried)


class OmeTimeout(OmeError):
    """The API did not connect or answer within the configured timeout."""

    def __init__(self, *, url: str, phase: str, seconds: float) -> None:
        self.phase, self.seconds = phase, seconds
        verb = "connect" if phase == "connect" else "answer"
        super().__init__(f"no {verb} within {seconds:g}s ({phase} timeout)", url=url)


class OmeBadResponse(OmeError):
    """The answer is not OME's JSON envelope: HTML, garbage, or the wrong shape (raise a leaf)."""

    kind: ClassVar[str] = "other"  # a label for reports (facts["kind"]); branch on the class instead

    def __init__(self, *, url: str, status: int, detail: str) -> None:
        self.status, self.detail = status, detail
        super().__init__(f"HTTP {status}: {detail}", url=url)


class NotHttpAnswer(OmeBadResponse):
    """What answered on the port does not speak HTTP (it sent a banner, or hung up mid-answer)."""

    kind = "not-http"


class ConnectionReset(OmeBadResponse):
    """The peer accepted the connection, then reset it without answering (e.g. Docker's port proxy)."""

    kind = "reset"


class Redirected(OmeBadResponse):
    """A redirect: OME's API never redirects (samples/), so a proxy or another service answers."""

    kind = "redirect"


class PlainHttpAnswer(OmeBadResponse):
    """An https:// URL, but the port answered the TLS handshake with plain HTTP."""

    kind = "plain-http"


class TlsPortAnswer(OmeBadResponse):
    """An http:// URL, but the port speaks TLS: it hung up on the plain request and completes a handshake."""

    kind = "tls-port"


class TlsHandshakeFailed(OmeBadResponse):
    """The TLS handshake failed for another reason than a plain-HTTP port (e.g. an untrusted certificate)."""

    kind = "tls"


class HtmlAnswer(OmeBadResponse):
    """An HTML page instead of OME's JSON: a web server or a proxy answers on the port."""

    kind = "html"


class NotJsonAnswer(OmeBadResponse):
    """Neither HTML nor JSON."""

    kind = "not-json"


class AnswerTooLarge(OmeBadResponse):
    """An answer larger than the client's cap: not OME's API (which answers in kilobytes)."""

    kind = "too-large"


class UnexpectedShape(OmeBadResponse):
    """JSON, but without OME's statusCode/message envelope or the fields the harness relies on."""

    kind = "shape"


class OmeApiError(OmeError):
    """OME answered with an error envelope."""

    def __init__(self, *, url: str, status: int, message: str) -> None:
        self.status = status
        self.message = strip_decoration(message)
        super().__init__(f"HTTP {status}: {self.message}", url=url)


class OmeUnauthorized(OmeApiError):
    """401: missing, malformed or wrong access token."""


class OmeNotFound(OmeApiError):
    """404: unknown vhost/app/stream, or a path OME does not route."""


class OmeBadRequest(OmeApiError):
    """400: OME refused the request body (its validation message is kept)."""
