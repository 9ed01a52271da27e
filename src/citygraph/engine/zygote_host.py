"""The machine's zygotes: one in-memory copy of a build for all the server workers (issue 10 §2).

``citygraph serve`` starts one host (``python -m citygraph.engine.zygote_host LISTEN_FD
STORE_DIR GRACE PARENT``) before its workers; a pool started without one (a test, a bench, ``serve
--get``) starts its own. The host listens on a Unix socket (``SOCK_SEQPACKET``, in a private
directory); a worker that wants the in-memory copy of a build connects and sends ``BUILD_DIR``
and ``VERSION`` (:func:`connect`). The host starts the build's
:mod:`~citygraph.engine.zygote` if none holds it yet and hands it the worker's connection and a
pidfd of the worker (``SO_PEERCRED``) by ``SCM_RIGHTS``: from then on the worker talks to the
zygote directly on that socket. So every worker's query processes are forked from the same
zygote, and the machine holds one copy of each build in use, whatever ``--workers``.

When to copy. At start the host copies the current build at once (before any worker asks), so
that it is ready as early as possible. A new build is copied only once no other zygote is alive
(the old copy is gone: its workers switched to the new build and its last busy child ended), or
``GRACE`` seconds after the first worker asked for it (a worker that gets no request does not
notice the new build, and keeps the old zygote alive): so a switch holds two copies at most for
that grace, not for the whole copy. A worker that waits for the copy before it serves the build
(a small build, :data:`~citygraph.engine.generations.COPY_FIRST`) asks to copy at once (not
``patient``). Meanwhile the workers answer from the on-disk build
(:mod:`citygraph.engine.generations`). A zygote whose workers have all left (``idle N`` on its
channel, N the connections handed to it) is ended when its build is no longer the current one
(checked again every second).

The host is the subreaper of what it starts: the children of a zygote that died are reparented
to it, and it reaps them. It ends with its parent (the serve command or the pool's worker) or on
``SIGTERM``; closing the zygotes' channels lets each end once its workers and children have.

No web framework is imported here.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from citygraph.engine.builds import CurrentLink
from citygraph.engine.lanes import lower_session
from citygraph.engine.zygote import MESSAGE, Zygote, reap_children
from citygraph.store import Build

__all__ = ["GRACE", "ZygoteHost", "connect", "main"]

#: Seconds a new build's copy waits for the old copies to end, by default (a pool's own host;
#: ``citygraph serve`` gives its host the query timeout plus the version check interval and 10 s).
GRACE = 60.0

_PR_SET_CHILD_SUBREAPER = 36


def connect(path: Path, build: Build, *, patient: bool) -> Zygote:
    """A connection to the machine's zygote of ``build`` through the host listening at ``path``
    (see :meth:`Zygote.ready` for its first answer). ``patient``: a new copy may wait until the
    old ones are gone (the caller serves the build on disk meanwhile).

    Raises:
        OSError: the host is not there.
    """
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        control.connect(str(path))
        control.send(f"{build.path}\n{build.version}\n{int(patient)}".encode())
    except BaseException:
        control.close()
        raise
    return Zygote(build, control)


class ZygoteHost:
    """A host process started by this one, for the store directory ``root``."""

    def __init__(self, root: Path, *, grace: float) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="citygraph-zygotes-"))  # mode 0700
        self.path = self._directory / "host.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(str(self.path))
            listener.listen(64)
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "citygraph.engine.zygote_host",
                    str(listener.fileno()),
                    str(root),
                    str(grace),
                    str(os.getpid()),
                ],
                pass_fds=(listener.fileno(),),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except BaseException:
            shutil.rmtree(self._directory, ignore_errors=True)
            raise
        finally:
            listener.close()

    def close(self) -> None:
        """End the host (its zygotes end once their workers and children have)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)


@dataclass
class _Copy:
    """A zygote started by the host."""

    version: str
    process: subprocess.Popen[bytes]
    channel: socket.socket
    #: Worker connections handed to it so far.
    handed: int = 0
    #: It said that no worker is connected (and none was handed to it since).
    idle: bool = False
    #: Still handed to workers asking for its build (else it is ending).
    serving: bool = True
    #: The zygote has not closed its end of the channel yet.
    talking: bool = True


@dataclass
class _Request:
    build: Build
    control: socket.socket
    pidfd: int
    patient: bool


