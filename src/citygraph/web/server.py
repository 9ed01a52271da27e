"""The HTTP protocol class ``citygraph serve`` gives uvicorn: h11 with ``TCP_NODELAY`` and a
deadline for request headers. The bound on a request's head is h11's own
(``h11_max_incomplete_event_size``, set by :func:`~citygraph.cli_serve.uvicorn_options`): one
parser, one gate.

**h11, not httptools.** httptools (llhttp, in C) cost the worker less CPU per small request
(measured 0.79 → 0.59 ms, medians, ``docs/performance.md``), but llhttp does not bound a request's
head, and counting head bytes by hand around it is a second gate that must agree with the parser:
a review found it did not (chunked trailers unbounded, an early 413's unread body taken for the
next head, a pipelined head closing a connection mid-response).

**``TCP_NODELAY``.** With ``--workers N`` uvicorn binds the listening socket itself
(``socket.socket()``, protocol number 0), and asyncio only sets ``TCP_NODELAY`` on connections of
sockets whose protocol is ``IPPROTO_TCP``. Without it, Nagle's algorithm meets the client's
delayed ACK and every response written in two parts (head, body) waits about 40 ms: measured
here, 45 ms per request at concurrency 1 with two workers, 0.7 ms with this class. (uvicorn 0.55,
installed now, binds with ``IPPROTO_TCP``, so asyncio sets the option too; the class keeps it
independent of that.)

**A deadline for the headers.** uvicorn's h11 protocol has no deadline for a request's headers:
its keep-alive timer runs only between requests, and any byte received cancels it, so a client
that opens a connection and sends a header line now and then (slowloris) holds the connection for
ever. Here each request's headers must be complete within ``CITYGRAPH_HEADER_TIMEOUT`` seconds of
the connection being made or of the previous response; else the connection is closed. Bytes
arriving meanwhile do not extend the deadline.

**A response before the request's end: a lingering close.** A route may answer before it has
read the body: 413 for a ``Content-Length`` over ``CITYGRAPH_MAX_UPLOAD_BYTES``. (uvicorn's 400
for a head h11 refuses, malformed or over the bound, is also sent while the client may still be
sending it; its connection is closed the same way, below.) uvicorn then
reads and discards the rest of the body to keep the connection, however long the client takes to
send it; a client that stops sending when it reads the 413 waits for nothing, but a naive one
sends all of it, and the connection stays open as long. Here such a response says
``Connection: close``, and once it is written the connection is closed in stages (RFC 9112
§9.6): first the write side (the client reads the response and then the end of the connection),
then, after reading and discarding what the client still sends, the whole. Closing at once
instead would make the kernel answer the client's next bytes with a reset, which may erase the
response before the client has read it. The reading ends when the client closes its side, after
:data:`LINGER_IDLE` seconds without a byte, :data:`LINGER_TIME` seconds in all (nginx's
``lingering_timeout`` and ``lingering_time``), or ``CITYGRAPH_MAX_UPLOAD_BYTES`` bytes read (as
much as one request may carry), whichever comes first.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any, cast

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.flow_control import CLOSE_HEADER
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from citygraph.config import Settings
from citygraph.web.forked_workers import ForkedWorker, preload
from citygraph.web.listening import bind_worker_sockets

__all__ = [
    "LINGER_IDLE",
    "LINGER_TIME",
    "NoDelayH11Protocol",
    "disable_nagle",
    "run_workers",
]

_logger = logging.getLogger("uvicorn.error")

#: Seconds without a byte from the client after which a lingering close ends (nginx's default
#: ``lingering_timeout``).
LINGER_IDLE = 5.0
#: Seconds a lingering close reads what the client still sends, at most (nginx's default
#: ``lingering_time``).
LINGER_TIME = 30.0


#: The client's states (h11) in which it may still be sending when the connection is closed: a
#: request's body not read (a response sent before it), or bytes h11 refused (uvicorn's 400 for
#: a malformed or too long head, which may still be coming).
_STILL_SENDING = (h11.SEND_BODY, h11.ERROR)


def disable_nagle(transport: asyncio.BaseTransport) -> None:
    """Set ``TCP_NODELAY`` on the transport's socket, if it is a TCP socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@functools.cache
