"""The pool of query processes of one server worker, and the switch to a new build.

Why processes: pyoxigraph cannot cancel a running query. Every query is evaluated in a child
process (:mod:`citygraph.web.query_process`); when the deadline passes, the child is killed
(``SIGKILL``: the CPU work stops with it), the client gets 503 and a fresh child replaces it in
the background. Other clients keep being served by the other children.

Why the operating system: a child may be refused the network and given a memory budget
(:mod:`citygraph.sandbox`, applied by the child at start). A query over the budget makes the
engine abort the child; the worker reads why from the child's stderr (kept in a temporary
file) and answers 503 (:class:`QueryMemoryError`), any other death 500
(:class:`QueryProcessError`), and counts each end in :attr:`PoolStats.ends`.

Why generations: all children serve the same build. At most once per ``check_interval`` a
request reads the store's ``current`` link (one ``readlink``); when it names a new build, a
background thread starts a new generation of children on it and, once all of them are ready,
swaps it in. Requests meanwhile keep being answered by the old generation, so a rebuild never
fails a request; children of the old generation end when their current job is done.

No web framework here: the web layer maps the exceptions below to responses.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

from citygraph.errors import CitygraphError, StoreNotFoundError
from citygraph.store import CURRENT, Build, current_build
from citygraph.web.jobs import Job, Reply
from citygraph.web.query_process import memory_message

__all__ = [
    "END_REASONS",
    "OverloadedError",
    "PoolStats",
    "QueryMemoryError",
    "QueryPool",
    "QueryProcessError",
    "QueryTimeoutError",
]

log = logging.getLogger(__name__)

#: How long a new query process may take to open its build (an in-memory copy takes a while).
STARTUP_TIMEOUT = 900.0

#: Why a query process ended while running a job (the closed label set of ``/metrics``):
#: killed at the timeout, aborted over its memory budget, or died otherwise (a crash).
END_REASONS = ("timeout", "memory", "crash")

#: What the engine writes to stderr when an allocation fails (Rust's ``handle_alloc_error``).
_ALLOCATION_FAILED = b"memory allocation of "


class QueryTimeoutError(CitygraphError):
    """The query did not finish within the timeout; its process was killed."""


class OverloadedError(CitygraphError):
    """Too many queries at once, or no query process became free before the deadline."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryProcessError(CitygraphError):
    """A query process died or could not start (a server fault, not the client's)."""


class QueryMemoryError(CitygraphError):
    """The query needed more memory than a query process may use; its process was replaced."""


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    jobs: Connection
    replies: Connection
    build: Build
    #: The child's stderr (an unlinked temporary file): read when it dies, to say why.
    stderr: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        self.jobs.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()
        if self.stderr is not None:
            self.stderr.close()

    def last_words(self) -> bytes:
        """The end of what the child wrote to stderr (after it ended)."""
        if self.stderr is None:
            return b""
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - 4096))
        return self.stderr.read()


@dataclass
class PoolStats:
    """Counters of one pool (for ``/metrics`` and tests)."""

    started: int = 0
    killed: int = 0
    died: int = 0
    switches: int = 0
    #: Ends of query processes during a job, by reason (one of :data:`END_REASONS`).
    ends: Counter[str] = field(default_factory=Counter)


