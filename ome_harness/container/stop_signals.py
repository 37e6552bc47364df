"""SIGINT/SIGTERM must unwind through `finally` so a launched container is always removed."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM.

    A KeyboardInterrupt, because every framework (pytest included) treats that as "stop now and
    clean up", while a SystemExit raised inside a test is merely a failed test and the run goes on.
    """

    exit_code = 128 + signal.SIGTERM


_active_blocks = 0


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextlib.contextmanager
def stop_signals_unwind(*, restore_sigint: bool = False) -> Iterator[None]:
    """Turn SIGTERM into an exception while the block runs (Python's default kills without cleanup).

    restore_sigint: give Ctrl-C its KeyboardInterrupt even when the process inherited SIGINT ignored
    (a background job of a non-interactive shell) — `ome-harness up` promises to stop on it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _active_blocks
    previous_int = signal.getsignal(signal.SIGINT)
    # Only take over SIGTERM when nobody else handles it (pytest, uvicorn and users may). Blocks can
    # overlap (two launches side by side): the handler stays until the last one ends.
    if _active_blocks == 0 and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_terminated)
    _active_blocks += 1
    if restore_sigint and previous_int == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        _active_blocks -= 1
        if _active_blocks == 0 and signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if restore_sigint and previous_int == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous_int)


@contextlib.contextmanager
def stop_signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while cleanup runs, then deliver them: a second Ctrl-C must not strand a
    container."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        if previous[sig] not in (signal.SIG_IGN, None):
            signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)
        for signum in received[:1]:
            signal.raise_signal(signum)
