"""Writes (SPARQL Update, Graph Store PUT/POST/DELETE) as new builds: copy on write, in a child.

Builds are immutable and shared read-only by every worker's query processes, so a write never
touches the served build. A write process (:mod:`citygraph.engine.write_process`, one per write)
takes the store's write lock (``DIR/.write.lock``, an ``flock``: one writer at a time across all
processes and workers) and runs the build transaction that ``citygraph build`` runs
(:func:`citygraph.publish.publish`): it checkpoints the current build into a new build directory
(RocksDB hard links: fast, and no bigger on disk until data changes), applies the change there,
derives, records the build in graph:meta and its metadata, validates it against the shapes as
a build is (only what the change can affect, :func:`citygraph.diff.changed_nodes_between`; a
Violation refuses the write), and publishes it as the new ``current``. Every worker switches to
it within ``version_check_interval``; the worker that wrote switches before it answers, so a
client reads its own writes. A failed or refused write publishes nothing.

Why a process: a write runs the engine on client input (an update, an RDF body). Input that
crashes the engine (issue 9 §3: deep nesting overflowed the stack and killed the uvicorn worker)
then costs that one write a 500, never the worker; the lock dies with the process, and the
next write removes the half-made build directory. Like the query processes, the write process
cannot open network sockets when no SERVICE is allowed (:mod:`citygraph.sandbox`).

Cost: each write is a new process and a new build (and, with ``in_memory``, a reload in every
query process), so this suits occasional curation, not a stream of small writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from citygraph.engine.changes import Change, GraphChange, UpdateChange
from citygraph.engine.errors import (
    ChangeRefusedError,
    GraphExistsError,
    GraphNotFoundError,
    InvalidChangeError,
    NetworkRefusedError,
)
from citygraph.engine.lanes import lower_niceness
from citygraph.errors import (
    CitygraphError,
    DataNotConformingError,
    InputSyntaxError,
    StoreNotFoundError,
)
from citygraph.errors import StoreBusyError as WriteBusyError
from citygraph.publish import new_version, publish
from citygraph.store import LOCK_FILE, Build, current_build, write_lock

if TYPE_CHECKING:
    from citygraph.shacl.model import ValidationReport

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

#: The refusals a write process can report, by class name.
_REFUSALS: dict[str, type[ChangeRefusedError]] = {
    cls.__name__: cls
    for cls in (
        ChangeRefusedError,
        GraphExistsError,
        GraphNotFoundError,
        InvalidChangeError,
        NetworkRefusedError,
    )
}

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
    #: Whether the write process asks the worker before it publishes: it sends a ``staged``
    #: outcome with the finished build and publishes only if the worker answers ``True``.
    confirm: bool = False


@dataclass(frozen=True)
class WriteOutcome:
    """What the write process answers: the change's result and the published version, or the
    error, as plain data (``kind``: ``ok``, ``syntax``, ``refused``, ``nonconforming``, ``busy``,
    ``missing``, ``failed``, or ``staged``: the build is ready, may it be published? (see
    :attr:`WriteJob.confirm`); ``refusal``: the name of the :class:`ChangeRefusedError` class;
    ``report``: the validation report of a nonconforming write)."""

    kind: str
    result: bool = False
    build: Build | None = None
    message: str = ""
    refusal: str = ""
    line: int | None = None
    column: int | None = None
    report: ValidationReport | None = None


def apply_write(
    root: Path,
    change: Change,
    *,
    description: str,
    lock_timeout: float,
    offline: bool = True,
    before_publish: Callable[[Build], object] | None = None,
) -> tuple[bool, Build]:
    """Apply ``change`` to a copy of the current build in a write process and publish it.

    ``offline``: the write process cannot open network sockets (the default; ``False`` only
    when SERVICE may reach allowed endpoints). ``before_publish``: run here, in the worker,
    with the finished build (in its temporary directory) while the write process holds the
    write lock and waits, before it publishes: publishing to a remote store, which needs the
    network the write process does not have. If it raises, nothing is published and this
    raises what it raised.

    Returns what the change returned (Graph Store: whether the graph was created) and the
    published build.

    Raises:
        WriteBusyError: the write lock was not free in time.
        StoreNotFoundError: there is no current build to change.
        WriteCrashedError: the write process ended without answering.
        DataNotConformingError: the changed data has a SHACL Violation; nothing was published.
        InputSyntaxError, ChangeRefusedError, CitygraphError: the change was refused (see
            :mod:`citygraph.engine.changes`); nothing was published.
        and what ``before_publish`` raises: nothing was published.
    """
    job_read, job_write = os.pipe()
    reply_read, reply_write = os.pipe()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citygraph.engine.write_process",
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
    lower_niceness(process.pid)  # a write yields the CPU to reads, yet progresses (lanes.py)
    job = WriteJob(root, change, description, lock_timeout, offline, before_publish is not None)
    refusal: BaseException | None = None
    with Connection(job_write, readable=False) as jobs, Connection(reply_read) as replies:
        try:
            jobs.send(job)
            outcome: WriteOutcome = replies.recv()
            if outcome.kind == "staged" and before_publish is not None:
                assert outcome.build is not None
                try:
                    before_publish(outcome.build)
                except BaseException as error:
                    refusal = error
                    jobs.send(False)  # the write process removes its build and ends
                    raise
                jobs.send(True)
                outcome = replies.recv()
        except (EOFError, OSError):
            outcome = WriteOutcome("crashed")
        finally:
            code = process.wait()
    if refusal is not None:
        raise refusal
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
    if outcome.kind == "refused":
        refusal = _REFUSALS.get(outcome.refusal, ChangeRefusedError)
        return refusal(outcome.message)
    if outcome.kind == "busy":
        return WriteBusyError(outcome.message)
    if outcome.kind == "missing":
        return StoreNotFoundError(outcome.message)
    if outcome.kind == "nonconforming" and outcome.report is not None:
        return DataNotConformingError(outcome.report)
    return CitygraphError(outcome.message)


def outcome_of(error: BaseException) -> WriteOutcome:
    """The :class:`WriteOutcome` that carries ``error`` back to the worker."""
    if isinstance(error, InputSyntaxError):
        return WriteOutcome("syntax", message=error.message, line=error.line, column=error.column)
    if isinstance(error, ChangeRefusedError):
        return WriteOutcome("refused", message=str(error), refusal=type(error).__name__)
    if isinstance(error, WriteBusyError):
        return WriteOutcome("busy", message=str(error))
    if isinstance(error, StoreNotFoundError):
        return WriteOutcome("missing", message=str(error))
    if isinstance(error, DataNotConformingError):
        from citygraph.shacl.model import ValidationReport

        # plain data through the pipe: the messages as a dict, without the rdflib terms
        results = tuple(
            replace(r, messages=dict(r.messages), terms=None) for r in error.report.results
        )
        return WriteOutcome("nonconforming", message=str(error), report=ValidationReport(results))
    return WriteOutcome("failed", message=str(error))


def transaction(
    root: Path,
    change: Change,
    *,
    description: str,
    lock_timeout: float,
    shapes_dir: Path | None = None,
    before_publish: Callable[[Build], object] | None = None,
) -> tuple[bool, Build]:
    """The write itself, in this process: under the write lock, the build transaction
    (:func:`citygraph.publish.publish`) on a checkpoint of the current build, with ``change``
    as its filling: derive, record (graph:meta, quads per graph), validate, publish.

    The new build is validated against ``shapes_dir`` (default: the project's ``shapes/``, as
    ``citygraph import`` does) like a build, with the focus of ``citygraph validate
    --changed-only``: the nodes of the quads the change added or removed, derived ones included
    (:func:`citygraph.diff.changed_nodes_between`), and the nodes that refer to them. A
    Violation refuses the write; Warnings and Infos do not.
    ``before_publish``: see :func:`citygraph.publish.publish`.

    Raises:
        WriteBusyError: the write lock was not free in time.
        StoreNotFoundError: there is no current build to change.
        DataNotConformingError: the changed data has a Violation (nothing is published).
        and what ``change`` raises (nothing is published then).
    """
    # here, not at the top: the server's workers import this module, and need neither
    from citygraph.build import shapes_check
    from citygraph.project import Project

    shapes = shapes_dir if shapes_dir is not None else Project.find().shapes
    with write_lock(root, timeout=lock_timeout):
        base = current_build(root)
        version = new_version(f"{base.version}\n{description}\n{time.time_ns()}".encode())
        created, result = publish(
            root,
            change.apply,
            version=version,
            inputs=base.metadata.get("inputs", []),
            derived_from=base.version,
            change=description,
            validate=shapes_check(shapes, focus=_changed_since(base), copy=True),
            in_memory=False,
            checkpoint=base,
            compact=False,
            keep=KEEP_AFTER_WRITE,
            before_publish=before_publish,
        )
    return created, result.build


def _changed_since(base: Build) -> Callable[[ox.Store], tuple[set[str], set[str]] | None]:
    """The ``focus`` of a write's check: what changed between ``base`` and the new build."""

    def focus(target: ox.Store) -> tuple[set[str], set[str]] | None:
        from citygraph.diff import changed_nodes_between

        return changed_nodes_between(ox.Store.read_only(str(base.path)), target)

    return focus
