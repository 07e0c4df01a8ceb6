"""Ctrl-C held during Dask's calls and raised from calfwatch's own (``calfwatch.batch.sigint``),
with a real SIGINT sent to this process."""

from __future__ import annotations

import signal
import threading

import pytest

from calfwatch.batch.sigint import SigintLatch, sigint_ignored


def _press_ctrl_c() -> None:
    """SIGINT to this (the main) thread: handled before the next line runs."""
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def test_latch_holds_ctrl_c_until_checked():
    before = signal.getsignal(signal.SIGINT)
    with SigintLatch() as latch:
        latch.check()  # nothing pressed: no error
        _press_ctrl_c()  # held: the next line runs
        reached = True
        with pytest.raises(KeyboardInterrupt):
            latch.check()
        assert signal.getsignal(signal.SIGINT) is before  # raised with the handler put back
    assert reached
    assert signal.getsignal(signal.SIGINT) is before


def test_latch_wait_returns_at_once_on_ctrl_c():
    with SigintLatch() as latch:
        latch.wait(0.0)
        _press_ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            latch.wait(3600.0)  # would take an hour were it not woken


def test_second_ctrl_c_interrupts_at_once():
    with SigintLatch(), pytest.raises(KeyboardInterrupt):
        _press_ctrl_c()
        _press_ctrl_c()


def test_latch_gone_after_the_block():
    with SigintLatch():
        pass
    with pytest.raises(KeyboardInterrupt):
        _press_ctrl_c()


def test_sigint_ignored_then_restored():
    before = signal.getsignal(signal.SIGINT)
    with sigint_ignored():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        _press_ctrl_c()  # nothing happens
    assert signal.getsignal(signal.SIGINT) is before
