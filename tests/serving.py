"""A real `citygraph serve` process for the end-to-end and browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from bench.servers import stop_group

__all__ = ["free_port", "running_server", "wait_until_answers"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    timeout: float,
    log: Callable[[], str],
    what: str = "the server",
) -> None:
    """Return once ``GET url`` answers 200: a server ``process`` just started is ready.

    Raises ``RuntimeError`` with ``log()`` (the server's log) when the process exits first or
    ``timeout`` seconds pass.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): {log()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:.0f} s: {log()}")
        time.sleep(0.1)


@contextmanager
def running_server(
    store_dir: Path,
    log_path: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    start_timeout: float = 60.0,
    program: Sequence[str] = (sys.executable, "-m", "citygraph", "serve"),
) -> Iterator[str]:
    """Run ``citygraph serve --store STORE_DIR`` on a free port until the block ends.

    Yields the base URL (``http://127.0.0.1:PORT``, no trailing slash) once ``/healthz``
    answers 200; fails with the server's log if it exits or does not start in time. ``program``
    is the command before ``--store`` (``bench/stack_guarantees.py``: citygraph's app on another
    server stack).

    The server runs in a session (and process group) of its own, as ``bench/servers.py`` starts
    its servers: when the block ends its whole group gets SIGTERM, then SIGKILL after 30 s, so
    no worker it started (granian's, a zygote host) outlives the test, even when the server
    itself ended first.
    """
    port = free_port()
    command = [*program, "--store", str(store_dir), "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _keep_autogroup_niceness(process.pid)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answers(
                process, url + "/healthz", timeout=start_timeout, log=log_path.read_text
            )
            yield url
        finally:
            stop_group(process, grace=30)


def _keep_autogroup_niceness(pid: int) -> None:
    """Give the new session's scheduling group (autogroup, niceness 0 when made) the niceness of
    the test run's own, so a server never runs at a higher priority than the tests that started
    it. Nothing where the kernel has no autogroups or the test run is in the kernel's root group
    (an empty ``/proc/self/autogroup``, as on CI runners); raising a niceness needs no privilege.
    """
    with contextlib.suppress(OSError):
        nice = autogroup_nice(os.getpid())
        if nice is not None and nice > 0:
            Path(f"/proc/{pid}/autogroup").write_text(str(nice), encoding="ascii")


def autogroup_nice(pid: int) -> int | None:
    """The niceness of the autogroup (the kernel's per-session scheduling group) that process
    ``pid`` belongs to, from ``/autogroup-N nice K``; None when it belongs to none: a session
    never started since boot stays in the kernel's root group, whose file is empty (so do the
    processes of many containers and CI runners)."""
    words = Path(f"/proc/{pid}/autogroup").read_text().split()
    return int(words[-1]) if words else None
