"""Host spellings for URLs: IPv6 literals in brackets, wildcard binds turned into an address to dial."""

from __future__ import annotations


def url_host(host: str) -> str:
    """`::1` → `[::1]`, as URLs and host:port pairs need; names and IPv4 addresses unchanged."""
    return f"[{host}]" if ":" in host else host


def dial_host(bind: str) -> str:
    """The loopback address a client dials for a socket bound on `bind` (wildcards included), URL-ready."""
    if bind in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bind == "::":
        return "[::1]"  # an IPv6-only wildcard socket: 127.0.0.1 would not reach it
    return url_host(bind)
