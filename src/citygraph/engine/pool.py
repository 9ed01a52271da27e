"""The pool of query processes of one server worker, and the switch to a new build.

Why processes: pyoxigraph cannot cancel a running query. Every query is evaluated in a child
process (:mod:`citygraph.engine.query_process`); when the deadline passes, the child is killed
(``SIGKILL``: the CPU work stops with it), the client gets 503 and a fresh child replaces it in
the background. Other clients keep being served by the other children.

Why a zygote: in memory, copying the build takes seconds to minutes and holds the whole build.
So the machine has one :mod:`~citygraph.engine.zygote` per build that copies it once and forks
the children of both lanes of every worker; they share its pages, and a replacement is a fork
(milliseconds). On disk, each child is a fresh ``python -m citygraph.engine.query_process`` on
the shared build. In memory, a build larger than :data:`COPY_FIRST` quads is first served by a
generation on disk (ready in about a second), then by one forked from the zygote once its copy is
made (:meth:`QueryPool.wait_for_copy`): the first answer does not wait for the copy, and a switch
never holds two copies while one is made (:mod:`citygraph.engine.zygote_host`). If the zygote
dies, the pool does the same again. A smaller build is copied first (as fast as starting
processes on disk).
Making, readying and stopping them is :mod:`citygraph.engine.processes`; this module schedules
jobs onto them.

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

Why generations: all children serve the same build. At most once per ``check_interval`` a
request asks the :class:`~citygraph.engine.builds.BuildWatcher` (one ``readlink`` of the
store's ``current`` link); when it names a new build, a
background thread starts a new generation of children on it and, once all of them are ready,
swaps it in. Requests meanwhile keep being answered by the old generation, so a rebuild never
fails a request; children of the old generation end when their current job is done, and the
old zygote (its copy of the build) right after its last child.

No web framework here: the web layer maps the exceptions below to responses.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from citygraph.engine.builds import BuildWatcher, CurrentLink
from citygraph.engine.clients import InFlight, current_client, decrement
from citygraph.engine.errors import (
    ClientLimitError,
    OverloadedError,
    QueryMemoryError,
    QueryProcessError,
    QueryTimeoutError,
)
from citygraph.engine.jobs import GraphNamesJob, Job, Reply
from citygraph.engine.lanes import SlowQueries, await_reply
from citygraph.engine.processes import Child, Generation, QueryProcesses
from citygraph.engine.query_process import defect_error, memory_message
from citygraph.engine.zygote import Zygote
from citygraph.errors import CitygraphError
from citygraph.store import Build

__all__ = [
    "END_REASONS",
    "ClientLimitError",
    "OverloadedError",
    "PoolLoad",
    "PoolStats",
    "QueryMemoryError",
    "QueryPool",
    "QueryProcessError",
    "QueryTimeoutError",
]

log = logging.getLogger(__name__)

#: Builds of fewer quads than this are copied into memory before they are served (a second or
#: two); larger ones are served from the on-disk build until their copy is ready.
COPY_FIRST = 50_000

#: Why a query process ended during a job: its query ran out of time; it spent the fast lane's
#: CPU budget (the query runs again in the general lane); its memory budget; the engine
#: panicked (an internal error of Oxigraph on that query); anything else.
END_REASONS = ("timeout", "demoted", "memory", "panic", "crash")


@dataclass
class PoolStats:
    """Counters of one pool (for ``/metrics`` and tests)."""

    started: int = 0
    killed: int = 0
    died: int = 0
    switches: int = 0
    #: Ends of query processes during a job, by reason (one of :data:`END_REASONS`).
    ends: Counter[str] = field(default_factory=Counter)
    #: Queries moved from the fast lane to the general lane after spending its budget.
    demoted: int = 0


@dataclass(frozen=True)
class PoolLoad:
    """How busy a pool is right now (for ``/healthz``)."""

    free: int
    free_fast: int
    waiting: int
    inflight: int


class QueryPool:
    """Query processes serving the current build of a store directory.

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
        """``offline``: the children cannot open network sockets (the default; ``False`` only
        when SERVICE may call allowed endpoints). ``memory``: bytes each child may use beyond
        its copy of the build (0: unlimited). ``link``: the store's ``current`` link as the
        other readers of this process follow it (see :mod:`citygraph.engine.builds`)."""
        self.root = root
        self.copy_first = copy_first
        self.offline = offline
        self.memory = memory
        self.size = max(1, size)
        self.in_memory = in_memory
        self.max_concurrent = max_concurrent
        self.check_interval = check_interval
        self._watcher = BuildWatcher(root, check_interval=check_interval, link=link)
        self.fast_size = max(0, fast_size)
        self.fast_budget = fast_budget
        self.client_processes = client_processes or self.size
        self.client_max_queries = client_max_queries or max_concurrent
        self.stats = PoolStats()
        self._cond = threading.Condition()
        self._idle: list[Child] = []
        self._idle_fast: list[Child] = []
        self._waiting = 0
        self._client_general: Counter[str] = Counter()
        self._slow = SlowQueries()
        self._processes = QueryProcesses(
            in_memory=in_memory,
            size=self.size,
            fast_size=self.fast_size,
            offline=offline,
            memory=memory,
            root=root,
        )
        self._build: Build | None = None
        #: In memory: the zygote holding the current build, which forks the query processes.
        self._zygote: Zygote | None = None
        self._queries = InFlight(max_total=max_concurrent, max_per_client=self.client_max_queries)
        #: The named graphs of a version, listed once per version (graph_names).
        self._graph_names: tuple[str, tuple[str, ...]] | None = None
        self._switching = False
        self._closed = False
        #: The version whose in-memory copy is being made ("" when none).
        self._copying = ""
        #: The zygote of the last generation installed, once the one before it has stopped.
        self._settled: Zygote | None = None
        #: The ended zygote whose build is being served again.
        self._renewing: Zygote | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the first generation on the current build and wait until it is ready (in
        memory, the generation on disk; the copy is made meanwhile, see :meth:`wait_for_copy`).

        Raises:
            StoreNotFoundError: the store has no published build.
            QueryProcessError: a query process could not open the build.
        """
        build = self._watcher.current()
        small = self._small(build)
        self._install(self._generation(build, in_memory=small))
        if not small:
            self._copy_later(build)

    def _small(self, build: Build) -> bool:
        """Whether ``build`` is copied before it is served (in memory, fewer than
        ``copy_first`` quads; a build without metadata counts as small)."""
        quads = sum(build.metadata.get("quads_per_graph", {}).values())
        return self.in_memory and quads < self.copy_first

    def wait_for_copy(self, timeout: float) -> bool:
        """Wait until the current build is served from its in-memory copy (``False``: not
        within ``timeout`` seconds, or the pool reads the build on disk)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._settled is None or self._settled is not self._zygote:
                remaining = deadline - time.monotonic()
                if not self.in_memory or self._closed or remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Stop every query process: idle ones by closing their pipe, busy ones by killing them
        (a query left running without its server could run unbounded)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle + self._idle_fast, []
            self._idle_fast = []
            self._cond.notify_all()
        for child in idle:
            self._processes.stop(child)
        for child in self._processes.live():  # busy
            self._processes.stop(child, kill=True)
        with self._cond:
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.close()
        self._processes.close()

    @property
    def build(self) -> Build:
        """The build that queries are answered from now."""
        assert self._build is not None, "the pool is not started"
        return self._build

    @property
    def version(self) -> str:
        """The data version queries are answered from now (for ETags and caches)."""
        return self.build.version

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

    # -- switching builds ---------------------------------------------------------------------

    def check_for_new_build(self, *, wait: bool = False) -> None:
        """Switch to a newly published build, if there is one (cheap; rate-limited).

        With ``wait``, check now and return only when the new build is served (used after a
        write, so that the writer reads its own write).
        """
        if wait:
            self._switch_now()
            return
        if self._build is None or not self._watcher.changed(self.version):
            return
        with self._cond:
            if self._switching or self._closed:
                return
            self._switching = True
        threading.Thread(target=self._switch, name="citygraph-switch", daemon=True).start()

    def _switch_now(self) -> None:
        """Serve the build ``current`` names now, waiting for a switch already under way."""
        with self._cond:
            while self._switching:
                self._cond.wait(1.0)
            if self._closed or not self._watcher.changed(self.version, now=True):
                return
            self._switching = True
        self._switch()

    def _switch(self) -> None:
        try:
            build = self._watcher.current()
            generation = None
            small = self._small(build)
            if build.version != self.version:
                generation = self._generation(build, in_memory=small)
        except (CitygraphError, OSError) as error:
            log.error("cannot switch to the new build: %s", error)
            with self._cond:
                self._switching = False
            return
        if generation is not None:
            self._install(generation, switch=True)
            if not small:
                self._copy_later(build)
        with self._cond:
            self._switching = False
            self._cond.notify_all()
        log.info("serving build %s", build.version)

    def _install(self, generation: Generation, *, switch: bool = False) -> bool:
        """Serve ``generation`` from now on, unless the pool closed or serves another build
        than it (then it is stopped: ``False``). The processes it replaces end once idle, the
        zygote they came from once no worker needs it and its last child has ended."""
        with self._cond:
            current = not self._closed and (switch or self._build is None)
            current = current or generation.build.version == self.version
            old: list[Child] = []
            old_zygote = None
            if current:
                old = self._idle + self._idle_fast
                old_zygote, self._zygote = self._zygote, generation.zygote
                self._idle = generation.general
                self._idle_fast = generation.fast
                if switch:
                    self.stats.switches += 1
                self._build = generation.build
                self._cond.notify_all()
        if not current:
            old = generation.children
            old_zygote = generation.zygote
        for child in old:
            self._processes.stop(child)
        if old_zygote is not None:
            old_zygote.close()
        if current:
            with self._cond:
                self._settled = generation.zygote
                self._cond.notify_all()
            for child in generation.children:
                self._watch_child(child)
            if generation.zygote is not None:
                threading.Thread(
                    target=self._watch,
                    args=(generation.zygote,),
                    name="citygraph-zygote",
                    daemon=True,
                ).start()
        return current

    def _watch_child(self, child: Child) -> None:
        """Replace ``child`` if it ends while idle (a busy one's end is its job's error)."""

        def watch() -> None:
            child.wait_ended()
            with self._cond:
                lane = self._idle_fast if child.fast else self._idle
                idle = any(other is child for other in lane)
                if idle:
                    lane[:] = [other for other in lane if other is not child]
            if idle:
                self._discard(child)

        threading.Thread(target=watch, name="citygraph-child", daemon=True).start()

    def _watch(self, zygote: Zygote) -> None:
        """If ``zygote`` ends while its copy is served, serve the build from a new one (its
        children go: they hold the old copy)."""
        zygote.wait()
        self._renew(zygote)

    def _copy_later(self, build: Build) -> None:
        """In memory: serve ``build`` from its copy once the zygote has made it (a thread)."""
        with self._cond:
            if not self.in_memory or self._closed or self._copying == build.version:
                return
            self._copying = build.version
        threading.Thread(
            target=self._copy, args=(build,), name="citygraph-copy", daemon=True
        ).start()

    def _copy(self, build: Build) -> None:
        try:
            generation = self._generation(build, in_memory=True, patient=True)
        except (CitygraphError, OSError) as error:
            if not self._closed:
                log.error("cannot serve build %s from memory: %s", build.version, error)
            generation = None
        with self._cond:
            self._copying = ""
        if generation is not None and self._install(generation):
            log.info("serving build %s from its in-memory copy", build.version)

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
            QueryProcessError: the process died while running the job.
        """
        deadline = time.monotonic() + timeout
        client = current_client()
        with self._cond:
            self._queries.enter(client)
        try:
            return self._run(job, client, deadline, timeout)
        finally:
            with self._cond:
                self._queries.leave(client)

    def _run(self, job: Job, client: str, deadline: float, timeout: float) -> tuple[Reply, str]:
        key = SlowQueries.key(job)
        fast = self.fast_size > 0
        demoted = False
        while True:
            child = self._acquire(deadline, timeout, client, fast=fast, key=key)
            if child.replies.poll():  # an idle process has nothing to say: it has ended
                self._leave(child, client)
                self._discard(child)
                continue
            started = time.monotonic()
            try:
                reply = self._exchange(child, job, deadline, timeout)
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
            self._release(child)
            return reply, child.build.version

    def _acquire(
        self, deadline: float, timeout: float, client: str, *, fast: bool, key: bytes
    ) -> Child:
        """A free process: the fast lane's if ``fast``, one is free and the query ``key`` is not
        known to be slow (it may become known while this one waits), else the general lane's
        while ``client`` occupies fewer than ``client_processes`` of them."""
        held_back = False  # a process was free, but the client had its share
        with self._cond:
            while True:
                if self._closed:
                    # Not a fault: another worker or the restarted server will answer.
                    raise OverloadedError("the server is shutting down; retry shortly")
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

    def _exchange(self, child: Child, job: Job, deadline: float, timeout: float) -> Reply:
        try:
            child.jobs.send(job)
            if not self._await_reply(child, deadline):
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

    def _await_reply(self, child: Child, deadline: float) -> bool:
        budget = self.fast_budget if child.fast else None
        return await_reply(child.replies, child.pid, deadline=deadline, cpu_budget=budget)

    def _release(self, child: Child) -> None:
        with self._cond:
            current = not self._closed and child.build.version == self.version
            current = current and child.zygote is self._zygote  # of the generation served
            if current:
                (self._idle_fast if child.fast else self._idle).append(child)
                # Waiters differ (lane, client limit): wake all, each checks what it may take.
                self._cond.notify_all()
        if not current:
            self._processes.stop(child)

    def _discard(self, child: Child) -> None:
        """Kill a child that timed out or broke, and replace it in the background."""
        self._processes.stop(child, kill=True)
        threading.Thread(
            target=self._replace,
            args=(child.build, child.fast, child.zygote),
            name="citygraph-replace",
            daemon=True,
        ).start()

    def _replace(self, build: Build, fast: bool, zygote: Zygote | None) -> None:
        with self._cond:
            if self._build is not None and self.version != build.version:
                return  # the build was switched meanwhile; the new generation is complete
            if zygote is not self._zygote:
                return  # likewise from disk to memory, or to a new zygote
        try:
            try:
                child = self._processes.spawn(build, fast=fast, zygote=zygote)
            except OSError:
                if zygote is None:
                    raise
                self._renew(zygote)  # the zygote is gone
                return
            self._processes.await_ready(child)
        except (CitygraphError, OSError) as error:
            if not self._closed:  # else it was stopped by close(), not broken
                log.error("cannot start a query process: %s", error)
            return
        with self._cond:
            self.stats.started += 1
        self._watch_child(child)
        self._release(child)

    def _renew(self, lost: Zygote) -> None:
        """If the copy served comes from the ended zygote ``lost``: serve its build on disk now
        (the forked children go), from a new copy later."""
        with self._cond:
            if self._closed or self._zygote is not lost or self._renewing is lost:
                return
            self._renewing = lost
        build = lost.build
        log.error("the zygote of build %s ended; copying the build again", build.version)
        try:
            generation = self._generation(build, in_memory=False)
        except (CitygraphError, OSError) as error:
            log.error("cannot start query processes: %s", error)
            return
        if self._install(generation):
            self._copy_later(build)

    def _generation(self, build: Build, *, in_memory: bool, patient: bool = False) -> Generation:
        generation = self._processes.generation(build, in_memory=in_memory, patient=patient)
        with self._cond:
            self.stats.started += len(generation.children)
        return generation

    def pids(self) -> list[int]:
        """The process ids of the live query processes (for tests and diagnostics)."""
        return self._processes.pids()
