"""The zygote: one in-memory copy of a build, from which query processes are forked.

Copying a build into memory takes seconds at 100k triples and minutes at 1M, and each copy
holds the whole build. So each build has one zygote per machine, started by the machine's
:mod:`~citygraph.engine.zygote_host` (``python -m citygraph.engine.zygote CHANNEL_FD BUILD_DIR
VERSION``): it copies the build into memory once, then, for each request of any server worker,
forks a query process. The children share the store's pages with the zygote (copy-on-write: a
query reads them, it does not write them), so a new query process costs a fork, not a copy, and
all the query processes of all the workers hold about one copy of the build.

The host hands the zygote, over ``CHANNEL_FD`` (a ``SOCK_SEQPACKET`` pair), each worker's
connection (an accepted Unix socket) and a pidfd of that worker, by ``SCM_RIGHTS``. On each
connection the zygote answers ``ready VERSION PID`` once the copy is made (or ``failed
MESSAGE``, then closes it), then serves requests: one message carrying ``OFFLINE MEMORY`` and,
by ``SCM_RIGHTS``, three file descriptors (the job pipe's read end, the reply pipe's write end,
the file for the child's stderr). The answer carries the child's pid and, by ``SCM_RIGHTS``, a
pidfd of it: the worker signals and waits for the child through it (the child is the zygote's,
not the worker's, and a pid alone could be reused once it is reaped).

The forked child does what a started query process does (:func:`~citygraph.engine.
query_process.answer_jobs`): the network filter first, then the memory budget, measured from
the child's data segment after the fork (it inherits the zygote's private mappings), then
jobs. It ends soon after *its worker* (it watches the worker's pidfd), not after the zygote: a
zygote that dies leaves its children serving. The zygote forks from its only Python thread (the
engine's reader of the on-disk build leaves idle RocksDB threads behind; the child never
touches RocksDB) and never reads a job. Reading the copy writes to it (Oxigraph's in-memory
store), so a child ends after the reply once it holds more than :data:`OWN_SHARE` of the copy as
its own, and the pool forks a new one.

When a worker's connection closes, the zygote forks no more for it; its busy children finish
their job (the worker stops them at their timeout), unless the worker is gone, in which case
the zygote kills them (no one else would). When its last connection closes it tells the host
(``idle N``, N the connections received so far); the host closes the channel when the build is
no longer wanted, and the zygote ends once its children have.

No web framework is imported here.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from citygraph.allocator import limit_arenas
from citygraph.config import Settings
from citygraph.engine.lanes import in_background_thread, restore_session
from citygraph.engine.query_process import answer_jobs, enter_sandbox
from citygraph.errors import CitygraphError
from citygraph.store import Build, open_build

__all__ = ["MESSAGE", "OWN_FLOOR", "OWN_SHARE", "ForkedProcess", "Zygote", "main", "reap_children"]

#: Bytes of one request or answer on a control socket (they are a few dozen).
MESSAGE = 1024

#: A forked query process ends after a reply once it holds more than this share of the zygote's
#: memory as its own, or :data:`OWN_FLOOR` if more (the pool forks a new one), when the setting
#: ``CITYGRAPH_QUERY_RETIRE_SHARE`` is this value (its default is 0, never: the cost below).
#: Oxigraph's in-memory store writes to what a query reads (a reference count and a lock in each
#: quad's node), so each page of the copy a query touches becomes the child's own: at 1M
#: (docs/performance.md) the bench's query mix left each query process 260 MiB of its own, and
#: one worker's 5 processes held 3.2 copies. With this share, 20 query processes (4 workers)
#: hold at most 0.31 copies beside the zygote's; but the bench's heavy queries ran 3-7x slower.
OWN_SHARE = 1 / 64
#: Bytes a forked query process may hold as its own in any case (a small build's children
#: hold 2-3 MB once started: they must not be forked again after every query).
OWN_FLOOR = 8 << 20

_PAGE = os.sysconf("SC_PAGE_SIZE")

#: prctl(2): the signal the kernel sends this process when its parent ends.
_PR_SET_PDEATHSIG = 1


class ForkedProcess:
    """A query process forked by a zygote, seen from the worker (the part of
    :class:`subprocess.Popen` the pool uses). Its exit status belongs to the zygote: ``wait``
    returns ``None``. Threads may kill and wait for it at once (the pidfd is closed only when
    this object is collected, so no thread ever signals a reused descriptor)."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd = pidfd
        self._reaped = False

    def kill(self) -> None:
        if self._reaped:
            return
        with contextlib.suppress(ProcessLookupError):  # ended already
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the process has ended and its parent has reaped it (its pid is free), or
        raise ``subprocess.TimeoutExpired`` after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._reaped:
            select.select([self._pidfd], [], [], timeout)
        while not self._reaped:
            try:  # signal 0 reaches a zombie, not a reaped process (a pidfd is never reused)
                signal.pidfd_send_signal(self._pidfd, 0)
            except ProcessLookupError:
                self._reaped = True
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"query process {self.pid}", timeout or 0.0)
            time.sleep(0.001)

    def pidfd(self) -> int:
        """A new pidfd of the process (the caller closes it)."""
        return os.dup(self._pidfd)

    def __del__(self) -> None:
        os.close(self._pidfd)


