"""What every check may look at: the target, the files to cross-check, and earlier results."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ome_harness.ome.client import Connection, OmeClient
from ome_harness.results import CheckResult, Evidence
from ome_harness.target import OmeTarget
from ome_harness.target.base import USE_CONFIGURED_TOKEN, UseConfiguredToken

T = TypeVar("T")


@dataclass
class CheckContext:
    target: OmeTarget
    server_xml: Path | None = None
    env_file: Path | None = None
    env_token_key: str = "OME_API_TOKEN"
    done: Mapping[str, CheckResult] = field(default_factory=dict)
    # One keep-alive pool per diagnosis, shared by every check's client (each keeps its own evidence).
    connection: Connection | None = None
    # Overlap independent requests (threads) — worth it where a round trip waits on the network; on
    # loopback a round trip is CPU in this process and threads only add GIL hand-offs (bench/README.md).
    parallel: bool = True

    def concurrently(self, *calls: Callable[[], T]) -> list[T]:
        """Independent requests at once when `parallel`, else one after another; results in order."""
        return concurrently(*calls) if self.parallel else [call() for call in calls]

    def client(self, token: str | None | UseConfiguredToken = USE_CONFIGURED_TOKEN) -> OmeClient:
        return self.target.client(token, connection=self.connection)


def concurrently(*calls: Callable[[], T]) -> list[T]:
    """Run independent requests at once (the first on this thread); results in order, errors re-raised."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(calls))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def exchange_evidence(client: OmeClient) -> list[Evidence]:
    """Every request a client made, as evidence lines (method, path, status, latency)."""
    return [Evidence(what=f"{e.method} {e.path}", outcome=e.error or f"HTTP {e.status}",
                     http_status=e.status, latency_ms=e.latency_ms) for e in client.exchanges]
