"""The one polling helper: returns what the probe produced, or says what it saw last at the deadline."""

from __future__ import annotations

import time

import pytest

from ome_harness.polling import Ready, WaitTimedOut, poll_until


def test_poll_returns_the_value_the_probe_became_ready_with():
    calls = iter(["starting", None, Ready(42)])
    assert poll_until(lambda: next(calls), deadline_s=2, what="the answer", interval_s=0.001) == 42


def test_poll_reports_what_was_seen_last_when_the_deadline_passes():
    started = time.monotonic()
    with pytest.raises(WaitTimedOut) as caught:
        poll_until(lambda: "still empty", deadline_s=0.2, what="the stream to be listed", interval_s=0.02)
    assert 0.2 <= time.monotonic() - started < 0.6
    assert caught.value.last_seen == "still empty"
    assert str(caught.value) == "waited 0.2s for the stream to be listed; last seen: still empty"


def test_poll_backs_off_up_to_the_ceiling():
    stamps: list[float] = []

    def probe():
        stamps.append(time.monotonic())
        return Ready(None) if len(stamps) == 6 else "not yet"

    poll_until(probe, deadline_s=5, what="x", interval_s=0.01, max_interval_s=0.04)
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert gaps[0] < 0.03 and max(gaps) < 0.1 and gaps[-1] >= 0.035
