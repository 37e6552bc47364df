"""The foreground emulator, `ome-harness emulator`, ends with 128 + the signal (130 SIGINT, 143 SIGTERM) in
every phase, in one line, and leaves nothing running — also when it inherited SIGINT ignored (started in
the background of a non-interactive shell, as the fresh-clone CI of issue 24 did: it exited 0 after
SIGINT, and died by SIGTERM, -15, whatever the inheritance)."""

from __future__ import annotations

import contextlib
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leftover_probe import LeftoverProbe

from ome_harness.ome.client import OmeClient

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
STARTED = "OME API emulator"

# Run as the `ome-harness` script (its loading-time handlers in place); a phase's own function first sends
# the signal to this process, so the signal lands in exactly that phase.
AT_A_PHASE = """
import os, signal, sys
phase, first, second = sys.argv.pop(1), int(sys.argv.pop(1)), int(sys.argv.pop(1))
import ome_harness.cli as cli
from ome_harness.emulator.server import EmulatorServer
from ome_harness.serving import LoopbackServer

def signalled_before(function, signum):
    def wrapped(*args, **kwargs):
        os.kill(os.getpid(), signum)
        return function(*args, **kwargs)
    return wrapped

if phase == "loading":
    os.kill(os.getpid(), first)
elif phase == "entering the command":  # main's handlers are in place, the command's code not yet running
    cli.app = signalled_before(cli.app, first)
elif phase == "reading options":
    cli.configure = signalled_before(cli.configure, first)
elif phase == "binding":
    LoopbackServer.bind = signalled_before(LoopbackServer.bind, first)
elif phase == "starting the media side":
    EmulatorServer._start_media = signalled_before(EmulatorServer._start_media, first)
elif phase == "announcing":
    cli._announce_emulator = signalled_before(cli._announce_emulator, first)
elif phase == "uvicorn's graceful shutdown":  # `first` comes from the test once it serves
    import threading, uvicorn
    shutdown = uvicorn.Server.shutdown
    async def signalled_shutdown(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():  # the API's, not the media side's
            os.kill(os.getpid(), second)
        return await shutdown(self, *args, **kwargs)
    uvicorn.Server.shutdown = signalled_shutdown
elif phase == "closing the media side":  # after uvicorn has returned
    EmulatorServer._stop_media = signalled_before(EmulatorServer._stop_media, second)
cli.main()
"""

BEFORE_ANYTHING = "ome-harness: interrupted by {} before anything started"
STOPPED = "ome-harness: emulator stopped by {}"


def _emulator(probe: LeftoverProbe, *args: str, script: Path | None = None,
              sigint_ignored: bool = False) -> subprocess.Popen[str]:
    program = [sys.executable, str(script)] if script else [sys.executable, "-m", "ome_harness"]
    command = [*program, *args, "emulator", "--host", "127.0.0.1", "--token", probe.token, "--port", "0",
               "--rtmp-port", "0", "--srt-port", "0", "--llhls-port", "0"]
    if sigint_ignored:  # as a background job of a non-interactive shell gets it; exec keeps the pid
        command = ["sh", "-c", "trap '' INT; exec " + " ".join(shlex.quote(part) for part in command)]
    return subprocess.Popen(command, cwd=probe.root, env=probe.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ended(proc: subprocess.Popen[str], probe: LeftoverProbe) -> tuple[int, list[str]]:
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        raise AssertionError(f"the emulator did not end within 30 s of the signal: {stderr[-2000:]}") \
            from None
    assert "Traceback" not in stderr, stderr
    assert probe.leftovers() == []
    return proc.returncode, stderr.splitlines()


def _handlers_in_place(proc: subprocess.Popen[str]) -> None:
    """Wait until ome-harness's own code catches SIGINT and SIGTERM (its first lines do): before that, the
    process is Python starting (~20 ms idle), whose signals are Python's (a traceback, or death by it)."""
    wanted = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{proc.pid}/status").read_text()
            caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)  # type: ignore[union-attr]
            if caught & wanted == wanted and "python" in Path(f"/proc/{proc.pid}/cmdline").read_text():
                return
        time.sleep(0.005)
    raise AssertionError("the emulator never caught SIGINT and SIGTERM")


def _serving(proc: subprocess.Popen[str], probe: LeftoverProbe) -> str:
    """The start line, once the API answers on the port it names (uvicorn serves: its signal handling)."""
    assert proc.stderr is not None
    start_line = proc.stderr.readline()
    assert start_line.startswith(STARTED), start_line
    api = re.search(r"127\.0\.0\.1:(\d+)", start_line).group(1)  # type: ignore[union-attr]
    with OmeClient(f"http://127.0.0.1:{api}", probe.token) as client:
        assert client.version() is not None
    return start_line


def _ports_free(start_line: str) -> None:
    tcp = r"(?:127\.0\.0\.1:|RTMP ingest on port |LL-HLS on port )(\d+)"
    ports = [int(n) for n in re.findall(tcp, start_line)]
    assert len(ports) == 3, start_line
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))  # nothing listens on it any more


@pytest.fixture
def probe(tmp_path: Path) -> LeftoverProbe:
    found = LeftoverProbe(tmp_path)
    yield found
    found.cleanup()


@pytest.fixture
def at_a_phase(tmp_path: Path) -> Path:
    script = tmp_path / "ome-harness"
    script.write_text(AT_A_PHASE, encoding="utf-8")
    return script


SIGNALS = [pytest.param(signal.SIGINT, True, id="SIGINT-inherited-ignored"),
           pytest.param(signal.SIGTERM, False, id="SIGTERM")]


