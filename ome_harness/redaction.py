"""Secrets never reach a report, a log line or the terminal: show tokens as a fingerprint only.

Two layers: known values (tokens, passwords from the config) are replaced wherever they appear,
whatever their length; and by position, whatever the value: the userinfo of any URL
(`scheme://user:PASS@host`) and the value of any token-like field (`OME_API_TOKEN=...`,
`"token": "..."`, `Authorization: Basic ...`). Position covers secrets the harness never knew,
e.g. a password inside a URL read from a backend's .env file.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable

MASK = "********"

# scheme://user:password@ or scheme://token@ ; the whole userinfo goes (a bare user can be a token).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/?#@\"'<>]+)@")
_SECRET_NAME = r"[\w.\-]*(?:token|passw(?:or)?d|secret|api[_\-]?key|access[_\-]?key)[\w\-]*"
# Where a named secret's value sits: KEY=value (env files, query strings), "key": "value" (JSON), and
# `key: value` starting a line (YAML). Prose such as "the access token: The ..." is none of these.
_SECRET_FIELDS = (
    re.compile(rf"(?P<key>\b{_SECRET_NAME}=)(?P<value>[^\s\"',;&<>]+)", re.IGNORECASE),
    re.compile(rf"(?P<key>\"{_SECRET_NAME}\"\s*:\s*\")(?P<value>[^\"]+)", re.IGNORECASE),
    re.compile(rf"(?P<key>^\s*-?\s*{_SECRET_NAME}:[ \t]+[\"']?)(?P<value>[^\s\"']+)",
               re.IGNORECASE | re.MULTILINE),
)
_AUTH_HEADER = re.compile(r"(?P<key>\b(?:Authorization|Proxy-Authorization)\s*[:=]\s*(?:Basic|Bearer)\s+)"
                          r"(?P<value>[A-Za-z0-9+/=._\-~]+)", re.IGNORECASE)
# Already-safe descriptions a report shows for a key ("Configured (12 chars, sha256:...)", "Not configured").
_SAFE_PREFIXES = ("configured (", "not configured", "sha256:", "*")
_SAFE_VALUES = ("none", "null", "true", "false", "configured")


def fingerprint(secret: str) -> str:
    """A short, stable fingerprint: lets people compare two tokens without seeing either."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def describe_secret(secret: str | None) -> str:
    """How a report shows a key: configured or not, its length and fingerprint, never its value."""
    if not secret:
        return "Not configured"
    return f"Configured ({len(secret)} chars, {fingerprint(secret)})"


def mask_userinfo(text: str) -> str:
    """Every URL's userinfo (user:password@) masked: `http://admin:pw@h` -> `http://********@h`."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", text)


def _mask_field(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.lower() in _SAFE_VALUES or value.lower().startswith(_SAFE_PREFIXES):
        return match.group(0)
    return match.group("key") + MASK


def redact_by_position(text: str) -> str:
    """Mask what sits where secrets sit (URL userinfo, token/password fields, auth headers)."""
    text = mask_userinfo(text)
    text = _AUTH_HEADER.sub(lambda m: m.group("key") + MASK, text)
    for field in _SECRET_FIELDS:
        text = field.sub(_mask_field, text)
    return text


class Redactor:
    """Masks secrets by position, then every known secret (and its base64 form, as in OME's auth header)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        # Any length: a two-letter password is still a password. Very short ones also match inside
        # ordinary words, which over-masks a report but never leaks the secret.
        for needle in (secret, base64.b64encode(secret.encode()).decode()):
            if needle not in self._needles:
                self._needles.append(needle)
        self._needles.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = redact_by_position(text)
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text


class RedactingFilter(logging.Filter):
    """Scrubs every record that passes through a handler or logger it is attached to."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # The formatted traceback would carry the exception's text unscrubbed: keep it as text only.
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


# Records that can carry a secret: httpx/httpcore log every request URL (with its userinfo), uvicorn
# logs request lines and errors of the emulator and the reference backend (query strings, values in
# tracebacks), the Docker SDK and urllib3 log engine calls and bodies (a container's environment holds
# the OME token), SQLAlchemy logs connection URLs. Many of them log on child loggers
# (httpcore.http11, docker.api.container) and pytest adds its own capturing handlers per test, so the
# filter runs where every record is made rather than on chosen loggers or handlers.
_installed: RedactingFilter | None = None


def install_log_redaction(secrets: Iterable[str] = ()) -> Redactor:
    """Scrub every log record of this process from now on; called again, it learns more secrets."""
    global _installed
    if _installed is None:
        _installed = RedactingFilter(Redactor())
        make_record = logging.getLogRecordFactory()
        log_filter = _installed

        def redacting_record(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            log_filter.filter(record)
            return record

        logging.setLogRecordFactory(redacting_record)
    for secret in secrets:
        _installed.redactor.add(secret)
    return _installed.redactor


def redact_known(text: str) -> str:
    """`text` as the process's log records are scrubbed (every secret learnt so far), for a line printed
    outside logging."""
    return _installed.redactor(text) if _installed is not None else redact_by_position(text)
