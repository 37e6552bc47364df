"""What one `ome-harness` process could leave behind, found only by what that process alone carries.

The Docker engine, /tmp and the process table are shared with other runs on this machine: every
lookup is scoped to this probe's own label, environment marker, temporary folder and token.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker

TEST_LABEL = "ome-harness-test.id"
MARKER_VARIABLE = "OMH_TEST_LEFTOVER_MARKER"


@dataclass
class FinishedRun:
    code: int
    stdout: str
    stderr: str
    signalled: bool  # the signal reached a live process (not one that had already exited)


@dataclass
class LeftoverProbe:
    """One CLI run's private identity: a container label, an environment marker, a TMPDIR and a token."""

    root: Path
    engine: docker.DockerClient | None = None
    test_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    token: str = field(default_factory=lambda: f"probe-token-{uuid.uuid4().hex}")

    def __post_init__(self) -> None:
        self.tmpdir = self.root / "tmp"
        self.out = self.root / "out"
        self.tmpdir.mkdir(parents=True, exist_ok=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The child's environment: no OMH_* of ours, plus the probe's identity."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
        # Children (ffmpeg) inherit the marker: that is how a stray process is found after the run.
        env.update({MARKER_VARIABLE: self.test_id, "TMPDIR": str(self.tmpdir),
                    "OMH_CONTAINER__LABELS": json.dumps({TEST_LABEL: self.test_id}),
                    "OMH_CONTAINER__TOKEN": self.token, "OMH_REPORT__OUT": str(self.out),
                    # An internal error (exit 3) then fails the test with its traceback, not one line: a
                    # rare one seen only in CI under load is found from the log alone.
                    "OMH_DEBUG": "1"})
        env.update(extra)
        return env

    def start(self, *args: str, shell_background: bool = False, **extra_env: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "ome_harness", *args]
        if shell_background:
            # A non-interactive shell starts background jobs with SIGINT ignored; `exec` keeps the pid.
            inner = " ".join(_quote(part) for part in command)
            command = ["sh", "-c", f"{inner} & echo $!; wait $!"]
        return subprocess.Popen(command, cwd=self.root, env=self.env(**extra_env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def containers(self) -> list[str]:
        if self.engine is None:
            return []
        found = self.engine.containers.list(all=True, ignore_removed=True,
                                            filters={"label": f"{TEST_LABEL}={self.test_id}"})
        return [f"container {c.name} ({c.status})" for c in found]

    def processes(self) -> list[str]:
        """Live processes (not zombies) whose environment carries this probe's marker."""
        needle = f"{MARKER_VARIABLE}={self.test_id}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append(f"process {entry.name}: {cmdline[:200]}")
            except OSError:
                continue
        return found

    def temporary_files(self) -> list[str]:
        return [f"temporary {path}" for path in sorted(self.tmpdir.rglob("*"))]

    def files_with_token(self) -> list[str]:
        """Files holding the token: in the private TMPDIR, the reports, and ome-harness folders in /tmp."""
        roots = [self.tmpdir, self.out, *Path("/tmp").glob("ome-harness*"), *Path("/tmp").glob("omh-*")]
        hits = []
        for root in roots:
            for path in [root] if root.is_file() else root.rglob("*"):
                try:
                    if path.is_file() and self.token.encode() in path.read_bytes():
                        hits.append(f"token in {path}")
                except OSError:
                    continue
        return hits

    def leftovers(self) -> list[str]:
        return [*self.containers(), *self.processes(), *self.temporary_files(), *self.files_with_token()]

    def wait_for(self, what: Callable[[], list[str]], proc: subprocess.Popen[str],
                 timeout: float = 60) -> None:
        """Wait until `what` finds something of this run (a container, ffmpeg) while the run is alive."""
        end = time.monotonic() + timeout
        while not what():
            if proc.poll() is not None:
                raise AssertionError(f"the run ended ({proc.returncode}) before it got there: "
                                     f"{proc.stderr.read() if proc.stderr else ''}")
            if time.monotonic() > end:
                raise AssertionError(f"nothing appeared within {timeout}s")
            time.sleep(0.05)

    def report(self, name: str) -> dict:
        return json.loads((self.out / name).read_text(encoding="utf-8"))

    def cleanup(self) -> None:
        """After a failed assertion: remove what the run left, so other tests see a clean engine."""
        if self.engine is not None:
            for c in self.engine.containers.list(all=True, filters={"label": f"{TEST_LABEL}={self.test_id}"}):
                c.remove(force=True, v=True)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def interrupt(proc: subprocess.Popen[str], signum: int, *, pid: int | None = None,
              timeout: float = 90) -> FinishedRun:
    """Send `signum` to the run (or to `pid`, its real process) and collect how it ended."""
    signalled = proc.poll() is None
    if signalled:
        with contextlib.suppress(ProcessLookupError):  # it may end between the poll and the kill
            os.kill(pid or proc.pid, signum)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"the run did not end within {timeout}s of {signal.Signals(signum).name}: "
                             f"{stderr[-2000:]}") from None
    return FinishedRun(proc.returncode, stdout, stderr, signalled)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"
