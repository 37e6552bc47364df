"""One way to wait: probe until satisfied or a deadline passes, and say what was seen last.

A probe returns `Ready(value)` when the wait is over, or anything else as a description of what it
saw (that description ends up in the timeout error). Nothing here sleeps past the deadline.

    stream = poll_until(lambda: ready_or_seen(), deadline_s=10, what="the stream to be listed")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Ready(Generic[T]):
    """What a probe returns when the wait is over, carrying the value the wait produced."""

    value: T


class WaitTimedOut(Exception):
    """The deadline passed before the probe was satisfied; `last_seen` says what it saw instead."""

    def __init__(self, what: str, deadline_s: float, last_seen: str) -> None:
        self.what, self.deadline_s, self.last_seen = what, deadline_s, last_seen
        super().__init__(f"waited {deadline_s:g}s for {what}; last seen: {last_seen}")


class Deadline:
    """A point in time on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self._end = self.started + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def poll_until(probe: Callable[[], Ready[T] | str | None], *, deadline_s: float | None = None, what: str,
               interval_s: float = 0.05, max_interval_s: float | None = None,
               deadline: Deadline | None = None) -> T:
    """Call `probe` until it returns Ready; raise WaitTimedOut with the last thing seen after `deadline_s`.

    Pass `deadline` instead of `deadline_s` when the wait is one part of a budget started earlier
    (a container's ready timeout counts from its start, not from the first probe). An exception the
    probe raises ends the wait at once (a dead encoder, an exited container).

    The interval grows by half each round up to `max_interval_s` (default: `interval_s`, i.e. fixed),
    so a wait that usually ends quickly stays quick and a long one does not spin.
    """
    if deadline is None:
        if deadline_s is None:
            raise TypeError("poll_until needs deadline_s or deadline")
        deadline = Deadline(deadline_s)
    delay, ceiling = interval_s, max_interval_s if max_interval_s is not None else interval_s
    last_seen = "nothing yet"
    while True:
        outcome = probe()
        if isinstance(outcome, Ready):
            return outcome.value
        if outcome:
            last_seen = str(outcome)
        if deadline.passed():
            raise WaitTimedOut(what, deadline.seconds, last_seen)
        time.sleep(min(delay, deadline.remaining()))
        delay = min(delay * 1.5, ceiling) if ceiling > interval_s else interval_s
