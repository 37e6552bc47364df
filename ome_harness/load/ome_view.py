"""OME's own view of the run: its stats API polled while the viewers play.

`connections` is keyed by publisher type (webrtc, llhls, hlsv3, ...; ../shared/ome-api.md, sample
34_stats_stream_live.http), so the run can compare OME's LL-HLS count with the viewers it believes it has.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ome_harness.ome.errors import OmeError
from ome_harness.target.base import OmeTarget

POLL_INTERVAL_S = 2.0


@dataclass
class OmeSample:
    at: float  # wall clock (Unix seconds), to line up with Locust's history
    connections: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class OmeStatsPoller:
    """Polls the stream's stats in a background thread from `start()` to `stop()`."""

    def __init__(self, target: OmeTarget, app: str, stream: str, interval_s: float = POLL_INTERVAL_S) -> None:
        self.target, self.app, self.stream, self.interval_s = target, app, stream, interval_s
        self.samples: list[OmeSample] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="ome-stats-poller", daemon=True)

    def __enter__(self) -> OmeStatsPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.target.read_timeout + self.target.connect_timeout + 1)

    def _poll(self) -> None:
        with self.target.client() as client:
            # Event.wait is the pause between polls: it also ends the pause at once when the run stops.
            while not self._stopped.wait(self.interval_s):
                try:
                    stats = client.stats(self.target.vhost, self.app, self.stream)
                    self.samples.append(OmeSample(time.time(), dict(stats.connections)))
                except OmeError as exc:
                    self.samples.append(OmeSample(time.time(), error=str(exc)))
