"""A client that leaves ends its request to the remote store: the connection is closed.

The SPARQL 1.1 Protocol cannot cancel a query; all citygraph can do for a query whose client went
away (issue 10 on the embedded engine, issue 11 §1 on a remote one) is close its connection to
the store, which also ends the wait for the store's answer at once, and with it the query's
count against the client's share. The embedded pool learns that the client left by looking at
the request's :class:`~citygraph.engine.clients.Presence` while it waits for a query process;
a remote job's thread is blocked reading from the store instead, so :class:`Departures` looks
at the presence of every job in progress from a thread of its own (asking the web layer to
watch the connection once a job has run :data:`~citygraph.engine.clients.WATCH_AFTER`
seconds, then looking every :data:`~citygraph.engine.clients.LOOK_EVERY` seconds, as the
embedded pool does) and, when a client has gone, shuts down the socket that job is reading from
or writing to.

Which socket: the store's client connects through :func:`transport`, whose network streams note,
for each read and write, the socket the job of the running thread (:class:`Watched`, a context
variable) uses. A kept-alive connection serves one job after another, so a job holds its socket
only while it reads or writes on it: a cancellation between two reads leaves the socket alone
and the job's next read, write or connection fails instead.

A store that is streaming stops when the connection closes; one still computing (an aggregate)
goes on until its own timeout (docs/backends.md, "The deadline").
"""

from __future__ import annotations

import contextlib
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from citygraph.engine.clients import WATCH_AFTER, Presence, current_presence

__all__ = ["Departures", "Watched", "transport"]


class Watched:
    """One job whose client is watched: the request's presence, when the job started
    (``time.monotonic()``), whether its connection was closed for it, and the socket it is
    reading from or writing to right now (if any)."""

    __slots__ = ("_lock", "_socket", "cancelled", "presence", "since")

    def __init__(self, presence: Presence, since: float) -> None:
        self.presence = presence
        self.since = since
        #: The client left and the job's connection was (or is to be) closed.
        self.cancelled = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None, error: type[Exception]) -> None:
        """The job is about to read or write on ``sock``; raises ``error`` if it was cancelled."""
        with self._lock:
            if self.cancelled:
                raise error("the client went away: the request to the store was abandoned")
            self._socket = sock

    def detach(self) -> None:
        """The job's read or write has returned."""
        with self._lock:
            self._socket = None

    def cancel(self) -> None:
        """Close the job's connection: the read or write in progress on it ends at once."""
        with self._lock:
            self.cancelled = True
            if self._socket is not None:
                # The base class's shutdown: an SSLSocket's own first drops its TLS state,
                # which the thread reading from it still uses. Shut down, not closed: the
                # descriptor stays the connection's, which httpcore closes as it fails.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)


#: The watched job of the thread that runs it (None: a job no client waits for).
_JOB: ContextVar[Watched | None] = ContextVar("citygraph_remote_job", default=None)


class Departures:
    """The jobs of one remote pool whose clients are watched, and the thread that watches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: set[Watched] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf
        self._closed = False

    @contextlib.contextmanager
    def watching(self) -> Iterator[Watched | None]:
        """Watch the client of the current request (:func:`current_presence`) while the block
        runs a job in this thread; yields the :class:`Watched` job, or None outside a request."""
        presence = current_presence()
        if presence is None:
            yield None
            return
        job = Watched(presence, time.monotonic())
        with self._cond:
            self._jobs.add(job)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._watch, name="citygraph-remote-departures", daemon=True
                )
                self._thread.start()
            elif job.since + WATCH_AFTER < self._wake_at:
                self._cond.notify()
        token = _JOB.set(job)
        try:
            yield job
        finally:
            _JOB.reset(token)
            with self._cond:
                self._jobs.discard(job)

    def close(self) -> None:
        """Stop watching (the pool is closing)."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                wait = math.inf
                for job in list(self._jobs):
                    if job.presence.gone:
                        job.cancel()
                        self._jobs.discard(job)
                    else:
                        wait = min(wait, job.presence.pace(since=job.since, now=now))
                self._wake_at = now + wait
                self._cond.wait(None if wait == math.inf else wait)


def transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """An HTTP transport as httpx makes by default, whose connections a :class:`Departures`
    can close."""
    made = httpx.HTTPTransport(limits=limits)
    # httpx takes no network backend (encode/httpx#3180, PR #3749): its pool is replaced by
    # the one it would have made, with this module's backend.
    made._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return made


def _job_for_connect() -> None:
    job = _JOB.get()
    if job is not None:
        job.attach(None, httpcore.ConnectError)
        job.detach()


class _Backend(httpcore.NetworkBackend):
    """httpcore's own blocking backend, whose streams note the socket each job uses."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        _job_for_connect()  # a job whose client left opens no new connection
        return _Stream(
            self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        _job_for_connect()
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        job = _JOB.get()
        if job is None:
            return self._stream.read(max_bytes, timeout)
        job.attach(self._socket, httpcore.ReadError)
        try:
            return self._stream.read(max_bytes, timeout)
        finally:
            job.detach()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        job = _JOB.get()
        if job is None:
            self._stream.write(buffer, timeout)
            return
        job.attach(self._socket, httpcore.WriteError)
        try:
            self._stream.write(buffer, timeout)
        finally:
            job.detach()

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
