"""The exception family of the OME client: callers catch the leaf they can handle."""

from __future__ import annotations

import errno as _errno
import re

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
    """The answer is not OME's JSON envelope: HTML, garbage, or the wrong shape."""

    def __init__(self, *, url: str, status: int, kind: str, detail: str) -> None:
        self.status, self.kind, self.detail = status, kind, detail
        super().__init__(f"HTTP {status}: {detail}", url=url)


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
