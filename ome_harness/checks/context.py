"""What every check may look at: the target, the files to cross-check, and earlier results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ome_harness.ome.client import OmeClient
from ome_harness.results import CheckResult, Evidence
from ome_harness.target import OmeTarget
from ome_harness.target.base import USE_CONFIGURED_TOKEN, UseConfiguredToken


@dataclass
class CheckContext:
    target: OmeTarget
    server_xml: Path | None = None
    env_file: Path | None = None
    env_token_key: str = "OME_API_TOKEN"
    done: Mapping[str, CheckResult] = field(default_factory=dict)

    def client(self, token: str | None | UseConfiguredToken = USE_CONFIGURED_TOKEN) -> OmeClient:
        return self.target.client(token)


def exchange_evidence(client: OmeClient) -> list[Evidence]:
    """Every request a client made, as evidence lines (method, path, status, latency)."""
    return [Evidence(what=f"{e.method} {e.path}", outcome=e.error or f"HTTP {e.status}",
                     http_status=e.status, latency_ms=e.latency_ms) for e in client.exchanges]
