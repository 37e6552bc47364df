"""How one reference backend runs: its token, database, the OME it drives, and injected faults."""

from __future__ import annotations

from dataclasses import dataclass, field

FORGET_DB_WRITE = "forget-db-write"
"""Fault: start answers 200 with the key but never stores the active status (the DB check must catch it)."""

SERVER_ERROR = "server-error"
"""Fault: listing channels hits an unhandled exception (a 500): the OpenAPI fuzzing must report it."""

SWALLOW_OME_REFUSAL = "swallow-ome-refusal"
"""Fault: when OME refuses the cue (v0.21.0+), SCTE-35 answers 200 and audits a success anyway."""

SKIP_AUDIT = "skip-audit"
"""Fault: no operation writes its audit log entry (the audit checks must catch it)."""

SKIP_OME_DELETE = "skip-ome-delete"
"""Fault: stop deactivates the channel and answers 'deleted' without ever calling OME (its stream keeps running)."""

FAKE_SCTE35_SUCCESS = "fake-scte35-success"
"""Fault: SCTE-35 answers 200 and records the insertion without ever calling OME."""

ACCEPT_ANY_TOKEN = "accept-any-token"
"""Fault: requests with a missing or wrong bearer token are let in (backend_auth.feature must catch it)."""

KNOWN_FAULTS = frozenset({FORGET_DB_WRITE, SERVER_ERROR, SWALLOW_OME_REFUSAL, SKIP_AUDIT, SKIP_OME_DELETE,
                          FAKE_SCTE35_SUCCESS, ACCEPT_ANY_TOKEN})


@dataclass
class BackendSettings:
    # Secrets stay out of the repr: pytest prints reprs in assertion explanations.
    token: str = field(repr=False)
    db_url: str = field(repr=False)
    ome_url: str
    ome_token: str | None = field(repr=False)
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