class Zygote:
    """A worker's connection to the machine's zygote of ``build`` (see
    :func:`citygraph.engine.zygote_host.connect`, which makes it)."""

    def __init__(self, build: Build, control: socket.socket) -> None:
        self.build = build
        self._socket = control
        self._lock = threading.Lock()
        #: The zygote's process id, once :meth:`ready` said so (0 before).
        self.pid = 0
        self._pidfd = -1

    def ready(self, timeout: float) -> tuple[str, str]:
        """The zygote's first answer: ``("ready", version)`` or ``("failed", message)``."""
        self._socket.settimeout(timeout)
        try:
            data = self._socket.recv(MESSAGE)
        except TimeoutError:
            return "failed", f"the in-memory copy of the build took more than {timeout:g} s"
        except OSError as error:
            return "failed", f"the zygote ended: {error}"
        finally:
            self._socket.settimeout(None)
        if not data:
            return "failed", "the zygote ended before its copy of the build was ready"
        status, _, text = data.decode("utf-8", "replace").partition(" ")
        if status == "ready":
            text, _, pid = text.partition(" ")
            self.pid = int(pid)
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except ProcessLookupError:
                return "failed", "the zygote ended after its copy of the build was ready"
        return status, text

    def wait(self) -> None:
        """Wait until the zygote has ended (after :meth:`ready` said ``ready``)."""
        if self._pidfd >= 0:
            select.select([self._pidfd], [], [])

    def __del__(self) -> None:
        if self._pidfd >= 0:
            os.close(self._pidfd)

    def fork(
        self, job_read: int, reply_write: int, stderr: int, *, offline: bool, memory: int
    ) -> ForkedProcess:
        """A new query process on the build, with the given pipe ends and stderr.

        Raises:
            OSError: the zygote ended or could not fork.
        """
        request = f"{int(offline)} {memory}".encode()
        with self._lock:  # one request and its answer at a time (threads replace processes)
            socket.send_fds(self._socket, [request], [job_read, reply_write, stderr])
            data, fds, _, _ = socket.recv_fds(self._socket, MESSAGE, 1)
        if not data or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(f"the zygote could not fork a query process: {data.decode() or 'ended'}")
        return ForkedProcess(int(data), fds[0])

    def close(self) -> None:
        """Fork no more on this connection (the zygote ends once no worker needs it and its
        children have ended; a busy child finishes its job)."""
        self._socket.close()


def own_bytes(pid: int | str = "self") -> int:
    """Bytes of memory only ``pid`` holds and wrote (``Private_Dirty``): the zygote's pages it
    copied on writing, and its own allocations."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1]) * 1024
    return 0


class _Retirement:
    """Whether a forked child holds more than ``limit`` bytes of its own (after a reply). A
    minor page fault is the only way a page becomes its own, so ``/proc`` (a walk of every page:
    milliseconds for a large copy) is read only once the faults since the last reading could
    have passed the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.faults = self._faults()
        self.known = own_bytes()

    @staticmethod
    def _faults() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def __call__(self) -> bool:
        faults = self._faults()
        if self.known + (faults - self.faults) * _PAGE <= self.limit:
            return False
        self.faults, self.known = faults, own_bytes()
        return self.known > self.limit


