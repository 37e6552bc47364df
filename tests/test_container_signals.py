"""SIGTERM unwinds through `finally`; signals during cleanup wait until cleanup is done."""

from __future__ import annotations

import signal

import pytest

from ome_harness.container.stop_signals import Terminated, stop_signals_deferred, stop_signals_unwind


@pytest.fixture(autouse=True)
def _default_sigterm() -> None:
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("this test process already handles SIGTERM")


def test_sigterm_inside_the_block_raises_and_runs_finally() -> None:
    cleaned = []
    with pytest.raises(Terminated), stop_signals_unwind():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the default comes back after the block"


def test_overlapping_blocks_keep_the_handler_until_the_last_one_ends() -> None:
    first, second = stop_signals_unwind(), stop_signals_unwind()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    with pytest.raises(Terminated):
        signal.raise_signal(signal.SIGTERM)
    second.__exit__(None, None, None)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_second_ctrl_c_during_cleanup_waits_until_cleanup_is_done() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt), stop_signals_deferred():
        signal.raise_signal(signal.SIGINT)
        steps.append("cleanup finished")
    assert steps == ["cleanup finished"]
