"""Loaded into `ome-harness run` (PYTEST_PLUGINS) by tests/test_interruptions.py: SIGINT reaches the run
in the first scenario's setup, and pytest's own account of the KeyboardInterrupt then fails the way CI
saw it (its terminal reporter met a traceback frame without a line number: `None - 1`, TypeError)."""

from __future__ import annotations

import os
import signal
import time

import pytest


def pytest_runtest_setup(item: pytest.Item) -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)  # the run's handler raises KeyboardInterrupt here


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    None - 1  # noqa: B018 - the TypeError pytest's TracebackEntry.lineno raised