def _child(
    control: socket.socket,
    worker: int,
    fds: list[int],
    store: ox.Store,
    version: str,
    request: bytes,
    share: float,
) -> None:
    """In the forked child: become a query process on ``store`` (then ``os._exit``)."""
    control.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    offline, memory = (int(word) for word in request.split())
    job_read, reply_write, stderr = fds
    os.dup2(stderr, 2)
    os.close(stderr)
    jobs = Connection(job_read, writable=False)
    replies = Connection(reply_write, readable=False)
    if enter_sandbox(replies, offline=bool(offline), worker=worker):
        retire = None
        if share > 0:
            resident = int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE
            retire = _Retirement(max(OWN_FLOOR, int(resident * share)))
        answer_jobs(
            jobs, replies, store, version, memory=memory, offline=bool(offline), retire=retire
        )


def _settle() -> None:
    """Leave the children nothing to copy: what the zygote holds stays shared only as long as no
    one writes to its pages. Measured at 1M triples (docs/performance.md), a child otherwise
    wrote 120 MB of the zygote's heap soon after the fork: Python's collector visits every
    object it tracks (``gc.freeze`` takes them out of its reach), and the allocator writes into
    the free chunks the copying left behind (``malloc_trim`` returns them to the system). With
    both a child holds 3 MB of its own (with one allocator arena: see :func:`serve`)."""
    gc.collect()
    gc.freeze()
    libc = ctypes.util.find_library("c")
    if libc is not None:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)  # glibc only
        if trim is not None:
            trim(0)


#: The zygote's live children (added at fork, removed when reaped).
_children: set[int] = set()


def reap_children() -> Iterator[tuple[int, int]]:
    """Reap every child of this process that has ended: (pid, exit code) of each."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def _reap() -> None:
    for pid, _ in reap_children():
        _children.discard(pid)


def _kill(pids: set[int]) -> None:
    for pid in pids & _children:  # not reaped yet (SIGCHLD is blocked): still this zygote's
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class _Worker:
    """One worker's connection to this zygote."""

    control: socket.socket
    #: A pidfd of the worker: readable once it has ended.
    pidfd: int
    children: set[int] = field(default_factory=set)
    connected: bool = True