@pytest.mark.parametrize(("signum", "sigint_ignored"), SIGNALS)
@pytest.mark.parametrize(("phase", "said"), [pytest.param(phase, said, id=phase) for phase, said in [
    ("loading", BEFORE_ANYTHING), ("entering the command", BEFORE_ANYTHING),
    ("reading options", BEFORE_ANYTHING), ("binding", STOPPED),
    ("starting the media side", STOPPED), ("announcing", STOPPED)]])
def test_a_signal_while_the_emulator_starts_ends_it_with_128_plus_the_signal_in_one_line(
        probe: LeftoverProbe, at_a_phase: Path, phase: str, said: str, signum: int,
        sigint_ignored: bool) -> None:
    proc = _emulator(probe, phase, str(signum), "0", script=at_a_phase, sigint_ignored=sigint_ignored)
    code, lines = _ended(proc, probe)
    assert code == EXIT[signum], lines
    # Once announced, the start line stays; the last line says why it ended.
    assert lines[-1] == said.format(signal.Signals(signum).name) and len(lines) <= 2, lines
    if len(lines) == 2:
        assert lines[0].startswith(STARTED) and phase == "announcing", lines
        _ports_free(lines[0])


@pytest.mark.parametrize(("signum", "sigint_ignored"),
                         [*SIGNALS, pytest.param(signal.SIGINT, False, id="SIGINT")])
def test_a_signal_while_the_emulator_serves_ends_it_with_128_plus_the_signal(
        probe: LeftoverProbe, signum: int, sigint_ignored: bool) -> None:
    proc = _emulator(probe, sigint_ignored=sigint_ignored)
    assert proc.stderr is not None
    start_line = _serving(proc, probe)
    time.sleep(random.uniform(0, 0.5))
    proc.send_signal(signum)
    code, lines = _ended(proc, probe)
    assert (code, lines) == (EXIT[signum], [STOPPED.format(signal.Signals(signum).name)])
    _ports_free(start_line)


@pytest.mark.parametrize("phase", ["uvicorn's graceful shutdown", "closing the media side"])
@pytest.mark.parametrize(("first", "second"), [
    pytest.param(signal.SIGINT, signal.SIGTERM, id="SIGINT-then-SIGTERM"),
    pytest.param(signal.SIGTERM, signal.SIGINT, id="SIGTERM-then-SIGINT"),
    pytest.param(signal.SIGINT, signal.SIGINT, id="SIGINT-twice")])
def test_a_second_signal_while_the_emulator_shuts_down_keeps_the_first_ones_exit_code(
        probe: LeftoverProbe, at_a_phase: Path, phase: str, first: int, second: int) -> None:
    # uvicorn raises the signals it took again once it has shut down, the last one first.
    proc = _emulator(probe, phase, "0", str(second), script=at_a_phase, sigint_ignored=True)
    assert proc.stderr is not None
    start_line = _serving(proc, probe)
    proc.send_signal(first)
    code, lines = _ended(proc, probe)
    assert (code, lines) == (EXIT[first], [STOPPED.format(signal.Signals(first).name)])
    _ports_free(start_line)


def test_a_signal_at_random_moments_of_the_emulator_s_life_ends_it_with_128_plus_the_signal(
        probe: LeftoverProbe) -> None:
    """From the first lines of ome-harness's code on (_handlers_in_place)."""
    for _ in range(6):
        signum = random.choice([signal.SIGINT, signal.SIGTERM])
        proc = _emulator(probe, sigint_ignored=random.random() < 0.5)
        _handlers_in_place(proc)
        time.sleep(random.uniform(0, 1.5))
        proc.send_signal(signum)
        code, lines = _ended(proc, probe)
        name = signal.Signals(signum).name
        assert code == EXIT[signum], (name, lines)
        assert lines[-1] in (STOPPED.format(name), BEFORE_ANYTHING.format(name)), (name, lines)



BLOCKED = ("import os, signal, sys; "
           "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}); "
           "os.execv(sys.executable, [sys.executable, '-m', 'ome_harness', *sys.argv[1:]])")


@pytest.mark.parametrize("when", ["at once", "while it serves"])
def test_the_emulator_takes_the_signals_back_when_it_inherited_them_blocked(
        probe: LeftoverProbe, when: str) -> None:
    # A parent's blocked signals survive exec: such an emulator never ended on SIGINT or SIGTERM.
    command = [sys.executable, "-c", BLOCKED, "emulator", "--host", "127.0.0.1", "--token", probe.token,
               "--port", "0", "--rtmp-port", "0", "--srt-port", "0", "--llhls-port", "0"]
    proc = subprocess.Popen(command, cwd=probe.root, env=probe.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if when == "at once":  # blocked, so pending until ome-harness takes the signals over
        _blocked(proc)
        proc.send_signal(signal.SIGTERM)
        code, lines = _ended(proc, probe)
        assert (code, lines) == (143, [BEFORE_ANYTHING.format("SIGTERM")])
        return
    start_line = _serving(proc, probe)
    proc.send_signal(signal.SIGTERM)
    code, lines = _ended(proc, probe)
    assert (code, lines) == (143, [STOPPED.format("SIGTERM")])
    _ports_free(start_line)


def _blocked(proc: subprocess.Popen[str]) -> None:
    wanted = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{proc.pid}/status").read_text()
            blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)", status, re.M).group(1), 16)  # type: ignore[union-attr]
            if blocked & wanted == wanted:
                return
        time.sleep(0.002)
    raise AssertionError("the signals were never blocked")
