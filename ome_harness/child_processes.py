"""The last net of an interrupted run: child processes (ffmpeg) still running when it ends are ended.

Every encoder stops itself in its `with` block; a signal that lands inside that cleanup code can
still skip it, and ffmpeg would then outlive the harness. Linux only (/proc); elsewhere nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from ome_harness.polling import Ready, WaitTimedOut, poll_until


def running_children(parent: int | None = None) -> list[int]:
    """Pids of the live (not zombie) direct children of `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.append(int(entry.name))
    return found


def end_child_processes(grace_s: float = 3.0, *, among: set[int] | None = None) -> list[int]:
    """SIGTERM every running child (of `among`, if given), SIGKILL those still there after `grace_s`.

    Returns the pids it ended.
    """
    children = [pid for pid in running_children() if among is None or pid in among]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        try:
            poll_until(lambda: "still running" if set(running_children()) & set(children) else Ready(None),
                       deadline_s=grace_s, what="child processes to end")
            break
        except WaitTimedOut:
            continue
    return children