class QueryPool:
    """Query processes serving the current build of a store directory.

    ``start()`` blocks until the first generation is ready; ``close()`` ends every child.
    """

    def __init__(
        self,
        root: Path,
        *,
        size: int,
        in_memory: bool,
        max_concurrent: int,
        check_interval: float,
        offline: bool = True,
        memory: int = 0,
    ) -> None:
        """``offline``: the children cannot open network sockets (the default; ``False`` only
        when SERVICE may call allowed endpoints). ``memory``: bytes each child may use beyond
        its copy of the build (0: unlimited)."""
        self.root = root
        self.offline = offline
        self.memory = memory
        self.size = max(1, size)
        self.in_memory = in_memory
        self.max_concurrent = max_concurrent
        self.check_interval = check_interval
        self.stats = PoolStats()
        self._cond = threading.Condition()
        self._idle: list[_Child] = []
        self._children: dict[int, _Child] = {}
        self._build: Build | None = None
        self._target = ""
        self._inflight = 0
        self._next_check = 0.0
        self._switching = False
        self._closed = False

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the first generation on the current build and wait until it is ready.

        Raises:
            StoreNotFoundError: the store has no published build.
            QueryProcessError: a query process could not open the build.
        """
        build = current_build(self.root)
        children = self._spawn_generation(build)
        with self._cond:
            self._build = build
            self._target = self._read_target()
            self._idle.extend(children)
            self._next_check = time.monotonic() + self.check_interval
            self._cond.notify_all()

    def close(self) -> None:
        """Stop every query process: idle ones by closing their pipe, busy ones by killing them
        (a query left running without its server could run unbounded)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for child in idle:
            self._stop(child)
        with self._cond:
            busy = list(self._children.values())
        for child in busy:
            self._stop(child, kill=True)

    @property
    def build(self) -> Build:
        """The build that queries are answered from now."""
        assert self._build is not None, "the pool is not started"
        return self._build

    @property
    def version(self) -> str:
        """The data version queries are answered from now (for ETags and caches)."""
        return self.build.version

    @property
    def inflight(self) -> int:
        """Jobs running or waiting for a process."""
        return self._inflight

    # -- switching builds ---------------------------------------------------------------------

    def check_for_new_build(self, *, wait: bool = False) -> None:
        """Switch to a newly published build, if there is one (cheap; rate-limited).

        With ``wait``, check now and return only when the new build is served (used after a
        write, so that the writer reads its own write).
        """
        now = time.monotonic()
        if wait:
            self._switch_now()
            return
        if now < self._next_check:
            return
        self._next_check = now + self.check_interval
        target = self._read_target()
        with self._cond:
            if not target or target == self._target or self._switching or self._closed:
                return
            self._switching = True
        threading.Thread(target=self._switch, name="citygraph-switch", daemon=True).start()

    def _switch_now(self) -> None:
        """Serve the build ``current`` names now, waiting for a switch already under way."""
        with self._cond:
            while self._switching:
                self._cond.wait(1.0)
            target = self._read_target()
            if not target or target == self._target or self._closed:
                return
            self._switching = True
        self._switch()

    def _read_target(self) -> str:
        try:
            return os.readlink(self.root / CURRENT)
        except OSError:
            return ""

    def _switch(self) -> None:
        try:
            build = current_build(self.root)
            target = self._read_target()
            children = self._spawn_generation(build) if build.version != self.version else []
        except (CitygraphError, OSError) as error:
            log.error("cannot switch to the new build: %s", error)
            with self._cond:
                self._switching = False
            return
        with self._cond:
            old, self._idle = self._idle, children
            if children:
                self._build = build
                self.stats.switches += 1
            else:
                self._idle = old
                old = []
            self._target = target
            self._switching = False
            closed = self._closed
            self._cond.notify_all()
        for child in old:
            self._stop(child)
        if closed:
            self.close()
        log.info("serving build %s", build.version)

    # -- running jobs -------------------------------------------------------------------------

    def run(self, job: Job, *, timeout: float) -> tuple[Reply, str]:
        """Run ``job`` in a free query process; wait at most ``timeout`` seconds in all.

        Returns the reply and the data version of the build that answered.

        Raises:
            OverloadedError: too many jobs at once, or no process became free in time.
            QueryTimeoutError: the job ran out of time (its process was killed).
            QueryProcessError: the process died while running the job.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._inflight >= self.max_concurrent:
                raise OverloadedError(
                    f"the server is busy ({self._inflight} queries in progress); retry shortly"
                )
            self._inflight += 1
        try:
            child = self._acquire(deadline, timeout)
            try:
                reply = self._exchange(child, job, deadline, timeout)
            except BaseException:
                self._discard(child)
                raise
            self._release(child)
            return reply, child.build.version
        finally:
            with self._cond:
                self._inflight -= 1

    def _acquire(self, deadline: float, timeout: float) -> _Child:
        with self._cond:
            while not self._idle:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise QueryProcessError("the server is shutting down")
                if remaining <= 0:
                    raise OverloadedError(
                        f"no query process became free within {timeout:g} s: every one is "
                        "busy with a long query; retry shortly",
                        retry_after=max(1, int(timeout)),
                    )
                self._cond.wait(remaining)
            return self._idle.pop()

    def _exchange(self, child: _Child, job: Job, deadline: float, timeout: float) -> Reply:
        try:
            child.jobs.send(job)
            if not child.replies.poll(max(0.0, deadline - time.monotonic())):
                self.stats.killed += 1
                self.stats.ends["timeout"] += 1
                raise QueryTimeoutError(
                    f"the query ran out of time: it did not finish within {timeout:g} s, this "
                    "endpoint's limit, and was stopped; simplify it or add LIMIT"
                )
            reply = child.replies.recv()
        except (EOFError, OSError) as error:
            raise self._death(child) from error
        assert isinstance(reply, Reply)
        if reply.error == "memory":
            self.stats.ends["memory"] += 1
        return reply

    def _death(self, child: _Child) -> CitygraphError:
        """Count why ``child`` died during a job and return the error to raise."""
        try:
            status = child.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        words = child.last_words()
        self.stats.died += 1
        if self.memory > 0 and _ALLOCATION_FAILED in words:
            self.stats.ends["memory"] += 1
            log.warning("query process %s ran out of its memory budget", child.pid)
            return QueryMemoryError(memory_message(self.memory))
        self.stats.ends["crash"] += 1
        log.error(
            "query process %s died (exit status %s): %s",
            child.pid,
            status,
            words.decode("utf-8", "replace").strip()[-1000:] or "(no message)",
        )
        return QueryProcessError(
            f"the query process {child.pid} ended unexpectedly; the query was not answered "
            "(a server fault, logged)"
        )

    def _release(self, child: _Child) -> None:
        with self._cond:
            current = not self._closed and child.build.version == self.version
            if current:
                self._idle.append(child)
                self._cond.notify()
        if not current:
            self._stop(child)

    def _discard(self, child: _Child) -> None:
        """Kill a child that timed out or broke, and replace it in the background."""
        self._stop(child, kill=True)
        threading.Thread(
            target=self._replace, args=(child.build,), name="citygraph-replace", daemon=True
        ).start()

    def _replace(self, build: Build) -> None:
        try:
            child = self._spawn(build)
            self._await_ready(child)
        except (CitygraphError, OSError) as error:
            log.error("cannot start a query process: %s", error)
            return
        self._release(child)

    # -- processes ----------------------------------------------------------------------------

    def _spawn_generation(self, build: Build) -> list[_Child]:
        children = [self._spawn(build) for _ in range(self.size)]
        try:
            for child in children:
                self._await_ready(child)
        except BaseException:
            for child in children:
                self._stop(child, kill=True)
            raise
        return children

    def _spawn(self, build: Build) -> _Child:
        job_read, job_write = os.pipe()
        reply_read, reply_write = os.pipe()
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the child owns it; closed in stop()
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "citygraph.web.query_process",
                    str(job_read),
                    str(reply_write),
                    str(build.path),
                    build.version,
                    "1" if self.in_memory else "0",
                    "1" if self.offline else "0",
                    str(self.memory),
                ],
                pass_fds=(job_read, reply_write),
                stdin=subprocess.DEVNULL,
                stderr=stderr,
                close_fds=True,
            )
        except BaseException:
            stderr.close()
            raise
        finally:
            os.close(job_read)
            os.close(reply_write)
        child = _Child(
            process=process,
            jobs=Connection(job_write, readable=False),
            replies=Connection(reply_read, writable=False),
            build=build,
            stderr=stderr,
        )
        with self._cond:
            self.stats.started += 1
            self._children[child.pid] = child
        return child

    def _await_ready(self, child: _Child) -> None:
        try:
            if not child.replies.poll(STARTUP_TIMEOUT):
                raise QueryProcessError(f"query process {child.pid} did not start in time")
            message = child.replies.recv()
        except (EOFError, OSError) as error:
            words = child.last_words().decode("utf-8", "replace").strip()[-1000:]
            raise QueryProcessError(
                f"query process {child.pid} failed to start: {words or '(no message)'}"
            ) from error
        if message[0] == "failed":
            self._stop(child, kill=True)
            raise StoreNotFoundError(message[1])
        if message[0] == "unsafe":
            self._stop(child, kill=True)
            raise QueryProcessError(message[1])

    def _stop(self, child: _Child, *, kill: bool = False) -> None:
        with self._cond:
            self._children.pop(child.pid, None)
        child.stop(kill=kill)

    def pids(self) -> list[int]:
        """The process ids of the live query processes (for tests and diagnostics)."""
        with self._cond:
            return sorted(self._children)