def _settings() -> Settings:
    # Read once per worker process: uvicorn builds this class itself, with no way to pass it
    # settings, and the worker's environment holds them (see hand_on_to_child_processes).
    return Settings.from_env()


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that turns Nagle's algorithm off for every connection, closes
    connections whose request headers do not arrive within the header timeout, and closes a
    connection in stages after a response sent before the request was read whole (an early 413,
    a 400 for a head it refuses)."""

    _header_timer: asyncio.TimerHandle | None = None
    _linger_timer: asyncio.TimerHandle | None = None
    _lingering = False
    _linger_end = 0.0
    _linger_last = 0.0
    _linger_read = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = functools.partial(self._run_app, self.app)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        disable_nagle(transport)
        self._socket_transport = cast(asyncio.Transport, transport)
        # uvicorn closes the connection through this transport once a response that ends it is
        # written: its close() is where a lingering close begins.
        super().connection_made(cast(asyncio.Transport, _LingeringTransport(transport, self)))
        self._start_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._linger_read += len(data)  # the unwanted body: read, counted, dropped
            self._linger_last = self.loop.time()
            if self._linger_read > _settings().max_upload_bytes:
                self._socket_transport.close()
            return
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._header_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    async def _run_app(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app. A response's head is written together with its body (or first part),
        in one write: a server killed between the two would leave a load balancer holding a
        head it has passed on, and no way to retry the request elsewhere (a client of
        tests/test_replicas.py got a head and no body once). A response the app starts before
        the request's body is all received says ``Connection: close`` (the rest of the body
        will not be read as a request)."""
        transport = cast(_LingeringTransport, self.transport)

        async def send_whole(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                if self.conn.their_state is h11.SEND_BODY:
                    headers = list(message.get("headers", ()))
                    if CLOSE_HEADER not in headers:
                        message = {**message, "headers": [*headers, CLOSE_HEADER]}
                transport.hold()
                await send(message)
            elif kind == "http.response.body":
                try:
                    await send(message)
                finally:
                    transport.release()
            else:
                await send(message)

        await app(scope, receive, send_whole)

    def _close(self) -> None:
        """Close the connection: at once, unless the client may still be sending (the request's
        body, or a head uvicorn answered with 400); then half-close and linger (RFC 9112 §9.6;
        see the module's docstring)."""
        transport = self._socket_transport
        if (
            self._lingering
            or transport.is_closing()
            or self.conn.their_state not in _STILL_SENDING
            or not transport.can_write_eof()  # TLS: no half-close
        ):
            transport.close()
            return
        self._lingering = True
        now = self.loop.time()
        self._linger_end = now + LINGER_TIME
        self._linger_last = now
        transport.write_eof()  # a FIN after the response's last byte
        transport.resume_reading()  # uvicorn paused reading while the body went unread
        self._linger_timer = self.loop.call_later(LINGER_IDLE, self._linger_due)

    def _linger_due(self) -> None:
        now = self.loop.time()
        due = min(self._linger_last + LINGER_IDLE, self._linger_end)
        if now >= due:
            self._linger_timer = None
            self._socket_transport.close()
        else:
            self._linger_timer = self.loop.call_later(due - now, self._linger_due)

    def _start_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(_settings().header_timeout, self._headers_due)

    def _headers_due(self) -> None:
        """Close the connection if the request's headers are still incomplete (h11 leaves the
        client's state at IDLE until it has parsed the whole head)."""
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: the socket's, but ``close()`` is the
    protocol's (which may linger), the connection counts as closing while it lingers, and
    what is written between :meth:`hold` and :meth:`release` goes out in one write."""

    def __init__(self, transport: asyncio.BaseTransport, protocol: NoDelayH11Protocol) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._protocol = protocol
        self._held: list[bytes] | None = None

    def hold(self) -> None:
        """Keep what is written from now on until :meth:`release`."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Write what was kept, in one write."""
        held, self._held = self._held, None
        if held:
            self._transport.write(b"".join(held))

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is not None:
            self._held.append(bytes(data))
        else:
            self._transport.write(data)

    def close(self) -> None:
        self.release()  # a response that ends the connection is closed inside its last send
        self._protocol._close()

    def is_closing(self) -> bool:
        return self._protocol._lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


# --- Workers: one listening socket each ------------------------------------------------------


def run_workers(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """``uvicorn.run(app, factory=True, ...)``, but with more than one worker (on Linux) each
    worker accepts connections on a listening socket of its own.

    Why: uvicorn's workers share one listening socket, and asyncio accepts every pending
    connection at each wake-up, so the worker that wakes first takes a whole burst of new
    connections; a client that keeps its connections alive (``wrk``, a pool) then loads one
    worker while the other idles (measured: in 5 rounds of 6, wrk's 8 connections all in one
    worker, ``docs/performance.md`` hot spot 2). With ``SO_REUSEPORT`` the kernel gives each new
    connection to one of the sockets by a hash of its addresses and ports, so connections spread
    over the workers whatever their timing.

    One worker is served in this process, on such a socket with the same lock and refusals.

    What stays: the port is bound (and listened on) by this process before any worker starts,
    so port 0 gets one port for all workers; a worker that dies is replaced on its own socket
    (connections the kernel gave that socket meanwhile wait in its queue, none is refused); and
    the port is refused, :class:`~citygraph.web.listening.PortInUseError`, when anything
    listens on it already, a second ``citygraph serve`` included
    (:func:`~citygraph.web.listening.bind_worker_sockets`); a host that does not resolve, or an
    address this machine does not have, is :class:`~citygraph.web.listening.ListenError`.

    The trade-off: the kernel hashes a connection to a socket without asking whether a worker
    accepts on it, so while a worker is dead (until its replacement has started) or still
    starting, the connections hashed to its socket wait in that socket's queue (each new one
    with a chance of 1 in N) rather than going to another worker. A replacement is logged
    with its socket's number.

    The workers are forked from this process, not spawned (uvicorn's way): it imports the app's
    modules first and freezes its objects out of the collector's reach (``gc.freeze()``), so
    every worker shares those pages copy-on-write instead of holding an interpreter and imports
    of its own (issue 10 §2, :mod:`~citygraph.web.forked_workers`).
    """
    import uvicorn

    if not hasattr(socket, "SO_REUSEPORT") or sys.platform != "linux":
        # (elsewhere SO_REUSEPORT does not spread connections: uvicorn's shared socket)
        uvicorn.run(app, factory=True, host=host, port=port, workers=workers, **options)
        return
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, **options)
    lock, sockets = bind_worker_sockets(host, port, workers, backlog=config.backlog)
    bound = sockets[0].getsockname()
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)%s",
        f"[{bound[0]}]" if ":" in bound[0] else bound[0],
        bound[1],
        ", one socket per worker" if workers > 1 else "",
    )
    if workers == 1:
        # The same lock and refusals (exit 2, before the app starts), served in this process;
        # uvicorn.run's exit 3 when the app's start-up fails.
        server = uvicorn.Server(config)
        with lock:
            try:
                server.run(sockets=sockets)
            except KeyboardInterrupt:
                pass
            finally:
                for sock in sockets:
                    sock.close()
        if not server.started:
            sys.exit(3)
        return
    preload(config)
    with lock:
        try:
            _SocketPerWorker(config, sockets, lock).run()
        finally:
            for sock in sockets:
                sock.close()


