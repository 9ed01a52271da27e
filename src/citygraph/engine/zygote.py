"""The zygote: one in-memory copy of a build, from which query processes are forked.

Copying a build into memory takes seconds at 100k triples and minutes at 1M, and each copy
holds the whole build. A server worker therefore starts one zygote per build (``python -m
citygraph.engine.zygote CONTROL_FD BUILD_DIR VERSION``): it copies the build into memory once,
answers ``("ready", version)`` or ``("failed", message)`` on its control socket, then, for each
request, forks a query process. The children share the store's pages with the zygote
(copy-on-write: a query reads them, it does not write them), so a new query process costs a
fork, not a copy, and the pool's memory is about one copy of the build.

A request is one message on the control socket (a ``SOCK_SEQPACKET`` pair) carrying ``OFFLINE
MEMORY`` and, by ``SCM_RIGHTS``, three file descriptors: the job pipe's read end, the reply
pipe's write end and the file for the child's stderr. The answer carries the child's pid and,
by ``SCM_RIGHTS``, a pidfd of it: the worker signals and waits for the child through it (the
child is the zygote's, not the worker's, and a pid alone could be reused once it is reaped).

The forked child does what a started query process does (:func:`~citygraph.web.
query_process.answer_jobs`): the network filter first, then the memory budget, measured from
the child's data segment after the fork (it inherits the zygote's private mappings), then
jobs. The zygote forks from its only Python thread (the engine's reader of the on-disk build
leaves idle RocksDB threads behind; the child never touches RocksDB) and never reads a job.
When its control socket closes (the worker closed it at a switch, or ended), it forks no more
and ends once its children have; if the worker is gone, it kills them first (no one else would
stop a busy one at its timeout).

No web framework is imported here.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from citygraph.engine.lanes import in_background_thread, lower_session
from citygraph.engine.query_process import answer_jobs, enter_sandbox
from citygraph.errors import CitygraphError
from citygraph.store import Build, open_build

__all__ = ["ForkedProcess", "Zygote", "main"]

#: Bytes of one request or answer on the control socket (they are a few dozen).
_MESSAGE = 256


class ForkedProcess:
    """A query process forked by a zygote, seen from the worker (the part of
    :class:`subprocess.Popen` the pool uses). Its exit status belongs to the zygote: ``wait``
    returns ``None``."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd = pidfd

    def kill(self) -> None:
        if self._pidfd < 0:
            return  # waited for: ended
        with contextlib.suppress(ProcessLookupError):  # ended already
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the process has ended and the zygote has reaped it (its pid is free), or
        raise ``subprocess.TimeoutExpired`` after ``timeout``."""
        if self._pidfd < 0:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        ended, _, _ = select.select([self._pidfd], [], [], timeout)
        waiting = bool(ended)
        while waiting:
            try:  # signal 0 reaches a zombie, not a reaped process (a pidfd is never reused)
                signal.pidfd_send_signal(self._pidfd, 0)
            except ProcessLookupError:
                os.close(self._pidfd)
                self._pidfd = -1
                return
            waiting = deadline is None or time.monotonic() < deadline
            time.sleep(0.001)
        raise subprocess.TimeoutExpired(f"query process {self.pid}", timeout or 0.0)


class Zygote:
    """The worker's handle of a zygote process holding ``build`` in memory."""

    def __init__(self, build: Build) -> None:
        """Start the zygote (it copies the build into memory meanwhile; see :meth:`ready`)."""
        self.build = build
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "citygraph.engine.zygote",
                    str(theirs.fileno()),
                    str(build.path),
                    build.version,
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                close_fds=True,
                start_new_session=True,  # its copy of the build in the background (below)
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        lower_session(self.process.pid)  # its children start sessions of their own
        self._socket = ours
        self._lock = threading.Lock()

    def ready(self, timeout: float) -> tuple[str, str]:
        """The zygote's first answer: ``("ready", version)`` or ``("failed", message)``."""
        self._socket.settimeout(timeout)
        try:
            data = self._socket.recv(_MESSAGE)
        except TimeoutError:
            return "failed", f"the in-memory copy of the build took more than {timeout:g} s"
        except OSError as error:
            return "failed", f"the zygote ended: {error}"
        finally:
            self._socket.settimeout(None)
        if not data:
            return "failed", "the zygote ended before its copy of the build was ready"
        status, _, text = data.decode("utf-8", "replace").partition(" ")
        return status, text

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
            data, fds, _, _ = socket.recv_fds(self._socket, _MESSAGE, 1)
        if not data or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(f"the zygote could not fork a query process: {data.decode() or 'ended'}")
        return ForkedProcess(int(data), fds[0])

    def close(self) -> None:
        """Let the zygote end: it forks no more and ends once its children have (a busy one
        finishes its job). Does not wait (a thread reaps it)."""
        self._socket.close()
        threading.Thread(target=self.process.wait, name="citygraph-zygote", daemon=True).start()