class _Zygote:
    """The zygote's loop: the host's channel, the workers' connections, the forks."""

    def __init__(self, channel: socket.socket, build: Build, share: float) -> None:
        self.channel: socket.socket | None = channel
        self.build = build
        #: A child ends after a reply once it holds more than this share as its own (0: never).
        self.share = share
        self.store: ox.Store | None = None
        self.status = ""
        self.received = 0
        self.workers: dict[int, _Worker] = {}

    def load(self) -> None:
        try:
            # The copy in the background (a write's new generation must not take the CPU from
            # the requests the old one serves meanwhile); this thread, which forks, keeps its
            # priority, and its session group is raised back to the worker's once the copy is
            # made, so the fast lane's children start with the worker's.
            self.store = in_background_thread(lambda: open_build(self.build, in_memory=True))
        except CitygraphError as error:
            self.status = f"failed {error}"
            assert self.channel is not None
            self.channel.send(b"failed")  # the host stops handing out this zygote
            return
        _settle()
        restore_session()  # the host lowered it for the copy (zygote_host)
        self.status = f"ready {self.build.version} {os.getpid()}"

    def run(self) -> int:
        while self.channel is not None or self.workers:
            watched: dict[int, _Worker | None] = {}
            if self.channel is not None:
                watched[self.channel.fileno()] = None
            for worker in self.workers.values():
                watched[worker.control.fileno()] = worker
                watched[worker.pidfd] = worker
            readable, _, _ = select.select(list(watched), [], [], 1.0)
            for fd in readable:
                sender = watched[fd]
                if sender is None:
                    if self.channel is not None:
                        self._from_host()
                elif not sender.connected:
                    continue  # dropped earlier in this round
                elif fd == sender.pidfd:  # the worker is gone: no one else would stop these
                    _kill(sender.children)
                    self._drop(sender)
                else:
                    self._from_worker(sender)
        while _children:
            time.sleep(0.2)
            _reap()
        return 0

    def _from_host(self) -> None:
        assert self.channel is not None
        try:
            _, fds, _, _ = socket.recv_fds(self.channel, MESSAGE, 2)
        except OSError:
            fds = []
        if not fds:  # the host is done with this build (or ended)
            self.channel.close()
            self.channel = None
            return
        self.received += 1
        control = socket.socket(fileno=fds[0])
        worker = _Worker(control=control, pidfd=fds[1])
        try:
            control.send(self.status.encode()[:MESSAGE])
        except OSError:
            self._drop(worker)
            return
        if self.store is None:
            self._drop(worker)
            return
        self.workers[control.fileno()] = worker

    def _from_worker(self, worker: _Worker) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(worker.control, MESSAGE, 3)
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self._drop(worker)
            return
        assert self.store is not None
        # A child that ends at once must not be reaped before its pidfd is open.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
        except OSError as error:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            for fd in fds:
                os.close(fd)
            worker.control.send(str(error).encode()[:MESSAGE])
            return
        if pid == 0:
            code = 1
            try:
                for other in self.workers.values():
                    if other is not worker:
                        other.control.close()
                        os.close(other.pidfd)
                if self.channel is not None:
                    self.channel.close()
                store, version = self.store, self.build.version
                _child(worker.control, worker.pidfd, fds, store, version, data, self.share)
                code = 0
            except BaseException:  # noqa: BLE001 - a child must never return to the zygote's loop
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        _children.add(pid)
        worker.children.add(pid)
        pidfd = os.pidfd_open(pid)  # not reaped yet (SIGCHLD is blocked): the pid is this child
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        try:
            socket.send_fds(worker.control, [str(pid).encode()], [pidfd])
        except OSError:
            pass  # the worker went away meanwhile; its connection closes next
        finally:
            os.close(pidfd)

    def _drop(self, worker: _Worker) -> None:
        """Close ``worker``'s connection; tell the host when none is left."""
        self.workers.pop(worker.control.fileno(), None)
        worker.connected = False
        worker.control.close()
        os.close(worker.pidfd)
        if not self.workers and self.channel is not None:
            with contextlib.suppress(OSError):
                self.channel.send(f"idle {self.received}".encode())


def serve(channel: socket.socket, build: Build) -> int:
    """Copy ``build`` into memory, then hand out forks to the workers the host connects."""
    # The engine may leave threads behind (RocksDB's, from reading the build): they inherit
    # SIGCHLD blocked, so that the handler below runs in this thread, which blocks it around fork.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    # citygraph serve checked the settings; the host and this process inherit its environment.
    zygote = _Zygote(channel, build, Settings.from_env().query_retire_share)
    # It runs in a session of its own: if the host dies during the copy (minutes at 1M), nothing
    # else would end it, and a watching thread would not run (the copy holds the GIL). So the
    # kernel kills it if its parent dies meanwhile (the host starts zygotes from its main
    # thread, whose end is the host's: PR_SET_PDEATHSIG fires when the spawning thread ends).
    # After the copy, the host's closed channel ends it (run).
    _kill_with_parent(True)
    # One arena for the C allocator, before the copy: else the copy's threads leave their own
    # arenas, full of free chunks, and a child's first thread is given one of them; its first
    # allocation there sorts those chunks into bins, writing to a page of each. Measured at 1M
    # (docs/performance.md): 37 MiB of the zygote's pages copied into every child as soon as it
    # started its watchdog thread; with one arena, under 1 MiB.
    limit_arenas(1)
    zygote.load()
    _kill_with_parent(False)
    # Reap each child as it ends: the worker waits until its pid is free (ForkedProcess.wait).
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: _reap())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    return zygote.run()


def _kill_with_parent(on: bool) -> None:
    """Have the kernel send this process SIGKILL when its parent ends (``on``), or no longer."""
    libc = ctypes.util.find_library("c")
    if libc is not None:
        signal_number = signal.SIGKILL if on else 0
        ctypes.CDLL(libc, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal_number), 0, 0, 0)


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host decides when the zygote ends
    channel_fd, build_dir, version = argv
    channel = socket.socket(fileno=int(channel_fd))
    return serve(channel, Build(path=Path(build_dir), version=version, metadata={}))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
