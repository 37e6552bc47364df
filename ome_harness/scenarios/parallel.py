"""What `ome-harness run` adds when pytest-xdist runs its scenarios in worker processes.

Loaded (with -p) only by `ome-harness run --workers N>1`, never by the repository's own test run:
it takes over SIGINT/SIGTERM in each worker for the worker's whole life.

- Long scenarios first and spread: a scenario that publishes media waits on real time (seconds),
  the rest answer in milliseconds. xdist hands out one scenario at a time to whichever worker is
  free (list scheduling), costliest first, so the long ones overlap.
- Signals: each worker takes SIGINT/SIGTERM over for its whole life and unwinds like a serial run
  (stops its ffmpeg and its emulator, removes its temporary database) before it exits. Ctrl-C in a
  terminal reaches every process of the group; `kill` reaches only the controller, which ends its
  children (the workers) with SIGTERM once pytest returns (scenarios/runner.py). While the workers
  start, the controller blocks both signals: a signal between starting a worker's Python and sending
  it execnet's bootstrap would leave the worker reading an empty line (a SyntaxError traceback, seen
  in CI). The workers inherit the block and lift it once their own handler is in place, so a signal
  that came meanwhile is handled then, with cleanup, instead of killing them half-started.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Generator
from typing import TypeVar

import pytest

from ome_harness.container.stop_signals import interruptible_command

T = TypeVar("T")

_WORKER_SIGNALS = pytest.StashKey[contextlib.ExitStack]()
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

# A scenario's rough cost by its marks: a viewer watching waits longest, an encoder publishing next,
# API calls answer in milliseconds. Only the order matters.
COST_BY_MARK = {"playback": 2, "media": 1}


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)  # before other plugins configure: nothing they start inherits the block
def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        _refuse_unparsable_selection(config)
    if _is_worker(config):
        stack = contextlib.ExitStack()
        stack.enter_context(interruptible_command())
        config.stash[_WORKER_SIGNALS] = stack
        # Blocked since the controller started this process (below): a pending signal is handled now.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Generator[None, None, None]:
    """xdist starts the workers in the controller's pytest_sessionstart: SIGINT/SIGTERM wait until it has."""
    if _is_worker(session.config):
        return (yield)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        return (yield)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a signal that came meanwhile raises here


def _refuse_unparsable_selection(config: pytest.Config) -> None:
    """-k/-m are parsed where items are collected, in the workers, whose error xdist shows as an internal
    error with a traceback; parsed here first, a bad one is pytest's own one-line usage error."""
    # pytest's own parser and wording (pytest is pinned, pyproject.toml), so the line is the serial run's.
    from _pytest.mark import _parse_expression

    for flag, given in (("-k", config.option.keyword), ("-m", config.option.markexpr)):
        if given:
            _parse_expression(given, f"Wrong expression passed to '{flag}'")


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_WORKER_SIGNALS, None)
    if stack is not None:
        stack.close()


def _cost(item: pytest.Item) -> int:
    return max((cost for mark, cost in COST_BY_MARK.items() if item.get_closest_marker(mark)), default=0)


def list_schedule_order(items: list[T], cost: Callable[[T], int], workers: int) -> list[T]:
    """`items` in the order xdist's load scheduling (one scenario at a time, --maxschedchunk 1) should
    hand them out: costliest first, so the long ones start early and overlap (list scheduling).

    xdist starts each worker with two consecutive items (a worker must know its next item), so the
    first 2 × workers places alternate one costly and one of the cheapest: no worker starts with two
    long scenarios while another has none.
    """
    ranked = sorted(items, key=cost, reverse=True)  # stable: equal costs keep the collection order
    pairs = min(workers, len(ranked) // 2)
    costly, middle, cheapest = ranked[:pairs], ranked[pairs:len(ranked) - pairs], ranked[len(ranked) - pairs:]
    return [item for pair in zip(costly, reversed(cheapest), strict=True) for item in pair] + middle


@pytest.hookimpl(trylast=True)  # after -k/-m deselected; every worker orders the same list the same way
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _is_worker(config):
        items[:] = list_schedule_order(items, _cost, int(config.workerinput["workercount"]))
