"""SIGINT/SIGTERM must unwind through `finally` so a launched container is always removed.

Two layers: a command (`run`, `diagnose`, `up`) installs `interruptible_command()` for its whole
life — the first signal raises once and is remembered for the report and the exit code; the
library's own blocks (`stop_signals_unwind`, `stop_signals_deferred`) keep a program that uses
the launcher directly just as safe.
"""

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
def stop_signals_unwind() -> Iterator[None]:
    """Turn SIGTERM into an exception while the block runs (Python's default kills without cleanup)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _active_blocks
    # Only take over SIGTERM when nobody else handles it (a command, pytest, uvicorn and users may).
    # Blocks can overlap (two launches side by side): the handler stays until the last one ends.
    if _active_blocks == 0 and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_terminated)
    _active_blocks += 1
    try:
        yield
    finally:
        _active_blocks -= 1
        if _active_blocks == 0 and signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


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


class Interruption:
    """The first SIGINT/SIGTERM of a command: raised once, remembered for the report and the exit code.

    Only the first signal raises; later ones are recorded and dropped so the unwinding it started
    (removing containers, stopping ffmpeg, deleting the rendered Server.xml) is not cut short.
    `hold()` turns raising off for a stretch of pure cleanup (pytest's teardown of fixtures).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        # Set by a command once it has told the user (and its report) about the interruption.
        self.reported = False
        self._held = 0

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention, 128 + the signal: 130 for SIGINT (Ctrl-C), 143 for SIGTERM."""
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if first and not self._held:
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def note(self, signum: int) -> None:
        """A signal another handler took (uvicorn's, while a foreground server serves): recorded as if it had
        come here, never raised. The first one decides the exit code, whatever order that handler raises
        them again in (uvicorn: the last one first, once it has shut down)."""
        if self.signum is None:
            self.signum = signum

    def settle(self) -> None:
        """The command's verdict is decided (its report is being or has been written): from now on a signal
        is recorded, never raised, and changes neither the report nor the exit code."""
        self._held += 1
        self.reported = True

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Record signals without raising while the block cleans up; the caller looks at `signum` after."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1


_current: Interruption | None = None


def current_interruption() -> Interruption | None:
    """The Interruption of the command running in this process, if it installed one."""
    return _current


@contextlib.contextmanager
def interruptible_command(*, then_hold: bool = False) -> Iterator[Interruption]:
    """For a whole command (`run`, `diagnose`, `up`): SIGINT and SIGTERM unwind it, once.

    SIGINT is taken over even when inherited as ignored: a background job of a non-interactive
    shell starts with SIGINT ignored, and the promise "Ctrl-C / kill -INT stops and cleans up"
    holds there too.

    then_hold: for the CLI's main(): once the command has ended (cleaned up, report written, exit
    code decided), later signals are ignored until the process exits, so the exit code always
    matches the report. Ignored, not handled: Python resets its own handlers to the default (die)
    while the interpreter shuts down, but keeps an ignored signal ignored.
    """
    global _current
    if _current is not None:  # nested (the `run` command around the scenario runner): one Interruption
        yield _current
        return
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield interruption
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    outer, _current = _current, interruption
    for sig in previous:
        signal.signal(sig, interruption._handle)
    try:
        yield interruption
    finally:
        if then_hold:
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
        else:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
            _current = outer
