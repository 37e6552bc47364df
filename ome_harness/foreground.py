"""A server in the foreground of a command (`emulator`): SIGINT/SIGTERM end it with 128 + the first signal
and one line, in every phase. (`backend` keeps uvicorn's own ending, 0 or death by SIGTERM, which
tests/test_backend_cli.py holds it to as a service's.)

main() has taken both signals over for these commands (an inherited ignored SIGINT too: a background job
of a non-interactive shell starts with one). While uvicorn serves it takes them itself, shuts down
gracefully, then raises them again under the handlers it found, last first: it tells the interruption
of each as it comes (serving.py), so the first one decides. Before that (binding, starting, announcing)
the first one raises KeyboardInterrupt in the server's start-up, which closes what it bound and started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer

from ome_harness.container.stop_signals import current_interruption


@contextlib.contextmanager
def stopped_by_signals(what: str) -> Iterator[Callable[[int], None] | None]:
    """Around a foreground server: yields the `on_signal` to give it; the end is `<what> stopped by SIGX`."""
    interruption = current_interruption()
    try:
        yield interruption.note if interruption is not None else None
    except KeyboardInterrupt:
        if interruption is None:  # not run by main(): nobody took the signals over
            raise
    if interruption is not None and interruption.name is not None:
        interruption.settle()  # the exit code is decided: a later signal changes nothing
        typer.echo(f"ome-harness: {what} stopped by {interruption.name}", err=True)
        raise typer.Exit(interruption.exit_code)
