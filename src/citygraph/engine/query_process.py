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
import io
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from citygraph.engine.errors import EngineDefectError, OrderByDefectError
from citygraph.engine.jobs import DatasetJob, GraphJob, GraphNamesJob, Job, QueryJob, Reply
from citygraph.errors import CitygraphError
from citygraph.namespaces import PREFIXES
from citygraph.sandbox import SandboxError, install_network_filter, limit_memory
from citygraph.store import Build, open_build

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "LimitExceededError",
    "answer_jobs",
    "defect_error",
    "defect_message",
    "enter_sandbox",
    "execute",
    "main",
    "memory_message",
    "serialise_quads",
    "serialise_solutions_via_tsv",
    "serialise_triples",
    "serve",
]

_TSV = ox.QueryResultsFormat.TSV
_NT = ox.RdfFormat.N_TRIPLES
_NQ = ox.RdfFormat.N_QUADS
_PREFIXED = frozenset({"TURTLE", "TRIG"})
_PREFIX_ITEMS = tuple(PREFIXES.items())


class LimitExceededError(Exception):
    """Raised by :class:`_LimitedBuffer` when a result grows past a limit."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message


class _LimitedBuffer(io.BytesIO):
    """A buffer that counts a marker and bytes, and stops the serialiser at a limit.

    With line-based formats (TSV, N-Triples, N-Quads) one line is one solution or one triple
    (newlines inside values are escaped), so counting ``\\n`` counts rows exactly; other
    markers are given for other formats (see :func:`_serialise_solutions`).
    """

    def __init__(self, max_lines: int, max_bytes: int, *, marker: bytes = b"\n") -> None:
        super().__init__()
        self.lines = 0
        self.size = 0
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.marker = marker
        self._tail = b""
        self.exceeded: LimitExceededError | None = None

    def write(self, data: ReadableBuffer) -> int:
        if self.exceeded is not None:  # pyoxigraph writes once more (a flush) after a refusal
            raise self.exceeded
        written = super().write(data)
        self.size += written
        chunk = bytes(data)
        if len(self.marker) == 1:
            self.lines += chunk.count(self.marker)
        else:  # a marker may straddle two writes
            joined = self._tail + chunk
            self.lines += joined.count(self.marker)
            self._tail = joined[-(len(self.marker) - 1) :]
        if self.lines > self.max_lines:
            self.exceeded = LimitExceededError("rows", "")
            raise self.exceeded
        if self.size > self.max_bytes:
            self.exceeded = LimitExceededError("bytes", "")
            raise self.exceeded
        return written


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

        body, count = _serialise_solutions(result, job, job.solutions_format, rerun)
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


def _serialise_solutions(
    result: ox.QuerySolutions, job: QueryJob, fmt_name: str, rerun: Callable[[], object]
) -> tuple[bytes, int]:
    """Serialise solutions within the limits, counting rows exactly and cheaply.

    XML: each solution is one ``<result>`` (a ``<`` inside a value is escaped), so counting it
    is exact. JSON: solutions are separated by ``},{``, which may also occur inside a value, so
    that count is an upper bound; only when it passes the limit is the query run again and its
    rows counted exactly. TSV counts lines; CSV (quoted newlines) goes through TSV.
    """
    if fmt_name in ("XML", "JSON"):
        if fmt_name == "XML":
            buffer = _LimitedBuffer(job.max_rows, job.max_bytes, marker=b"<result>")
        else:
            buffer = _LimitedBuffer(job.max_rows - 1, job.max_bytes, marker=b"},{")
        fmt = getattr(ox.QueryResultsFormat, fmt_name)
        try:
            _run_limited(
                lambda: result.serialize(buffer, format=fmt), buffer, job.max_rows, job.max_bytes
            )
        except LimitExceededError as error:
            if error.what != "rows" or fmt_name == "XML":
                raise
            again = rerun()
            assert isinstance(again, ox.QuerySolutions)
            return serialise_solutions_via_tsv(again, job)
        body = buffer.getvalue()
        rows = buffer.lines if fmt_name == "XML" else buffer.lines + (b'"bindings":[{' in body)
        return body, rows
    return serialise_solutions_via_tsv(result, job)


def serialise_solutions_via_tsv(result: ox.QuerySolutions, job: QueryJob) -> tuple[bytes, int]:
    # TSV has one line per solution and is lossless: count rows while streaming, stop at the
    # limit, then convert (in Rust) to the requested format.
    buffer = _LimitedBuffer(job.max_rows + 1, job.max_bytes)
    _run_limited(lambda: result.serialize(buffer, format=_TSV), buffer, job.max_rows, job.max_bytes)
    tsv = buffer.getvalue()
    count = max(buffer.lines - 1, 0)
    if job.solutions_format == "TSV":
        return tsv, count
    fmt = getattr(ox.QueryResultsFormat, job.solutions_format or "JSON")
    parsed = ox.parse_query_results(tsv, format=_TSV)
    body = parsed.serialize(format=fmt)
    assert body is not None
    _check_size(body, job.max_bytes)
    return body, count


def serialise_triples(
    triples: ox.QueryTriples | Iterable[ox.Triple], fmt_name: str, max_rows: int, max_bytes: int
) -> tuple[bytes, int]:
    """Serialise ``triples`` as ``fmt_name`` within the limits; returns the body and count.

    Raises:
        LimitExceededError: more than ``max_rows`` triples or ``max_bytes`` bytes.
    """
    buffer = _LimitedBuffer(max_rows, max_bytes)

    def serialise() -> object:
        if isinstance(triples, ox.QueryTriples):
            return triples.serialize(buffer, format=_NT)
        return ox.serialize(triples, buffer, format=_NT)

    _run_limited(serialise, buffer, max_rows, max_bytes)
    nt = buffer.getvalue()
    if fmt_name == "N_TRIPLES":
        return nt, buffer.lines
    fmt = getattr(ox.RdfFormat, fmt_name)
    prefixes = _used_prefixes(nt) if fmt_name in _PREFIXED else None
    body = ox.serialize(ox.parse(nt, format=_NT), format=fmt, prefixes=prefixes)
    assert body is not None
    _check_size(body, max_bytes)
    return body, buffer.lines


def serialise_quads(
    quads: Iterable[ox.Quad], fmt_name: str, max_rows: int, max_bytes: int
) -> tuple[bytes, int]:
    buffer = _LimitedBuffer(max_rows, max_bytes)
    _run_limited(
        lambda: ox.serialize(quads, buffer, format=_NQ),
        buffer,
        max_rows,
        max_bytes,
    )
    nq = buffer.getvalue()
    if fmt_name == "N_QUADS":
        return nq, buffer.lines
    fmt = getattr(ox.RdfFormat, fmt_name)
    prefixes = _used_prefixes(nq) if fmt_name in _PREFIXED else None
    body = ox.serialize(ox.parse(nq, format=_NQ), format=fmt, prefixes=prefixes)
    assert body is not None
    _check_size(body, max_bytes)
    return body, buffer.lines


def _used_prefixes(text: bytes) -> dict[str, str]:
    """The prefixes of :data:`~citygraph.namespaces.PREFIXES` whose IRIs occur in ``text``
    (Turtle and TriG would otherwise declare all of them)."""
    return {name: iri for name, iri in _PREFIX_ITEMS if iri.encode() in text}


def _run_limited(
    serialise: Callable[[], object], buffer: _LimitedBuffer, max_rows: int, max_bytes: int
) -> None:
    try:
        serialise()
    except (OSError, LimitExceededError):
        # pyoxigraph re-raises an exception from write() as OSError; the buffer knows why.
        if buffer.exceeded is None:
            raise
    if buffer.exceeded is not None:
        if buffer.exceeded.what == "rows":
            raise LimitExceededError(
                "rows",
                f"the result has more than {max_rows:,} rows or triples, this endpoint's limit; "
                "add LIMIT (and OFFSET to page) or narrow the query",
            )
        _check_size(b"", max_bytes, exceeded=True)


def _check_size(body: bytes, max_bytes: int, *, exceeded: bool = False) -> None:
    if exceeded or len(body) > max_bytes:
        raise LimitExceededError(
            "bytes",
            f"the result is larger than {max_bytes:,} bytes, this endpoint's limit; "
            "add LIMIT (and OFFSET to page) or narrow the query",
        )


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
) -> None:
    """Limit memory to ``memory`` more bytes (0: no limit), report ready, then answer jobs on
    ``store`` until the job pipe closes. ``offline``: the network filter is installed, so a
    refused connection is reported as such (``error="network"``), not as an engine failure."""
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
        try:
            replies.send(reply)
        except MemoryError:
            # Pickling a large reply copies it: over the budget too, and still this query's
            replies.send(Reply(error="memory", message=memory_message(memory)))


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
