"""What the query pool's fast lane needs (see :mod:`citygraph.engine.pool`, "Why two lanes"):
a bounded memory of slow queries, a budget counted in CPU time, and a CPU priority below
everything else of the server for the general lane (``SCHED_IDLE``) and for writes and
in-memory copies (the highest niceness: they hold the write lock or block a build's switch, so
they must be sure to progress). No web framework here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TypeVar

from citygraph.engine.clients import Presence

__all__ = [
    "MAX_NICENESS",
    "SlowQueries",
    "await_reply",
    "cpu_seconds",
    "in_background",
    "in_background_thread",
    "lower_niceness",
    "lower_priority",
    "lower_session",
    "restore_session",
]

#: The niceness of writes and copies, and of a general-lane process where ``SCHED_IDLE`` is
#: refused.
MAX_NICENESS = 19

_T = TypeVar("_T")

_TICKS = os.sysconf("SC_CLK_TCK")


class SlowQueries:
    """Digests (16 bytes) of the jobs known to be slow, the last ``size`` remembered.

    >>> slow = SlowQueries(size=1)
    >>> slow.remember(SlowQueries.key("a")); slow.remember(SlowQueries.key("b"))
    >>> SlowQueries.key("a") in slow, SlowQueries.key("b") in slow
    (False, True)
    """

    def __init__(self, *, size: int = 4096) -> None:
        self.size = size
        self._keys: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(job: object) -> bytes:
        """The digest of a job (its ``repr``: every field of the frozen dataclass)."""
        return hashlib.blake2b(repr(job).encode(), digest_size=16).digest()

    def __contains__(self, key: bytes) -> bool:
        with self._lock:
            return key in self._keys

    def remember(self, key: bytes) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._keys.pop(key, None)


def await_reply(
    replies: Connection,
    pid: int,
    *,
    deadline: float,
    cpu_budget: float | None,
    presence: Presence | None = None,
    since: float = 0.0,
) -> bool:
    """Whether process ``pid`` replied before ``deadline``; with a ``cpu_budget``, before it
    spent that many seconds of CPU time; with a ``presence``, before the client of the job
    (which started at ``since``) went away (:class:`~citygraph.engine.clients.Presence`).

    CPU, not wall-clock time: on a busy machine a cheap query can wait for a core longer than
    the budget, and must not be taken for a slow one (measured: such lookups were moved to the
    general lane, queued there behind the expensive queries, and got 503; docs/performance.md).
    """
    if cpu_budget is None and presence is None:
        return replies.poll(max(0.0, deadline - time.monotonic()))
    start = cpu_seconds(pid) if cpu_budget is not None else 0.0
    while True:
        now = time.monotonic()
        step = deadline - now
        if step <= 0:
            return False
        if cpu_budget is not None:
            step = min(step, cpu_budget / 4)
        if presence is not None:
            step = min(step, presence.pace(since=since, now=now))
        if replies.poll(step):
            return True
        if presence is not None and presence.gone:
            return False
        if cpu_budget is not None and cpu_seconds(pid) - start >= cpu_budget:
            return False


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) process ``pid`` has used, from ``/proc/PID/stat``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0  # it ended: its reply pipe says so
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / _TICKS


def lower_priority(pid: int) -> None:
    """Run every thread of process ``pid`` in the background (:func:`in_background`); a process
    that already ended is fine.

    For general-lane queries only, which hold no lock and block nothing but themselves: under CPU
    contention the server worker (its event loop, ``/healthz``, cheap requests) and the fast
    lane then run first. ``SCHED_IDLE`` rather than a niceness: a ``SCHED_IDLE`` task weighs 3
    against nice 0's 1,024 and is preempted as soon as a normal task wakes up. It orders the
    tasks of one scheduling group only; with the kernel's autogroups the groups themselves are
    :func:`lower_session`'s business (measured: ``SCHED_IDLE`` alone left the lookup's p99 under
    hostile load where niceness 10 had it, docs/reliability.md).
    """
    _every_thread(pid, in_background)
    lower_session(pid)


def lower_niceness(pid: int) -> None:
    """Give every thread of process ``pid`` the highest niceness (and its session's group, if it
    leads one: :func:`lower_session`); a process that already ended is fine.

    For work that holds a lock or that something waits for (a write process holds the write
    lock): a niceness still weighs (15 against nice 0's 1,024), so the work progresses under any
    load, where a ``SCHED_IDLE`` task may wait for as long as normal tasks keep the cores busy.
    """
    _every_thread(pid, _at_max_niceness)
    lower_session(pid)


def _every_thread(pid: int, lower: Callable[[int], None]) -> None:
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return  # it ended
    for tid in threads:
        with contextlib.suppress(ProcessLookupError):
            lower(int(tid))


def _at_max_niceness(tid: int = 0) -> None:
    # On Linux a niceness belongs to a thread (setpriority(2), "BUGS"): tid 0 is the caller.
    os.setpriority(os.PRIO_PROCESS, tid, MAX_NICENESS)


def lower_session(pid: int) -> None:
    """When process ``pid`` leads a session of its own, give its session's scheduling group
    (its autogroup) the highest niceness; else do nothing (a process in the server's session
    would lower the whole server).

    Why: with the kernel's autogroups on (``/proc/sys/kernel/sched_autogroup_enabled``, the
    default of desktop and most server kernels outside a cgroup of their own), CFS first shares
    the CPU between sessions, then within each. ``SCHED_IDLE`` only orders the tasks of one
    session; the CPU a general-lane process used was still charged to the server's session, which
    then waited longer for its next turn against the machine's other sessions, and the worker
    with it (measured: the general lane used 0.93 cores and the worker 0.05 while the lookup's
    p99 grew 16x, docs/reliability.md). So query processes start sessions of their own
    (:func:`~citygraph.engine.query_process.enter_sandbox`), as does the zygote, and the
    background ones are given niceness 19 there: their CPU is charged to groups that weigh 15
    against the worker's 1,024.
    """
    try:
        if os.getsid(pid) != pid:
            return
        with open(f"/proc/{pid}/autogroup", "w", encoding="ascii") as autogroup:
            autogroup.write(str(MAX_NICENESS))
    except OSError:
        return  # it ended, or the kernel has no autogroups


def restore_session() -> None:
    """Give the calling process's session group (its autogroup) niceness 0 again (raising it back
    to 0 needs no privilege); nothing where the kernel has no autogroups.

    For the zygote once its copy is made: the processes it forks for the fast lane must start
    at the worker's priority, not at its copy's."""
    with (
        contextlib.suppress(OSError),
        open("/proc/self/autogroup", "w", encoding="ascii") as autogroup,
    ):
        autogroup.write("0")


def in_background(tid: int = 0) -> None:
    """Put thread ``tid`` (0: the calling thread) under ``SCHED_IDLE``: it runs only when no
    other task of its scheduling group wants the core. Where the policy is refused, the
    highest niceness instead. Threads and processes it starts inherit it.

    Raises:
        ProcessLookupError: there is no such thread.
    """
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except PermissionError:
        os.setpriority(os.PRIO_PROCESS, tid, MAX_NICENESS)


def in_background_thread(work: Callable[[], _T]) -> _T:
    """``work()``, run in a new thread at the highest niceness (see :func:`lower_niceness`: it
    must progress, as the zygote's copy that a build's switch waits for), so that the calling
    thread keeps its own priority (and passes it on to what it forks)."""
    results: list[_T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            _at_max_niceness()
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=run, name="citygraph-background")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]
