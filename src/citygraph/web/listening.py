"""Listening sockets for ``citygraph serve``: one per worker on one port (``SO_REUSEPORT``
when more than one), the port's lock against a second ``serve``, and what a refused bind says
(:mod:`citygraph.web.server` serves on them)."""

from __future__ import annotations

import errno
import socket
from typing import Any

from citygraph.errors import CitygraphError

__all__ = ["ListenError", "PortInUseError", "bind_worker_sockets"]


class ListenError(CitygraphError):
    """``serve`` cannot listen on the address it was asked for (a host that does not resolve,
    an address not of this machine, a port it may not bind)."""


class PortInUseError(ListenError):
    """The port ``serve`` was asked to listen on is held by another program, or by another
    ``citygraph serve``."""


def bind_worker_sockets(
    host: str, port: int, count: int, *, backlog: int = 2048
) -> tuple[socket.socket, list[socket.socket]]:
    """``count`` listening sockets on ``host:port`` that share it (``SO_REUSEPORT``, when more
    than one), and the lock that keeps another ``citygraph serve`` from joining them; port 0: a
    free port. An IPv6 socket is IPv6 only (``IPV6_V6ONLY``), as uvicorn binds it.

    ``host`` is resolved once (:func:`_resolve`), and every socket is bound to the address and
    port the first one got: all on one address, and port 0's port for all.

    ``SO_REUSEPORT`` lets any socket of the same user that sets it join the port, so it is set
    only after a check that nothing listens there: a socket without it is bound first, which
    the kernel refuses while anything listens on the port (another program, or the sockets of
    another ``citygraph serve``) or holds it bound without ``SO_REUSEADDR``. Two ``serve``
    started at the same moment could both pass that check before either listens: an abstract
    Unix socket named after the port (Linux; released by the kernel when this process ends,
    however it ends) is taken first, and the second ``serve`` is refused there, whatever host
    each was given (one ``citygraph serve`` per port per machine). A program of the same user
    that sets ``SO_REUSEPORT`` itself can still join a listening port: the kernel allows it by
    design, and only such a program asks for it.
    """
    family, address = _resolve(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no holder
        try:
            probe.bind(address)
        except OSError as error:
            raise _bind_error(host, port, error) from None
        address = probe.getsockname()  # the port, when 0 was asked for
        port = address[1]
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind(f"\0citygraph-serve port {port}")
        except OSError as error:
            lock.close()
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"cannot listen on {host}:{port}: another citygraph serve is starting on "
                    "this port"
                ) from None
            raise ListenError(
                f"cannot take citygraph serve's lock for port {port}: {error}"
            ) from None
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:  # one socket shares the port with nobody
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # IPv6 only, as uvicorn binds it
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)  # at once: from now on a probe like ours is refused
            sock.set_inheritable(True)
    except OSError as error:
        for sock in sockets:
            sock.close()
        lock.close()
        raise _bind_error(host, port, error) from None
    return lock, sockets


def _resolve(host: str, port: int) -> tuple[socket.AddressFamily, Any]:
    """The family and socket address ``serve`` listens on for ``host``: its IPv4 address if it
    has one, else its first IPv6 address (uvicorn binds every address of a name)."""
    try:
        found = socket.getaddrinfo(
            host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as error:
        raise ListenError(
            f"cannot listen on {host}:{port}: the host does not resolve ({error})"
        ) from None
    usable = [(f, a) for (f, _, _, _, a) in found if f in (socket.AF_INET, socket.AF_INET6)]
    if not usable:
        raise ListenError(f"cannot listen on {host}:{port}: the host has no IP address")
    usable.sort(key=lambda found: found[0] != socket.AF_INET)  # stable: IPv4 first
    return usable[0]


def _bind_error(host: str, port: int, error: OSError) -> ListenError:
    """What a refused bind says: the port is in use, or what else the kernel said."""
    said = f"cannot listen on {host}:{port}: {error.strerror or error}"
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(f"{said} (another program, or another citygraph serve, holds it)")
    return ListenError(said)
