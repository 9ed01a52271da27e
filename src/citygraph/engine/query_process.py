"""The query process: evaluates jobs on one build, in a process the server may kill.

pyoxigraph cannot cancel a running query, so every query runs here, in a child of a server
worker; on timeout the worker kills this process (the CPU work stops with it) and starts
another. Run as ``python -m citygraph.engine.query_process JOB_FD REPLY_FD BUILD_DIR VERSION
IN_MEMORY OFFLINE MEMORY``; it answers ``("ready", version)``, ``("failed", message)`` (no such
build) or ``("unsafe", message)`` (a limit below could not be applied) first, then one
:class:`~citygraph.engine.jobs.Reply` per job until its job pipe closes.

The operating system bounds what a query can do here (:mod:`citygraph.sandbox`): with
``OFFLINE`` = 1 the process cannot open a network socket at all (set before any job is read),
and with ``MEMORY`` > 0 its data segment may grow by at most that many bytes beyond what it
holds once the build is open. A query that needs more ends the process (Rust aborts on a failed
allocation); the worker tells that from other deaths by this process's stderr.

No web framework is imported here: the process starts fast and stays small.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from citygraph.engine.errors import EngineDefectError, OrderByDefectError
from citygraph.engine.jobs import DatasetJob, GraphJob, GraphNamesJob, Job, QueryJob, Reply
from citygraph.engine.serialise import (
    LimitExceededError,
    serialise_quads,
    serialise_solutions,
    serialise_triples,
)
from citygraph.errors import CitygraphError
from citygraph.sandbox import SandboxError, install_network_filter, limit_memory
from citygraph.store import Build, open_build

__all__ = [
    "answer_jobs",
    "defect_error",
    "defect_message",
    "enter_sandbox",
    "execute",
    "main",
    "memory_message",
    "serve",
]


def execute(store: ox.Store, job: Job) -> Reply:
    """Run ``job`` against ``store`` and return the serialised result or the error."""
    try:
        if isinstance(job, QueryJob):
            return _query(store, job)
        if isinstance(job, GraphJob):
            return _graph(store, job)
        if isinstance(job, DatasetJob):
            quads = store.quads_for_pattern(None, None, None, None)
            body, count = serialise_quads(quads, job.graph_format, job.max_rows, job.max_bytes)
            return Reply(body=body, family="graph", format=job.graph_format, count=count)
        if isinstance(job, GraphNamesJob):
            names = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
            return Reply(graph_names=tuple(names))
    except LimitExceededError as error:
        return Reply(error=error.what, message=error.message)
    except SyntaxError as error:
        return Reply(error="syntax", message=str(error))
    except ValueError as error:
        return Reply(error="argument", message=str(error))
    except (OSError, RuntimeError) as error:
        # Evaluation failures (a failed SERVICE call, a store read error): the worker maps
        # them to 500 and logs them.
        return Reply(error="evaluation", message=str(error))
    raise TypeError(f"unknown job {job!r}")  # pragma: no cover


def _query(store: ox.Store, job: QueryJob) -> Reply:
    kwargs: dict[str, object] = {"base_iri": job.base_iri}
    if job.default_graphs is not None or job.named_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
    elif job.union_default:
        kwargs["use_default_graph_as_union"] = True
    result = store.query(job.query, **kwargs)  # type: ignore[arg-type]
    if isinstance(result, ox.QueryBoolean):
        if job.solutions_format is None:
            return _not_acceptable("solutions")
        fmt = getattr(ox.QueryResultsFormat, job.solutions_format)
        body = result.serialize(format=fmt)
        assert body is not None
        return Reply(body=body, family="solutions", format=job.solutions_format)
    if isinstance(result, ox.QuerySolutions):
        if job.solutions_format is None:
            return _not_acceptable("solutions")

        def rerun() -> object:
            return store.query(job.query, **kwargs)  # type: ignore[arg-type]

        body, count = serialise_solutions(result, job, job.solutions_format, rerun)
        return Reply(body=body, family="solutions", format=job.solutions_format, count=count)
    if job.graph_format is None:
        return _not_acceptable("graph")
    body, count = serialise_triples(result, job.graph_format, job.max_rows, job.max_bytes)
    return Reply(body=body, family="graph", format=job.graph_format, count=count)


def _graph(store: ox.Store, job: GraphJob) -> Reply:
    if job.graph is None:
        triples = store.query("CONSTRUCT WHERE { ?s ?p ?o }")
    else:
        graph = ox.NamedNode(job.graph)
        if not store.contains_named_graph(graph):
            return Reply(error="not_found", message=f"there is no graph <{job.graph}>")
        triples = store.query(
            "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
            substitutions={ox.Variable("g"): graph},
        )
    assert isinstance(triples, ox.QueryTriples)
    body, count = serialise_triples(triples, job.graph_format, job.max_rows, job.max_bytes)
    return Reply(body=body, family="graph", format=job.graph_format, count=count)


def _not_acceptable(family: str) -> Reply:
    return Reply(error="not_acceptable", family=family)


def serve(
    jobs: Connection,
    replies: Connection,
    build: Build,
    *,
    in_memory: bool,
    memory: int = 0,
    offline: bool = False,
) -> None:
    """Open ``build``, then :func:`answer_jobs` on it."""
    try:
        store = open_build(build, in_memory=in_memory)
    except CitygraphError as error:
        replies.send(("failed", str(error)))
        return
    answer_jobs(jobs, replies, store, build.version, memory=memory, offline=offline)


def answer_jobs(
    jobs: Connection,
    replies: Connection,
    store: ox.Store,
    version: str,
    *,
    memory: int = 0,
    offline: bool = False,
    retire: Callable[[], bool] | None = None,
) -> None:
    """Limit memory to ``memory`` more bytes (0: no limit), report ready, then answer jobs on
    ``store`` until the job pipe closes, or until ``retire()`` is true after a job (its reply
    says it is the ``last``: the pool replaces the process). ``offline``: the network filter is
    installed, so a refused connection is reported as such (``error="network"``), not as an
    engine failure."""
    if memory > 0:
        try:
            limit_memory(memory)
        except SandboxError as error:
            replies.send(("unsafe", str(error)))
            return
    replies.send(("ready", version))
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            return
        try:
            reply = execute(store, job)
        except MemoryError:
            # Python's own allocations fail gracefully (pyoxigraph's abort the process).
            reply = Reply(error="memory", message=memory_message(memory))
        if offline and reply.error == "evaluation" and _refused_network(reply.message):
            reply = Reply(error="network", message=reply.message)
        last = retire is not None and retire()
        try:
            replies.send(dataclasses.replace(reply, last=True) if last else reply)
        except MemoryError:
            # Pickling a large reply copies it: over the budget too, and still this query's
            replies.send(Reply(error="memory", message=memory_message(memory), last=last))
        if last:
            return


def enter_sandbox(replies: Connection, *, offline: bool, worker: int | None = None) -> bool:
    """Before any job is read: refuse this process the network (``offline``; no query can talk
    it out of that) and end it soon after its server worker: its parent, or the process of the
    pidfd ``worker`` (a child forked by a zygote). ``False`` (reported as ``"unsafe"``): the
    filter could not be installed.

    It also starts a session of its own, so that its CPU time is not charged to the server
    worker's scheduling group (see :func:`citygraph.engine.lanes.lower_session`); it has no
    terminal, and ends with its worker (below), not with the server's process group."""
    with contextlib.suppress(PermissionError):  # already a process group leader
        os.setsid()
    if offline:
        try:
            install_network_filter()
        except SandboxError as error:
            replies.send(("unsafe", str(error)))
            return False
    if worker is None:
        watch = threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="watchdog")
    else:
        watch = threading.Thread(target=_exit_with_worker, args=(worker,), name="watchdog")
    watch.daemon = True
    watch.start()
    return True


