"""The CPU priorities of the server's background work (engine/lanes.py): general-lane queries,
writes and in-memory copies run under SCHED_IDLE, so that cheap requests always run first."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from citygraph.engine.lanes import in_background_thread, lower_priority

#: A process with a second thread, both alive for a while.
_TWO_THREADS = (
    "import threading, time, sys\n"
    "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "print('up', flush=True)\n"
    "time.sleep(60)\n"
)


def _policies(pid: int) -> list[int]:
    return [os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


def test_lower_priority_puts_every_thread_of_a_process_under_sched_idle() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _TWO_THREADS], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "up\n"
            assert _policies(process.pid) == [os.SCHED_OTHER, os.SCHED_OTHER]
            lower_priority(process.pid)
            assert _policies(process.pid) == [os.SCHED_IDLE, os.SCHED_IDLE]
        finally:
            process.kill()


def test_lower_priority_of_a_process_that_ended_is_no_error() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    time.sleep(0.05)
    lower_priority(process.pid)  # reaped: no such process any more


def test_work_in_a_background_thread_leaves_the_caller_its_priority() -> None:
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert in_background_thread(lambda: os.sched_getscheduler(0)) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    # and what the work raises reaches the caller
    with pytest.raises(ZeroDivisionError):
        in_background_thread(lambda: 1 // 0)
