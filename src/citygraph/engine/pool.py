"""The pool of query processes of one server worker: which query runs where, and when.

Why processes: pyoxigraph cannot cancel a running query. Every query is evaluated in a child
process (:mod:`citygraph.engine.query_process`); when the deadline passes, the child is killed
(``SIGKILL``: the CPU work stops with it), the client gets 503 and a fresh child replaces it in
the background. Other clients keep being served by the other children. The children, their
zygote and the switch to a new build are :mod:`citygraph.engine.generations`; this module
schedules jobs onto them.

Why the operating system: a child may be refused the network and given a memory budget
(:mod:`citygraph.sandbox`, applied by the child at start). A query over the budget makes the
engine abort the child; the worker reads why from the child's stderr (kept in a temporary
file) and answers 503 (:class:`QueryMemoryError`), any other death 500
(:class:`QueryProcessError`), and counts each end in :attr:`PoolStats.ends`.

Why two lanes: one client's expensive queries must not keep everyone else waiting. Besides
the general lane (``size`` processes) the pool keeps a fast lane (``fast_size`` processes on
the same build). A query not
known to be slow goes to a free fast-lane process, with a short ``fast_budget`` of CPU time;
when it spends it, the process is killed and the query runs again in the general lane within
the rest of its timeout, and its text is remembered as slow, so next time it goes to the
general lane at once.
Expensive queries therefore cannot fill the fast lane, and cheap ones are answered while they run.
General-lane processes also run at a lower CPU priority; the helpers are in
:mod:`citygraph.engine.lanes`.

Why per-client counts: a client (see :mod:`citygraph.engine.clients`) may occupy at most
``client_processes`` general-lane processes and have at most ``client_max_queries`` queries in
progress; so a single client cannot take every query process or every place in the queue.

Why the client's presence: a query whose client has gone would run on to its deadline and keep
counting against that client's share, so the same client's next connections got 429 (issue 10).
Once a job has run or waited :data:`~citygraph.engine.clients.WATCH_AFTER` seconds, the pool
asks the web layer to watch the request's connection (:class:`~citygraph.engine.clients.Presence`)
and looks at it while it waits; when the client has gone, the job ends as at a timeout (its
process killed and replaced in the background), the share is released, and
:class:`QueryCancelledError` is raised.

No web framework here: the web layer maps the exceptions below to responses.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from citygraph.engine.builds import CurrentLink
from citygraph.engine.clients import (
    InFlight,
    Presence,
    client_gone,
    current_client,
    current_presence,
    decrement,
)
from citygraph.engine.errors import (
    ClientLimitError,
    OverloadedError,
    QueryCancelledError,
    QueryMemoryError,
    QueryProcessError,
    QueryTimeoutError,
)
from citygraph.engine.generations import COPY_FIRST, END_REASONS, Generations, PoolStats
from citygraph.engine.jobs import GraphNamesJob, Job, Reply
from citygraph.engine.lanes import SlowQueries, await_reply
from citygraph.engine.processes import Child
from citygraph.engine.query_process import defect_error, memory_message
from citygraph.errors import CitygraphError

__all__ = [
    "END_REASONS",
    "ClientLimitError",
    "OverloadedError",
    "PoolLoad",
    "PoolStats",
    "QueryCancelledError",
    "QueryMemoryError",
    "QueryPool",
    "QueryProcessError",
    "QueryTimeoutError",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolLoad:
    """How busy a pool is right now (for ``/healthz``)."""

    free: int
    free_fast: int
    waiting: int
    inflight: int


class QueryPool(Generations):
    """Query processes serving the current build of a store directory, and the jobs run on them.

    ``start()`` blocks until the first generation is ready; ``close()`` ends every child.
    """

    def __init__(
        self,
        root: Path,
        *,
        size: int,
        in_memory: bool,
        max_concurrent: int,
        check_interval: float,
        offline: bool = True,
        memory: int = 0,
        fast_size: int = 0,
        fast_budget: float = 0.25,
        client_processes: int | None = None,
        client_max_queries: int | None = None,
        link: CurrentLink | None = None,
        copy_first: int = COPY_FIRST,
    ) -> None:
        """The parameters of :class:`~citygraph.engine.generations.Generations`, and:
        ``max_concurrent`` jobs in progress at most (running or waiting); ``fast_budget``: the
        CPU seconds of a query in the fast lane; a client may occupy ``client_processes``
        general-lane processes and have ``client_max_queries`` jobs in progress."""
        super().__init__(
            root,
            size=size,
            in_memory=in_memory,
            check_interval=check_interval,
            offline=offline,
            memory=memory,
            fast_size=fast_size,
            link=link,
            copy_first=copy_first,
        )
        self.max_concurrent = max_concurrent
        self.fast_budget = fast_budget
        self.client_processes = client_processes or self.size
        self.client_max_queries = client_max_queries or max_concurrent
        self._waiting = 0
        self._client_general: Counter[str] = Counter()
        self._slow = SlowQueries()
        self._queries = InFlight(max_total=max_concurrent, max_per_client=self.client_max_queries)
        #: The named graphs of a version, listed once per version (graph_names).
        self._graph_names: tuple[str, tuple[str, ...]] | None = None

    def graph_names(self, *, timeout: float) -> tuple[str, ...]:
        """The named graphs of the current build, listed by a query process once per version
        (as :meth:`~citygraph.engine.remote.RemotePool.graph_names`): the service description
        needs them on every request, and must not cost a job each time (a job counts against
        the client's and the pool's limits).

        Raises:
            the errors of :meth:`run`, when the version's names are not known yet.
        """
        cached = self._graph_names
        if cached is not None and cached[0] == self.version:
            return cached[1]
        reply, served = self.run(GraphNamesJob(), timeout=timeout)
        self._graph_names = (served, reply.graph_names)
        return reply.graph_names

    @property
    def inflight(self) -> int:
        """Jobs running or waiting for a process."""
        return self._queries.total

    def load(self) -> PoolLoad:
        """Free processes of each lane and the queries waiting for one."""
        with self._cond:
            return PoolLoad(
                free=len(self._idle),
                free_fast=len(self._idle_fast),
                waiting=self._waiting,
                inflight=self._queries.total,
            )

    # -- running jobs -------------------------------------------------------------------------

    def run(self, job: Job, *, timeout: float) -> tuple[Reply, str]:
        """Run ``job`` in a free query process; wait at most ``timeout`` seconds in all.

        The job counts against the current request's client
        (:func:`~citygraph.engine.clients.current_client`). Returns the reply and the data version
        of the build that answered.

        Raises:
            ClientLimitError: the client already has ``client_max_queries`` in progress.
            OverloadedError: too many jobs at once, no process became free in time, or the
                pool is closing.
            QueryTimeoutError: the job ran out of time (its process was killed).
            QueryCancelledError: the request's client went away
                (:func:`~citygraph.engine.clients.current_presence`); the job was ended (its
                process killed, if it was running).
            QueryProcessError: the process died while running the job.
        """
        since = time.monotonic()
        client = current_client()
        with self._cond:
            self._queries.enter(client)
        try:
            return self._run(job, _Asker(client, current_presence(), since, timeout))
        finally:
            with self._cond:
                self._queries.leave(client)

    def _run(self, job: Job, asker: _Asker) -> tuple[Reply, str]:
        client, deadline = asker.client, asker.deadline
        key = SlowQueries.key(job)
        fast = self.fast_size > 0
        demoted = False
        while True:
            child = self._acquire(asker, fast=fast, key=key)
            if child.replies.poll():  # an idle process has nothing to say: it has ended
                self._leave(child, client)
                self._discard(child)
                continue
            started = time.monotonic()
            try:
                reply = self._exchange(child, job, asker)
            except QueryTimeoutError:
                self._leave(child, client)
                self._discard(child)
                if not child.fast or time.monotonic() >= deadline:
                    raise
                # Past the fast lane's budget, not the deadline: run again in the general lane.
                self._slow.remember(key)
                self.stats.demoted += 1
                fast, demoted = False, True
                continue
            except BaseException:
                self._leave(child, client)
                self._discard(child)
                raise
            if demoted and time.monotonic() - started <= self.fast_budget:
                # Quick where it finished (the data changed, or it was a close call): a
                # cheap query must not stay banished from the fast lane.
                self._slow.forget(key)
            self._leave(child, client)
            if reply.last:  # it ends now (it holds too much of its own memory): a new one
                self.stats.ends["retired"] += 1
                self._discard(child)
            else:
                self._release(child)
            return reply, child.build.version

    def _acquire(self, asker: _Asker, *, fast: bool, key: bytes) -> Child:
        """A free process: the fast lane's if ``fast``, one is free and the query ``key`` is not
        known to be slow (it may become known while this one waits), else the general lane's
        while the client occupies fewer than ``client_processes`` of them."""
        client, deadline, timeout, presence = (
            asker.client,
            asker.deadline,
            asker.timeout,
            asker.presence,
        )
        held_back = False  # a process was free, but the client had its share
        with self._cond:
            while True:
                if self._closed:
                    # Not a fault: another worker or the restarted server will answer.
                    raise OverloadedError("the server is shutting down; retry shortly")
                if presence is not None and presence.gone:
                    raise client_gone("while it waited for a query process")
                if fast and self._idle_fast and key not in self._slow:
                    return self._idle_fast.pop()
                capped = self._client_general[client] >= self.client_processes
                if self._idle and not capped:
                    self._client_general[client] += 1
                    return self._idle.pop()
                held_back = held_back or bool(self._idle)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    why = (
                        f"your other queries occupy the {self.client_processes} query "
                        "process(es) one client may use"
                        if held_back
                        else "every one is busy with a long query"
                    )
                    raise OverloadedError(
                        f"no query process became free within {timeout:g} s: {why}; retry shortly",
                        retry_after=max(1, int(timeout)),
                    )
                if presence is not None:
                    remaining = min(
                        remaining, presence.pace(since=asker.since, now=time.monotonic())
                    )
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1

    def _leave(self, child: Child, client: str) -> None:
        """The client no longer occupies ``child`` (its waiting queries may now take one)."""
        if child.fast:
            return
        with self._cond:
            decrement(self._client_general, client)
            self._cond.notify_all()

    def _exchange(self, child: Child, job: Job, asker: _Asker) -> Reply:
        deadline, timeout, presence = asker.deadline, asker.timeout, asker.presence
        try:
            child.jobs.send(job)
            budget = self.fast_budget if child.fast else None
            replied = await_reply(
                child.replies,
                child.pid,
                deadline=deadline,
                cpu_budget=budget,
                presence=presence,
                since=asker.since,
            )
            if not replied and presence is not None and presence.gone:
                self.stats.killed += 1
                self.stats.ends["cancelled"] += 1
                raise client_gone("while it ran")
            if not replied:
                self.stats.killed += 1
                demoted = child.fast and time.monotonic() < deadline
                self.stats.ends["demoted" if demoted else "timeout"] += 1
                raise QueryTimeoutError(
                    f"the query ran out of time: it did not finish within {timeout:g} s, this "
                    "endpoint's limit, and was stopped; simplify it or add LIMIT"
                )
            reply = child.replies.recv()
        except (EOFError, OSError) as error:
            raise self._death(child) from error
        assert isinstance(reply, Reply)
        if reply.error == "memory":
            self.stats.ends["memory"] += 1
        return reply

    def _death(self, child: Child) -> CitygraphError:
        """Count why ``child`` died during a job and return the error to raise."""
        if self._closed:
            # close() killed it: the server is going away, the query is not at fault.
            return OverloadedError("the server is shutting down; retry the query", retry_after=1)
        try:
            status = child.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        words = child.last_words()
        self.stats.died += 1
        if self.memory > 0 and child.ran_out_of_memory():
            self.stats.ends["memory"] += 1
            log.warning("query process %s ran out of its memory budget", child.pid)
            return QueryMemoryError(memory_message(self.memory))
        panic = child.panic()
        if panic is not None:
            self.stats.ends["panic"] += 1
            log.warning("query process %s: the engine panicked: %s", child.pid, panic)
            return defect_error(panic)
        self.stats.ends["crash"] += 1
        log.error(
            "query process %s died (exit status %s): %s",
            child.pid,
            status,
            words.decode("utf-8", "replace").strip()[-1000:] or "(no message)",
        )
        return QueryProcessError(
            f"the query process {child.pid} ended unexpectedly; the query was not answered "
            "(a server fault, logged)"
        )


@dataclass(frozen=True, slots=True)
class _Asker:
    """Who a job runs for, and until when: the request's client and :class:`Presence`
    (``None`` outside a request), when the job started (``time.monotonic()``) and its timeout."""

    client: str
    presence: Presence | None
    since: float
    timeout: float

    @property
    def deadline(self) -> float:
        return self.since + self.timeout
