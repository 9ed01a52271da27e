"""What the query pool's fast lane needs (see :mod:`citygraph.engine.pool`, "Why two lanes"):
a bounded memory of slow queries, a budget counted in CPU time, and a lower CPU priority for
the general lane. No web framework here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Connection

__all__ = [
    "GENERAL_NICENESS",
    "SlowQueries",
    "await_reply",
    "cpu_seconds",
    "general_niceness",
    "lower_priority",
]

#: How much nicer general-lane query processes run than the server worker: under CPU contention
#: the worker (its event loop, ``/healthz``) and the fast lane run first (CFS gives nice 0 about
#: 9 times the CPU of nice 10), so expensive queries slow cheap ones down as little as possible.
#: Relative to the worker's own niceness (a server started with ``nice`` keeps the ratio), and
#: at most 19, the kernel's limit.
GENERAL_NICENESS = 10
MAX_NICENESS = 19

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
    replies: Connection, pid: int, *, deadline: float, cpu_budget: float | None
) -> bool:
    """Whether process ``pid`` replied before ``deadline`` and, with a ``cpu_budget``, before it
    spent that many seconds of CPU time.

    CPU, not wall-clock time: on a busy machine a cheap query can wait for a core longer than
    the budget, and must not be taken for a slow one (measured: such lookups were moved to the
    general lane, queued there behind the expensive queries, and got 503; docs/performance.md).
    """
    if cpu_budget is None:
        return replies.poll(max(0.0, deadline - time.monotonic()))
    start = cpu_seconds(pid)
    step = cpu_budget / 4
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if replies.poll(min(step, remaining)):
            return True
        if cpu_seconds(pid) - start >= cpu_budget:
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
    """Run process ``pid`` :data:`GENERAL_NICENESS` steps nicer than this one (a process that
    already ended is fine)."""
    with contextlib.suppress(ProcessLookupError):
        os.setpriority(os.PRIO_PROCESS, pid, general_niceness())


def general_niceness() -> int:
    """The niceness of general-lane processes started by this process."""
    return min(os.getpriority(os.PRIO_PROCESS, 0) + GENERAL_NICENESS, MAX_NICENESS)