@dataclass
class _Host:
    listener: socket.socket
    root: Path
    grace: float
    copies: list[_Copy] = field(default_factory=list)
    #: Requests for a build whose copy waits until the others are gone, and since when.
    waiting: dict[str, list[_Request]] = field(default_factory=dict)
    since: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.link = CurrentLink(self.root)

    def run(self, parent: int) -> None:
        self._prestart()
        while os.getppid() == parent:
            channels = {c.channel.fileno(): c for c in self.copies if c.talking}
            listener = self.listener.fileno()
            readable, _, _ = select.select([listener, *channels], [], [], 1.0)
            for fd in readable:
                if fd == listener:
                    self._accept()
                else:
                    self._from_zygote(channels[fd])
            self._sweep()
            _reap(self.copies)
        self.close()

    def close(self) -> None:
        for copy in self.copies:
            if copy.talking:
                copy.channel.close()
        for requests in self.waiting.values():
            for request in requests:
                request.control.close()
                os.close(request.pidfd)

    def _prestart(self) -> None:
        """Copy the current build before any worker asks for it."""
        version = self.link.read()
        if version:
            path = self.root / "builds" / version
            self._start(Build(path=path, version=version, metadata={}))

    def _accept(self) -> None:
        control, _ = self.listener.accept()
        try:
            control.settimeout(5.0)
            data = control.recv(MESSAGE)
            control.settimeout(None)
            credentials = control.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
            )
            pid, _, _ = struct.unpack("3i", credentials)
            pidfd = os.pidfd_open(pid)
        except OSError:
            control.close()
            return
        path, _, rest = data.decode("utf-8", "replace").partition("\n")
        version, _, patient = rest.partition("\n")
        build = Build(path=Path(path), version=version, metadata={})
        self._request(_Request(build, control, pidfd, patient=patient == "1"))

    def _request(self, request: _Request) -> None:
        version = request.build.version
        for copy in self.copies:
            if copy.serving and copy.version == version:
                self._hand(copy, request)
                return
        self.waiting.setdefault(version, []).append(request)
        self.since.setdefault(version, time.monotonic())
        self._sweep()

    def _hand(self, copy: _Copy, request: _Request) -> None:
        try:
            socket.send_fds(copy.channel, [b"worker"], [request.control.fileno(), request.pidfd])
        except OSError:
            copy.serving = False  # it ended: the request waits for a new copy
            self.waiting.setdefault(copy.version, []).append(request)
            self.since.setdefault(copy.version, time.monotonic())
            return
        copy.handed += 1
        copy.idle = False
        request.control.close()
        os.close(request.pidfd)

    def _from_zygote(self, copy: _Copy) -> None:
        try:
            data = copy.channel.recv(MESSAGE)
        except OSError:
            data = b""
        if not data:  # it ended, or ends once its workers and children have (then it is reaped)
            self._retire(copy)
            copy.talking = False
            copy.channel.close()
            return
        word, _, count = data.decode().partition(" ")
        if word == "failed":  # it could not copy the build: it answers the workers so
            self._retire(copy)
        elif word == "idle" and int(count) == copy.handed:
            copy.idle = True

    def _sweep(self) -> None:
        current = self.link.read()
        for copy in self.copies:
            if copy.serving and copy.idle and copy.version != current:
                self._retire(copy)
        now = time.monotonic()
        for version, requests in list(self.waiting.items()):
            others = any(c.version != version for c in self.copies)
            patient = all(request.patient for request in requests)
            if others and patient and now - self.since[version] < self.grace:
                continue
            del self.waiting[version]
            del self.since[version]
            copy = self._start(requests[0].build)
            for request in requests:
                self._hand(copy, request)

    def _start(self, build: Build) -> _Copy:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = subprocess.Popen(
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
                start_new_session=True,  # its copy of the build in the background
            )
        finally:
            theirs.close()
        lower_session(process.pid)  # for its copy; it restores it when ready (zygote.py)
        copy = _Copy(version=build.version, process=process, channel=ours)
        self.copies.append(copy)
        return copy

    def _retire(self, copy: _Copy) -> None:
        """Hand ``copy`` out no more; it ends once its workers and children have."""
        if copy.serving and copy.talking:
            with contextlib.suppress(OSError):
                copy.channel.shutdown(socket.SHUT_WR)  # the zygote reads the end of its channel
        copy.serving = False


def _reap(copies: list[_Copy]) -> None:
    """Reap ended zygotes and the orphaned query processes reparented to this subreaper."""
    for pid, code in reap_children():
        for copy in copies:
            if copy.process.pid == pid:
                copy.process.returncode = code
                if copy.talking:
                    copy.talking = False
                    copy.channel.close()
                copies.remove(copy)
                break


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # its parent decides when it ends
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    listen_fd, root, grace, parent = argv
    libc = ctypes.util.find_library("c")
    if libc is not None:
        ctypes.CDLL(libc).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    host = _Host(socket.socket(fileno=int(listen_fd)), Path(root), float(grace))
    try:
        host.run(int(parent))  # ends at once if the parent ended before it started
    finally:
        with contextlib.suppress(Exception):
            host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
