"""The CPU priorities of the server's background work (engine/lanes.py): general-lane queries
run under SCHED_IDLE, writes and in-memory copies at the highest niceness (they must progress),
so that cheap requests always run first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.serving import autogroup_nice

from citygraph.engine.lanes import (
    MAX_NICENESS,
    in_background_thread,
    lower_niceness,
    lower_priority,
    lower_session,
)

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
            own = os.sched_getscheduler(0)  # the runner's (a child inherits it)
            assert _policies(process.pid) == [own, own]
            lower_priority(process.pid)
            assert _policies(process.pid) == [os.SCHED_IDLE, os.SCHED_IDLE]
        finally:
            process.kill()


def test_lower_priority_of_a_process_that_ended_is_no_error() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    time.sleep(0.05)
    lower_priority(process.pid)  # reaped: no such process any more


def test_lower_niceness_gives_every_thread_the_highest_niceness_and_keeps_its_policy() -> None:
    """Writes hold the write lock: a niceness, which still weighs, not SCHED_IDLE."""
    with subprocess.Popen(
        [sys.executable, "-c", _TWO_THREADS], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "up\n"
            own = os.sched_getscheduler(0)
            lower_niceness(process.pid)
            assert _policies(process.pid) == [own, own]
            assert _nicenesses(process.pid) == [MAX_NICENESS, MAX_NICENESS]
        finally:
            process.kill()


def _nicenesses(pid: int) -> list[int]:
    return [os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


def test_work_in_a_background_thread_leaves_the_caller_its_priority() -> None:
    """The zygote's copy: at the highest niceness (a switch waits for it), not SCHED_IDLE; the
    caller, which forks the fast lane's processes, keeps its policy and niceness."""
    policy, niceness = os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)
    assert in_background_thread(
        lambda: (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0))
    ) == (policy, MAX_NICENESS)
    assert (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)) == (policy, niceness)
    # and what the work raises reaches the caller
    with pytest.raises(ZeroDivisionError):
        in_background_thread(lambda: 1 // 0)


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="a kernel without autogroups")
def test_a_background_session_gets_the_highest_niceness_and_the_server_keeps_its_own() -> None:
    own = autogroup_nice(os.getpid())  # None where the runner's session is the root group
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    with (
        subprocess.Popen(sleeper, start_new_session=True) as apart,
        subprocess.Popen(sleeper) as ours,
    ):
        try:
            lower_session(apart.pid)
            assert autogroup_nice(apart.pid) == 19
            # a process of this session: lowering its autogroup would lower this one
            lower_session(ours.pid)
            assert autogroup_nice(ours.pid) == own
            assert autogroup_nice(os.getpid()) == own
        finally:
            apart.kill()
            ours.kill()
