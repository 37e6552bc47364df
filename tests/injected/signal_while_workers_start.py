"""Loaded into `ome-harness run --workers N` (PYTEST_PLUGINS) by tests/test_run_parallel.py: SIGINT reaches
the controller while xdist starts its second worker, after starting the worker's Python and before
sending it execnet's bootstrap: the moment a CI chaos run once hit (the worker read an empty line and
printed a SyntaxError traceback)."""

from __future__ import annotations

import os
import signal
import time

import execnet.gateway_bootstrap


def pytest_xdist_setupnodes(config, specs) -> None:  # in the controller, before any worker starts
    original = execnet.gateway_bootstrap.sendexec
    started = []

    def sendexec_after_a_signal(io, *sources):
        started.append(io)
        if len(started) == 2:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # a handled signal raises here, unless the run holds it
            except KeyboardInterrupt:
                # What garbage collection of the half-made gateway does a moment later (the CI failure):
                # the worker reads end of file, and its Python has time to say so before the run ends it.
                io.popen.stdin.close()
                time.sleep(1)
                raise
        return original(io, *sources)

    execnet.gateway_bootstrap.sendexec = sendexec_after_a_signal
