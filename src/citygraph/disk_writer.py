"""Writing an in-memory build to disk in a second process, while the build validates it.

:func:`citygraph.build.build_store` dumps its in-memory store to an N-Quads file and calls
:func:`start`; the process (``python -m citygraph.disk_writer STORE_DIR NQUADS``) loads the file
into a new on-disk store. Validation and the write each take about half of a large build, and a
thread would share one interpreter lock (docs/performance.md). The process exits when its parent
dies (its stdin, a pipe from the parent, reaches end of file), so that a killed build leaves no
process writing into a directory the next build will remove.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from citygraph.errors import BuildError

__all__ = ["BATCH", "main", "start", "stop", "wait"]

#: Quads per ``bulk_extend``: one call for everything holds it all in memory (4.3 GB at 12M
#: quads); batches of 250k keep the writer at about 0.3 GB.
BATCH = 250_000


def start(directory: Path, nquads: Path) -> subprocess.Popen[bytes]:
    """Start writing ``nquads`` into a new on-disk store at ``directory``."""
    return subprocess.Popen(
        [sys.executable, "-m", "citygraph.disk_writer", str(directory), str(nquads)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait(writer: subprocess.Popen[bytes]) -> None:
    """Wait for the writer to finish.

    Raises:
        BuildError: the writer failed (with the last line it wrote to stderr).
    """
    assert writer.stderr is not None
    errors = writer.stderr.read()  # until the writer exits; its stdin stays open meanwhile
    stop(writer)
    if writer.returncode != 0:
        lines = errors.decode("utf-8", "replace").strip().splitlines() or ["(no message)"]
        raise BuildError(
            f"writing the store to disk failed (exit {writer.returncode}): {lines[-1]}"
        )


def stop(writer: subprocess.Popen[bytes]) -> None:
    """Kill the writer if it still runs, reap it and close its pipes."""
    if writer.poll() is None:
        writer.kill()
    writer.wait()
    for pipe in (writer.stdin, writer.stderr):
        if pipe is not None:
            pipe.close()


def main(argv: Sequence[str]) -> None:
    """The writer process: ``STORE_DIR NQUADS``."""
    directory, nquads = argv
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    store = ox.Store(directory)
    # ox.parse keeps blank-node labels (bulk_load would rename them), so that the imported
    # layer's labelled blank nodes survive and a re-import stays idempotent.
    quads = iter(ox.parse(path=nquads, format=ox.RdfFormat.N_QUADS))
    for first in quads:
        store.bulk_extend(itertools.chain((first,), itertools.islice(quads, BATCH - 1)))
    store.flush()
    store.optimize()
    del store  # close the store, then exit without waiting for the thread blocked on stdin
    os._exit(0)


def _exit_when_orphaned() -> None:
    sys.stdin.buffer.read()
    os._exit(3)


if __name__ == "__main__":
    main(sys.argv[1:])
