"""A real `citygraph serve` process for the end-to-end and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["free_port", "running_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    store_dir: Path,
    log_path: Path,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    start_timeout: float = 60.0,
) -> Iterator[str]:
    """Run ``citygraph serve --store STORE_DIR`` on a free port until the block ends.

    Yields the base URL (``http://127.0.0.1:PORT``, no trailing slash) once ``/healthz``
    answers 200; fails with the server's log if it exits or does not start in time. The server
    is terminated (killed after 30 s) when the block ends.
    """
    port = free_port()
    command = [sys.executable, "-m", "citygraph", "serve", "--store", str(store_dir)]
    command += ["--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