def _refused_network(message: str) -> bool:
    """Whether an evaluation error is the network filter's refusal (``EPERM`` from ``socket``,
    or a name lookup that could not open its socket)."""
    return "(os error 1)" in message or "failed to lookup address information" in message


def memory_message(memory: int) -> str:
    """What the client reads when a query needed more than ``memory`` bytes."""
    return (
        f"the query needed more than {memory:,} bytes of memory, this endpoint's limit per "
        "query (CITYGRAPH_QUERY_MEMORY), and was stopped; narrow it (fewer joined patterns, "
        "ORDER BY on fewer rows) or add LIMIT"
    )


#: The message of the engine's one known panic (``OrderByDefectError``), from Rust's sort.
_TOTAL_ORDER_PANIC = "does not correctly implement a total order"


def defect_error(panic: str) -> EngineDefectError:
    """The error for the engine's ``panic`` (its message): the known ORDER BY panic is an
    :class:`OrderByDefectError` (422); any other panic is unexpected (500).

    >>> type(defect_error("user-provided comparison function does not correctly implement a "
    ...     "total order")).__name__, type(defect_error("index out of bounds")).__name__
    ('OrderByDefectError', 'EngineDefectError')
    """
    if _TOTAL_ORDER_PANIC in panic:
        return OrderByDefectError(defect_message(panic))
    return EngineDefectError(defect_message(panic))


def defect_message(panic: str) -> str:
    """What the client reads when the engine stopped on an internal error (a panic)."""
    text = (
        "the query engine (Oxigraph) stopped on an internal error while evaluating this query, "
        f"which was not answered: {panic!r}. This is a defect of the engine, not a syntax "
        "error; it was logged and counted."
    )
    if _TOTAL_ORDER_PANIC in panic:
        text += (
            " Here ORDER BY met values it does not order consistently (numbers together with "
            "other literals such as years, dates or text); order by one kind of value (for "
            "example FILTER(isNumeric(?x)), or ORDER BY STR(?x))."
        )
    return text


def _exit_with_parent(parent: int) -> None:
    """End this process soon after the server worker is gone, even in the middle of a query.

    A closed job pipe ends an idle process; this covers a busy one whose worker was killed
    (``PR_SET_PDEATHSIG`` would not do: it fires when the spawning *thread* ends). pyoxigraph
    releases the GIL while it evaluates, so this thread runs meanwhile.
    """
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _exit_with_worker(pidfd: int) -> None:
    """End this process as soon as the worker of ``pidfd`` has ended (a forked child: its parent
    is the zygote, which may end before or after the worker)."""
    select.select([pidfd], [], [])
    os._exit(1)


def main(argv: list[str]) -> int:
    """Entry point of the process (see the module docstring for the arguments)."""
    # The server worker decides when this process ends: it closes the job pipe (or stops the
    # process), and if the worker is gone the watchdog of enter_sandbox ends it. The process has
    # a session of its own (enter_sandbox), so Ctrl-C in the server's terminal does not reach it;
    # SIGINT is ignored for the moment before that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job_fd, reply_fd, build_dir, version, in_memory, offline, memory = argv
    jobs = Connection(int(job_fd), writable=False)
    replies = Connection(int(reply_fd), readable=False)
    if not enter_sandbox(replies, offline=offline == "1"):
        return 1
    build = Build(path=Path(build_dir), version=version, metadata={})
    serve(
        jobs,
        replies,
        build,
        in_memory=in_memory == "1",
        memory=int(memory),
        offline=offline == "1",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
