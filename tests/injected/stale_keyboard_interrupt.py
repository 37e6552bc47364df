"""Run as `python -m stale_keyboard_interrupt ARGS` by tests/test_interruptions.py: `ome-harness ARGS`, where
right after the command's first line of output a KeyboardInterrupt ends an eval() of a string and is
handled, as one landing in pydantic's or typing's evaluation of a string annotation is by the harness."""

import contextlib
import os
import signal
import sys
import time

import typer

from ome_harness.cli import main

_echo = typer.echo


def echo_then_interrupt_an_eval(*args: object, **kwargs: object) -> None:
    _echo(*args, **kwargs)
    with contextlib.suppress(KeyboardInterrupt):
        eval("kill(pid, SIGINT) or sleep(5)",  # noqa: S307
             {"kill": os.kill, "pid": os.getpid(), "SIGINT": signal.SIGINT, "sleep": time.sleep})


typer.echo = echo_then_interrupt_an_eval
sys.argv = ["ome-harness", *sys.argv[1:]]
main()
