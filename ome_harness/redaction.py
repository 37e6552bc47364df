"""Secrets never reach a report, a log line or the terminal: show tokens as a fingerprint only."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable

MASK = "********"


def fingerprint(secret: str) -> str:
    """A short, stable fingerprint: lets people compare two tokens without seeing either."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def describe_secret(secret: str | None) -> str:
    """How a report shows a key: configured or not, its length and fingerprint, never its value."""
    if not secret:
        return "Not configured"
    return f"Configured ({len(secret)} chars, {fingerprint(secret)})"


class Redactor:
    """Replaces every known secret, and its base64 form as sent in OME's auth header, in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 3:
            return
        for needle in (secret, base64.b64encode(secret.encode()).decode()):
            if needle not in self._needles:
                self._needles.append(needle)
        self._needles.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from every record it sees."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        return True
