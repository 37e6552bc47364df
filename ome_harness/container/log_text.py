"""Container log text as people read it: without terminal colours, with OME's own complaints picked out."""

from __future__ import annotations

import re

# OME colours its console lines (../shared/samples/v0.20.0-media/ was stored "ANSI colours removed").
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# OME's console line: "[2026-11-29 23:17:19.537] E [OvenMediaEngine:1] APIServer | api_server.cpp:56 | ..."
_COMPLAINT = re.compile(r"^\[[^\]]*\] [EC] \[")


def plain(raw: bytes | str) -> str:
    """Log bytes as text without ANSI escape sequences."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return _ANSI.sub("", text)


def complaints(text: str, limit: int = 3) -> list[str]:
    """OME's last error and critical lines, in log order: why it stopped.

    A real OME logs `Empty <AccessToken> is not allowed` and then ~90 shutdown lines
    (empty_token_container_log.txt), so the reason is rarely among the log's last lines; and a
    healthy start already logs errors (an unresolvable STUN server, a missing certificate), so the
    reason is the last error, not the first.
    """
    return [line.strip() for line in text.splitlines() if _COMPLAINT.match(line)][-limit:]
