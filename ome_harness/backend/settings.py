"""How one reference backend runs: its token, database, the OME it drives, and injected faults."""

from __future__ import annotations

from dataclasses import dataclass, field

FORGET_DB_WRITE = "forget-db-write"
"""Fault: start answers 200 with the key but never stores the active status (the DB check must catch it)."""

SERVER_ERROR = "server-error"
"""Fault: listing channels hits an unhandled exception (a 500): the OpenAPI fuzzing must report it."""

KNOWN_FAULTS = frozenset({FORGET_DB_WRITE, SERVER_ERROR})


@dataclass
class BackendSettings:
    token: str
    db_url: str
    ome_url: str
    ome_token: str | None
    vhost: str = "default"
    app: str = "app"
    ome_connect_timeout: float = 2.0
    ome_read_timeout: float = 5.0
    faults: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.faults) - KNOWN_FAULTS
        if unknown:
            raise ValueError(f"unknown backend fault(s) {sorted(unknown)}; known: {sorted(KNOWN_FAULTS)}")
        self.faults = frozenset(self.faults)
