"""`studio.run`'s supervisor: a child that exits is restarted with back-off; only a signal stops all."""

from __future__ import annotations

import signal
import sys
import threading

from studio.run import BACKOFF_FIRST, Child, Supervisor
from tests.conftest import wait_for

EXITS = [sys.executable, "-c", "raise SystemExit(3)"]
SLEEPS = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_a_child_that_exits_is_restarted_after_its_back_off_with_a_log_line(capsys):
    child = Child("render-1", EXITS)
    child.start(now=0.0)
    assert child.proc is not None
    child.proc.wait(10)

    child.check(now=0.5)
    assert child.proc is None and "render-1 exited with 3; restarting in 1 s" in capsys.readouterr().out
    child.check(now=0.5 + BACKOFF_FIRST / 2)
    assert child.proc is None  # still backing off
    child.check(now=0.5 + BACKOFF_FIRST)
    assert child.proc is not None and child.restarts == 1
    assert "render-1 restarted (restart 1)" in capsys.readouterr().out

    child.proc.wait(10)
    child.check(now=2.0)
    assert "restarting in 2 s" in capsys.readouterr().out  # doubled
    child.proc = None


def test_a_sigkilled_child_is_brought_back_and_its_siblings_keep_running(capsys):
    victim, sibling = Child("render-1", SLEEPS), Child("render-2", SLEEPS)
    supervisor = Supervisor([victim, sibling])
    runner = threading.Thread(target=supervisor.run, kwargs={"poll": 0.05})
    runner.start()
    try:
        wait_for(lambda: victim.proc is not None and sibling.proc is not None, timeout=10)
        first, other = victim.proc, sibling.proc
        assert first is not None and other is not None
        first.send_signal(signal.SIGKILL)
        wait_for(lambda: victim.proc is not None and victim.proc is not first, timeout=10, message="a restart")
        assert sibling.proc is other and other.poll() is None
    finally:
        supervisor.stop()
        runner.join(20)
    assert not runner.is_alive()
    assert all(c.proc is None or c.proc.poll() is not None for c in (victim, sibling))  # SIGTERM stopped them all
    out = capsys.readouterr().out
    assert "render-1 exited with -9" in out and "render-2 exited" not in out
