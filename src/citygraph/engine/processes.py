"""Creating and ending the query processes of one server worker (the pool schedules them).

A query process is either forked by the machine's :mod:`~citygraph.engine.zygote` of the build,
which holds its in-memory copy (so all the query processes of all the workers share one copy;
the worker reaches it through the :mod:`~citygraph.engine.zygote_host`), or started as ``python
-m citygraph.engine.query_process`` on the on-disk build. Either way the worker talks to it over
two pipes (jobs out, replies in) and keeps its stderr in an unlinked temporary file, read when
it dies to say why. A new process is *ready* once it has answered ``("ready", …)``;
``("failed", message)`` means it could not open the build, ``("unsafe", message)`` that it
could not enter its sandbox (:mod:`citygraph.sandbox`).

:class:`QueryProcesses` makes them (one at a time, or a whole :class:`Generation` on a build),
waits until they are ready, stops them and knows which are alive. What runs on which process,
and when, is :mod:`citygraph.engine.pool`'s business.

No web framework here.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

from citygraph.config import zygote_host_from_env
from citygraph.engine.errors import QueryProcessError
from citygraph.engine.lanes import lower_priority, lower_session
from citygraph.engine.zygote import ForkedProcess, Zygote
from citygraph.engine.zygote_host import GRACE, ZygoteHost, connect
from citygraph.errors import StoreNotFoundError
from citygraph.store import Build

__all__ = ["STARTUP_TIMEOUT", "Child", "Generation", "QueryProcesses"]

#: How long a new query process may take to open its build (an in-memory copy takes a while).
STARTUP_TIMEOUT = 900.0

#: What the engine writes to stderr when an allocation fails (Rust's ``handle_alloc_error``),
#: and the last line of a Python traceback of a failed allocation.
_ALLOCATION_FAILED = (b"memory allocation of ", b"\nMemoryError")
#: What the engine writes to stderr when it panics (pyoxigraph is built to abort on a panic):
#: ``thread '…' panicked at FILE:LINE:COL:`` and the panic's message on the next line.
_PANICKED = b" panicked at "
#: How much of a dead child's stderr is searched for a panic.
_PANIC_WORDS = 1 << 20


@dataclass
class Child:
    """One query process, seen from the worker."""

    process: subprocess.Popen[bytes] | ForkedProcess
    jobs: Connection
    replies: Connection
    build: Build
    #: The child's stderr (an unlinked temporary file): read when it dies, to say why.
    stderr: IO[bytes] | None = None
    #: In the fast lane: runs a query for at most the fast budget.
    fast: bool = False
    #: The connection to the zygote that forked it (``None``: started on the on-disk build).
    zygote: Zygote | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, *, kill: bool = False) -> None:
        """End the process: close its job pipe (it exits when idle), or kill it."""
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

    def wait_ended(self) -> None:
        """Block until the process has ended, whoever ended it (not reaping it)."""
        if isinstance(self.process, ForkedProcess):
            pidfd = self.process.pidfd()
        else:
            try:  # not reaped before stop(): the pid is still this process
                pidfd = os.pidfd_open(self.process.pid)
            except ProcessLookupError:
                return
        try:
            select.select([pidfd], [], [])
        finally:
            os.close(pidfd)

    def last_words(self, size: int = 4096) -> bytes:
        """The last ``size`` bytes the child wrote to stderr (after it ended)."""
        if self.stderr is None:
            return b""
        try:
            self.stderr.seek(0, os.SEEK_END)
            end = self.stderr.tell()
            self.stderr.seek(max(0, end - size))
            return self.stderr.read()
        except ValueError:  # closed meanwhile, by the pool closing in another thread
            return b""

    def ran_out_of_memory(self) -> bool:
        """Whether the child (now dead) died because an allocation failed."""
        words = self.last_words()
        return any(sign in words for sign in _ALLOCATION_FAILED)

    def panic(self) -> str | None:
        """The message of the engine's panic that ended the child (now dead), if it panicked.

        An internal error of the engine, not a crash of unknown cause: for example Oxigraph's
        ORDER BY, whose comparison of numbers with other literals is not a total order (Rust's
        sort panics when it notices, depending on the order of its input)."""
        words = self.last_words(_PANIC_WORDS)  # a backtrace (RUST_BACKTRACE) may follow it
        at = words.rfind(_PANICKED)
        if at < 0:
            return None
        lines = words[at:].splitlines()
        message = lines[1] if len(lines) > 1 else b""
        return message.decode("utf-8", "replace").strip()[:500] or "(no message)"


@dataclass
class Generation:
    """The ready query processes of both lanes on one build, and the zygote that forked them
    (in memory; ``None`` on the on-disk build)."""

    build: Build
    zygote: Zygote | None
    children: list[Child] = field(default_factory=list)

    @property
    def general(self) -> list[Child]:
        return [c for c in self.children if not c.fast]

    @property
    def fast(self) -> list[Child]:
        return [c for c in self.children if c.fast]


class QueryProcesses:
    """Makes, readies and stops the query processes of one pool, and tracks the live ones.

    ``in_memory``: generations may be forked from the zygote holding a copy of the build (see
    :meth:`generation`). ``size`` and ``fast_size``: processes per generation in the general
    and the fast lane. ``offline``: the processes cannot open network sockets. ``memory``:
    bytes each may use beyond its copy of the build (0: unlimited). ``root``: the store
    directory, for the zygote host this pool starts when the server did not start one
    (:func:`citygraph.config.zygote_host_from_env`).
    """

    def __init__(
        self,
        *,
        in_memory: bool,
        size: int,
        fast_size: int,
        offline: bool,
        memory: int,
        root: Path | None = None,
    ) -> None:
        self.in_memory = in_memory
        self.size = size
        self.fast_size = fast_size
        self.offline = offline
        self.memory = memory
        self.root = root
        #: Processes started so far (for tests and diagnostics).
        self.started = 0
        self._lock = threading.Lock()
        self._live: dict[int, Child] = {}
        self._host: ZygoteHost | None = None

    def generation(self, build: Build, *, in_memory: bool, patient: bool = False) -> Generation:
        """The query processes of both lanes on ``build``, ready: with ``in_memory``, forked
        from the machine's zygote of the build, so that they share one copy of it (this waits
        until the copy is made; ``patient``: the copy may wait until older copies are gone,
        see :mod:`~citygraph.engine.zygote_host`); else started on the on-disk build.

        Raises:
            StoreNotFoundError: the build cannot be opened.
            QueryProcessError: a process (or the zygote) did not start.
        """
        zygote = self.zygote(build, patient=patient) if in_memory else None
        children: list[Child] = []
        try:
            for fast in [False] * self.size + [True] * self.fast_size:
                children.append(self.spawn(build, fast=fast, zygote=zygote))
            for child in children:
                self.await_ready(child)
        except BaseException:
            for child in children:
                self.stop(child, kill=True)
            if zygote is not None:
                zygote.close()
            raise
        return Generation(build=build, zygote=zygote, children=children)

    def zygote(self, build: Build, *, patient: bool) -> Zygote:
        """A connection to the machine's zygote of ``build``, once its copy is ready.

        Raises:
            StoreNotFoundError: the build cannot be opened.
            QueryProcessError: the zygote (or its host) did not start.
        """
        try:
            zygote = connect(self._host_path(), build, patient=patient)
        except OSError as error:
            raise QueryProcessError(f"cannot reach the zygote host: {error}") from error
        status, message = zygote.ready(STARTUP_TIMEOUT)
        if status != "ready":
            zygote.close()
            if status == "failed":
                raise StoreNotFoundError(message)
            raise QueryProcessError(message)
        return zygote

    def _host_path(self) -> Path:
        """The socket of the server's zygote host, else of one started for this pool."""
        given = zygote_host_from_env()
        if given is not None:
            return given
        with self._lock:
            if self._host is None:
                if self.root is None:
                    raise OSError("no zygote host: the pool was made without its store directory")
                self._host = ZygoteHost(self.root, grace=GRACE)
            return self._host.path

    def close(self) -> None:
        """End the zygote host this pool started, if any."""
        with self._lock:
            host, self._host = self._host, None
        if host is not None:
            host.close()

    def spawn(self, build: Build, *, fast: bool = False, zygote: Zygote | None = None) -> Child:
        """A query process on ``build`` (not yet ready: see :meth:`await_ready`): forked by
        ``zygote`` (in memory), else started on the on-disk build. General-lane processes run
        under ``SCHED_IDLE`` (:func:`~citygraph.engine.lanes.lower_priority`)."""
        job_read, job_write = os.pipe()
        reply_read, reply_write = os.pipe()
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the child owns it; closed in stop()
        process: subprocess.Popen[bytes] | ForkedProcess
        try:
            if zygote is not None:
                process = zygote.fork(
                    job_read,
                    reply_write,
                    stderr.fileno(),
                    offline=self.offline,
                    memory=self.memory,
                )
            else:
                process = self._start(build, job_read, reply_write, stderr)
        except BaseException:
            stderr.close()
            os.close(job_write)
            os.close(reply_read)
            raise
        finally:
            os.close(job_read)
            os.close(reply_write)
        child = Child(
            process=process,
            jobs=Connection(job_write, readable=False),
            replies=Connection(reply_read, writable=False),
            build=build,
            stderr=stderr,
            fast=fast,
            zygote=zygote,
        )
        if not fast:
            lower_priority(process.pid)
        with self._lock:
            self.started += 1
            self._live[child.pid] = child
        return child

    def _start(
        self, build: Build, job_read: int, reply_write: int, stderr: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        """A new ``python -m citygraph.engine.query_process`` on the on-disk build."""
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citygraph.engine.query_process",
                str(job_read),
                str(reply_write),
                str(build.path),
                build.version,
                "0",
                "1" if self.offline else "0",
                str(self.memory),
            ],
            pass_fds=(job_read, reply_write),
            stdin=subprocess.DEVNULL,
            stderr=stderr,
            close_fds=True,
        )

    def await_ready(self, child: Child) -> None:
        """Wait until ``child`` has opened its build (at most :data:`STARTUP_TIMEOUT`).

        Raises:
            StoreNotFoundError: it could not open the build.
            QueryProcessError: it died, did not start in time, or could not enter its sandbox.
        """
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
            self.stop(child, kill=True)
            raise StoreNotFoundError(message[1])
        if message[0] == "unsafe":
            self.stop(child, kill=True)
            raise QueryProcessError(message[1])
        if not child.fast:
            lower_session(child.pid)  # its own session by now (query_process.enter_sandbox)

    def stop(self, child: Child, *, kill: bool = False) -> None:
        """End ``child`` (see :meth:`Child.stop`); it is no longer counted as live.

        Threads may stop the same child at once (the pool closing while a switch stops the
        generation it replaced): one of them closes its pipes, the others at most kill it."""
        with self._lock:
            mine = self._live.get(child.pid) is child
            if mine:
                del self._live[child.pid]
        if mine:
            child.stop(kill=kill)
        elif kill:
            child.process.kill()

    def live(self) -> list[Child]:
        """The processes started and not yet stopped."""
        with self._lock:
            return list(self._live.values())

    def pids(self) -> list[int]:
        """The process ids of the live query processes."""
        with self._lock:
            return sorted(self._live)
