"""What a load run is asked to do, and the bounds every run stays inside."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Hard caps for every run (docs/load.md): a typo must not become a flood or a run that never ends.
MAX_VIEWERS = 1000
MAX_DURATION_S = 3600
MAX_WORKERS = 16
MAX_SPAWN_RATE = 100.0


class LoadSettingsError(ValueError):
    """A setting out of bounds or unreadable: one sentence, shown as the command's error."""


@dataclass(frozen=True)
class Thresholds:
    max_p95_ms: float = 2000.0
    max_error_rate: float = 0.01
    max_stall_rate: float = 0.05


@dataclass(frozen=True)
class LoadSettings:
    stream: str  # APP/STREAM
    viewers: int
    spawn_rate: float
    duration_s: int
    workers: int = 0  # 0: one local process; K: a master and K workers on this machine
    request_timeout_s: float = 5.0
    thresholds: Thresholds = Thresholds()
    # The app's LL-HLS segment duration (read from its config by run_load where the API allows): a young
    # stream's first playlists may take two of them. None: OME's default.
    segment_s: float | None = None

    @property
    def app(self) -> str:
        return self.stream.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.stream.split("/", 1)[1]

    @property
    def master_path(self) -> str:
        return f"/{self.stream}/llhls.m3u8"


def parse_duration(text: str) -> int:
    """Seconds from `90`, `90s`, `2m` or `1h`."""
    found = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not found:
        raise LoadSettingsError(f"--duration {text!r}: give seconds (90, 90s), minutes (2m) or hours (1h)")
    return int(found.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)]


def check_settings(settings: LoadSettings) -> LoadSettings:
    """The settings, or LoadSettingsError naming the first bound broken."""
    if not re.fullmatch(r"[^/\s]+/[^/\s]+", settings.stream):
        raise LoadSettingsError(f"--stream {settings.stream!r}: give APP/STREAM, e.g. app/stream")
    if not 1 <= settings.viewers <= MAX_VIEWERS:
        raise LoadSettingsError(f"--viewers {settings.viewers}: give 1 to {MAX_VIEWERS}")
    if not 0 < settings.spawn_rate <= MAX_SPAWN_RATE:
        raise LoadSettingsError(f"--spawn-rate {settings.spawn_rate:g}: give more than 0, at most "
                                f"{MAX_SPAWN_RATE:g} viewers per second")
    if not 1 <= settings.duration_s <= MAX_DURATION_S:
        raise LoadSettingsError(f"--duration {settings.duration_s}s: give 1 s to {MAX_DURATION_S} s")
    if not 0 <= settings.workers <= MAX_WORKERS:
        raise LoadSettingsError(f"--workers {settings.workers}: give 0 (one process) to {MAX_WORKERS}")
    if settings.workers > settings.viewers:
        raise LoadSettingsError(f"--workers {settings.workers} is more than --viewers {settings.viewers}: "
                                "a worker would have no viewer")
    limits = settings.thresholds
    if not limits.max_p95_ms > 0:
        raise LoadSettingsError(f"--max-p95-ms {limits.max_p95_ms:g}: give a number of milliseconds above 0")
    for option, rate in (
        ("--max-error-rate", limits.max_error_rate),
        ("--max-stall-rate", limits.max_stall_rate),
    ):
        if not 0 <= rate <= 1:
            raise LoadSettingsError(f"{option} {rate:g}: give a share from 0 to 1 (0.01 = 1%)")
    return settings