def _child(
    control: socket.socket, fds: list[int], store: ox.Store, version: str, request: bytes
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
    if enter_sandbox(replies, offline=bool(offline)):
        answer_jobs(jobs, replies, store, version, memory=memory, offline=bool(offline))


def _settle() -> None:
    """Leave the children nothing to copy: what the zygote holds stays shared only as long as no
    one writes to its pages. Measured at 1M triples (docs/performance.md), a child otherwise
    wrote 120 MB of the zygote's heap soon after the fork: Python's collector visits every
    object it tracks (``gc.freeze`` takes them out of its reach), and the allocator writes into
    the free chunks the copying left behind (``malloc_trim`` returns them to the system). With
    both a child holds 3 MB of its own."""
    gc.collect()
    gc.freeze()
    libc = ctypes.util.find_library("c")
    if libc is not None:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)  # glibc only
        if trim is not None:
            trim(0)


#: The zygote's live children (added at fork, removed when reaped).
_children: set[int] = set()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _children.discard(pid)


def _outlive_children(worker: int) -> int:
    """Wait until every child has ended (the build's pages stay shared until then), then 0.

    While the worker lives it ends its busy children itself (at their timeout); once it is gone
    (``worker`` is no longer the parent), no one would, so the zygote kills them."""
    while _children:
        if os.getppid() != worker:
            for pid in list(_children):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # not reaped yet: still this zygote's child
        time.sleep(0.2)
        _reap()
    return 0


def serve(control: socket.socket, build: Build) -> int:
    """Copy ``build`` into memory, say so on ``control``, then fork on request until it closes."""
    # The engine may leave threads behind (RocksDB's, from reading the build): they inherit
    # SIGCHLD blocked, so that the handler below runs in this thread, which blocks it around fork.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    worker = os.getppid()
    try:
        # The copy in the background (a write's new generation must not take the CPU from
        # the requests the old one serves meanwhile); this thread, which forks, keeps its
        # priority, so the fast lane's children start with the worker's.
        store = in_background_thread(lambda: open_build(build, in_memory=True))
    except CitygraphError as error:
        control.send(f"failed {error}".encode()[:_MESSAGE])
        return 1
    _settle()
    # Reap each child as it ends: the worker waits until its pid is free (ForkedProcess.wait).
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: _reap())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    control.send(f"ready {build.version}".encode())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, _MESSAGE, 3)
        except OSError:
            return _outlive_children(worker)
        if not data:
            return _outlive_children(worker)
        # A child that ends at once must not be reaped before its pidfd is open.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
        except OSError as error:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            for fd in fds:
                os.close(fd)
            control.send(str(error).encode()[:_MESSAGE])
            continue
        if pid == 0:
            code = 1
            try:
                _child(control, fds, store, build.version, data)
                code = 0
            except BaseException:  # noqa: BLE001 - a child must never return to the zygote's loop
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        _children.add(pid)
        # Not reaped yet (SIGCHLD is blocked): the pid is still this child.
        pidfd = os.pidfd_open(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        try:
            socket.send_fds(control, [str(pid).encode()], [pidfd])
        finally:
            os.close(pidfd)


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when the zygote ends
    control_fd, build_dir, version = argv
    control = socket.socket(fileno=int(control_fd))
    return serve(control, Build(path=Path(build_dir), version=version, metadata={}))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