class _SocketPerWorker(Multiprocess):
    """uvicorn's supervisor of worker processes, with worker ``i`` on socket ``i``: started,
    replaced when it dies, restarted on SIGHUP; each forked (:class:`ForkedWorker`). (SIGTTIN and
    SIGTTOU, which add and remove workers, are declined: the sockets are bound once.)"""

    def __init__(self, config: Any, sockets: list[socket.socket], lock: socket.socket) -> None:
        super().__init__(config, sockets)
        self.worker_sockets = sockets
        self.lock = lock

    def _worker(self, idx: int) -> Process:
        """A new worker for socket ``idx`` (not started)."""
        inherited: list[socket.socket | Connection] = [self.lock]
        inherited += [s for i, s in enumerate(self.worker_sockets) if i != idx]
        for other in self.processes:
            inherited += [other.parent_conn, other.child_conn]
        return ForkedWorker(self.config, [self.worker_sockets[idx]], inherited)

    def init_processes(self) -> None:
        for idx in range(len(self.worker_sockets)):
            process = self._worker(idx)
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        # uvicorn 0.55's Multiprocess.keep_subprocess_alive, each worker on its own socket
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: killed; dead: nothing
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                _logger.error(f"Child process [{process.pid}] failed to start, stopping.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            dead = process.pid
            process = self._worker(idx)
            process.start()
            self.processes[idx] = process
            self._log_replacement(f"Child process [{dead}] died", process, idx)

    def restart_all(self) -> None:
        # uvicorn 0.55's Multiprocess.restart_all, each worker on its own socket
        for idx, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._worker(idx)
            new_process.start()
            timeout = self.config.timeout_worker_healthcheck
            if not new_process.wait_until_ready(timeout, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    _logger.error(
                        f"New child process [{new_process.pid}] was not ready in time; "
                        f"keeping worker [{old_process.pid}] and aborting the restart."
                    )
                return
            old_process.terminate()
            old_process.join()
            self.processes[idx] = new_process
            self._log_replacement(f"Child process [{old_process.pid}] restarted", new_process, idx)

    def _log_replacement(self, what: str, process: Process, idx: int) -> None:
        """Say which listening socket a new worker took: connections the kernel hashed to that
        socket waited in its queue while it had no worker (docs/endpoint.md)."""
        _logger.info(
            "%s; child process [%s] now serves listening socket %d of %d (fd %d)",
            what,
            process.pid,
            idx + 1,
            len(self.worker_sockets),
            self.worker_sockets[idx].fileno(),
        )

    def handle_ttin(self) -> None:
        _logger.info("Received SIGTTIN: the number of workers is fixed (a socket per worker).")

    def handle_ttou(self) -> None:
        _logger.info("Received SIGTTOU: the number of workers is fixed (a socket per worker).")
