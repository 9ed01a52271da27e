"""Writes (SPARQL Update, Graph Store PUT/POST/DELETE) as new builds: copy on write, in a child.

Builds are immutable and shared read-only by every worker's query processes, so a write never
touches the served build. A write process (:mod:`citygraph.web.write_process`, one per write)
takes the store's write lock (``DIR/.write.lock``, an ``flock``: one writer at a time across all
processes and workers), checkpoints the current build into a new build directory (RocksDB hard
links: fast, and no bigger on disk until data changes), applies the change there, derives,
records the build in graph:meta, and publishes it as the new ``current``, like ``citygraph
build`` does. Every worker switches to it within ``version_check_interval``; the worker that
wrote switches before it answers, so a client reads its own writes. A failed write publishes
nothing.

Why a process: a write runs the engine on client input (an update, an RDF body). Input that
crashes the engine (issue 9 §3: deep nesting overflowed the stack and killed the uvicorn worker)
then costs that one write a 500, never the worker; the lock dies with the process, and the
next write removes the half-made build directory. Like the query processes, the write process
cannot open network sockets when no SERVICE is allowed (:mod:`citygraph.sandbox`).

Cost: each write is a new process and a new build (and, with ``in_memory``, a reload in every
query process), so this suits occasional curation, not a stream of small writes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from citygraph import __version__

# The build's own writers of graph:meta and of its counts, so that a write records itself as a
# build does (issue 10 wants these in one public place; until then they are shared from here).
from citygraph.build import _quads_per_graph, _write_meta, derive
from citygraph.errors import CitygraphError, InputSyntaxError
from citygraph.errors import StoreBusyError as WriteBusyError
from citygraph.namespaces import GRAPH_META
from citygraph.store import (
    LOCK_FILE,
    Build,
    current_build,
    new_build_dir,
    prune_builds,
    publish_build,
    write_lock,
)
from citygraph.web.changes import Change, GraphChange, UpdateChange
from citygraph.web.problems import ProblemError

__all__ = [
    "LOCK_FILE",
    "Change",
    "GraphChange",
    "UpdateChange",
    "WriteBusyError",
    "WriteCrashedError",
    "WriteJob",
    "WriteOutcome",
    "apply_write",
    "outcome_of",
    "transaction",
    "write_lock",
]

#: Builds kept after a write: the new one, the one workers may still be reading, one more.
KEEP_AFTER_WRITE = 3


class WriteCrashedError(CitygraphError):
    """The write process ended without an answer (the engine crashed): nothing was published."""


@dataclass(frozen=True)
class WriteJob:
    """What the worker sends the write process."""

    root: Path
    change: Change
    description: str
    lock_timeout: float
    #: Whether the write process takes itself off the network (see ``write_process.confine``).
    offline: bool = True


@dataclass(frozen=True)
class WriteOutcome:
    """What the write process answers: the change's result and the published version, or the
    error, as plain data (``kind``: ``ok``, ``syntax``, ``problem``, ``busy``, ``failed``)."""

    kind: str
    result: bool = False
    build: Build | None = None
    message: str = ""
    status: int = 0
    line: int | None = None
    column: int | None = None


def apply_write(
    root: Path, change: Change, *, description: str, lock_timeout: float, offline: bool = True
) -> tuple[bool, Build]:
    """Apply ``change`` to a copy of the current build in a write process and publish it.

    ``offline``: the write process cannot open network sockets (the default; ``False`` only
    when SERVICE may reach allowed endpoints).

    Returns what the change returned (Graph Store: whether the graph was created) and the
    published build.

    Raises:
        WriteBusyError: the write lock was not free in time.
        StoreNotFoundError: there is no current build to change.
        WriteCrashedError: the write process ended without answering.
        InputSyntaxError, ProblemError, CitygraphError: the change was refused (see
            :mod:`citygraph.web.changes`); nothing was published.
    """
    job_read, job_write = os.pipe()
    reply_read, reply_write = os.pipe()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citygraph.web.write_process",
                str(job_read),
                str(reply_write),
            ],
            pass_fds=(job_read, reply_write),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
    finally:
        os.close(job_read)
        os.close(reply_write)
    with Connection(job_write, readable=False) as jobs, Connection(reply_read) as replies:
        try:
            jobs.send(WriteJob(root, change, description, lock_timeout, offline))
            outcome: WriteOutcome = replies.recv()
        except (EOFError, OSError):
            outcome = WriteOutcome("crashed")
        finally:
            code = process.wait()
    if outcome.kind == "crashed":
        raise WriteCrashedError(
            f"the write ({description}) stopped with {_describe(code)} before it was published; "
            "nothing changed"
        )
    if outcome.kind == "ok" and outcome.build is not None:
        return outcome.result, outcome.build
    raise _error(outcome)


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _error(outcome: WriteOutcome) -> Exception:
    if outcome.kind == "syntax":
        return InputSyntaxError(outcome.message, line=outcome.line, column=outcome.column)
    if outcome.kind == "problem":
        error = ProblemError(outcome.message)
        error.status = outcome.status
        return error
    if outcome.kind == "busy":
        return WriteBusyError(outcome.message)
    return CitygraphError(outcome.message)


def outcome_of(error: BaseException) -> WriteOutcome:
    """The :class:`WriteOutcome` that carries ``error`` back to the worker."""
    if isinstance(error, InputSyntaxError):
        return WriteOutcome("syntax", message=error.message, line=error.line, column=error.column)
    if isinstance(error, ProblemError):
        return WriteOutcome("problem", message=error.message, status=error.status)
    if isinstance(error, WriteBusyError):
        return WriteOutcome("busy", message=str(error))
    return WriteOutcome("failed", message=str(error))


def transaction(
    root: Path, change: Change, *, description: str, lock_timeout: float
) -> tuple[bool, Build]:
    """The write itself, in this process: lock, checkpoint, change, derive, record, publish.

    Raises:
        WriteBusyError: the write lock was not free in time.
        StoreNotFoundError: there is no current build to change.
        and what ``change`` raises (nothing is published then).
    """
    with write_lock(root, timeout=lock_timeout):
        base = current_build(root)
        version = _new_version(base, description)
        tmp_dir = new_build_dir(root, version)
        try:
            tmp_dir.rmdir()  # the checkpoint creates the directory itself
            ox.Store.read_only(str(base.path)).backup(str(tmp_dir))
            target = ox.Store(str(tmp_dir))
            result = change.apply(target)
            derive(target)  # the derived links follow the written data, as after a build
            # graph:meta and the build's metadata as a build writes them: the new version and
            # date (/dataset's dcterms:modified), the quads per graph (issue 15)
            target.clear_graph(ox.NamedNode(GRAPH_META))
            _write_meta(target, version)
            counts = _quads_per_graph(target)
            target.flush()
            del target  # close the store before its directory is renamed
            metadata: dict[str, Any] = {
                **base.metadata,
                "version": version,
                "built": datetime.now(UTC).isoformat(timespec="seconds"),
                "citygraph": __version__,
                "quads_per_graph": counts,
                "derived_from": base.version,
                "write": description,
            }
            build = publish_build(root, tmp_dir, version, metadata)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        prune_builds(root, keep=KEEP_AFTER_WRITE)
    return result, build


def _new_version(base: Build, description: str) -> str:
    # Same shape as `citygraph build` versions, so builds sort by time whoever made them.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha256(f"{base.version}\n{description}\n{time.time_ns()}".encode())
    return f"{stamp}-{digest.hexdigest()[:10]}"
