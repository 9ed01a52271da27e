"""The query processes a pool serves from: the generation on the current build, its switch to a
new build, the in-memory copy, and the replacement of a process that ended.

Why a zygote: in memory, copying the build takes seconds to minutes and holds the whole build.
So the machine has one :mod:`~citygraph.engine.zygote` per build that copies it once and forks
the children of both lanes of every worker; they share its pages, and a replacement is a fork
(milliseconds). On disk, each child is a fresh ``python -m citygraph.engine.query_process`` on
the shared build. In memory, a build larger than :data:`COPY_FIRST` quads is first served by a
generation on disk (ready in about a second), then by one forked from the zygote once its copy is
made (:meth:`Generations.wait_for_copy`): the first answer does not wait for the copy, and a
switch never holds two copies while one is made (:mod:`citygraph.engine.zygote_host`). If the
zygote dies, the pool does the same again. A smaller build is copied first (as fast as starting
processes on disk).
Making, readying and stopping them is :mod:`citygraph.engine.processes`; scheduling jobs onto
them is :mod:`citygraph.engine.pool`.

Why generations: all children serve the same build. At most once per ``check_interval`` a
request asks the :class:`~citygraph.engine.builds.BuildWatcher` (one ``readlink`` of the
store's ``current`` link); when it names a new build, a
background thread starts a new generation of children on it and, once all of them are ready,
swaps it in. Requests meanwhile keep being answered by the old generation, so a rebuild never
fails a request; a build that cannot be served (of another format, :mod:`citygraph.build_format`,
or one the processes cannot open) is not switched to: the old generation keeps serving. Children
of the old generation end when their current job is done, and the old zygote (its copy of the
build) right after its last child.

No web framework here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from citygraph.engine.builds import BuildWatcher, CurrentLink
from citygraph.engine.processes import Child, Generation, QueryProcesses
from citygraph.engine.zygote import Zygote
from citygraph.errors import BuildFormatError, CitygraphError
from citygraph.store import Build

__all__ = ["COPY_FIRST", "END_REASONS", "Generations", "PoolStats"]

log = logging.getLogger(__name__)

#: Builds of fewer quads than this are copied into memory before they are served (a second or
#: two); larger ones are served from the on-disk build until their copy is ready.
COPY_FIRST = 50_000

#: Why a query process ended during a job: its query ran out of time; it spent the fast lane's
#: CPU budget (the query runs again in the general lane); its client went away (the query was
#: ended, :class:`~citygraph.engine.errors.QueryCancelledError`); its memory budget; the engine
#: panicked (an internal error of Oxigraph on that query); anything else; it answered and retired
#: (a forked process that holds too much of its own memory: ``Reply.last``).
END_REASONS = ("timeout", "demoted", "cancelled", "memory", "panic", "crash", "retired")


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


class Generations:
    """The ready query processes of both lanes on the build served now, kept complete: a
    switch to a newly published build, the in-memory copy, replacements.

    ``start()`` blocks until the first generation is ready; ``close()`` ends every child. Free
    processes are in ``_idle`` (general lane) and ``_idle_fast``; whoever takes one gives it
    back with :meth:`_release`, or :meth:`_discard` when it broke. ``_cond`` guards them.
    """

    def __init__(
        self,
        root: Path,
        *,
        size: int,
        in_memory: bool,
        check_interval: float,
        offline: bool = True,
        memory: int = 0,
        fast_size: int = 0,
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
        self.check_interval = check_interval
        self._watcher = BuildWatcher(root, check_interval=check_interval, link=link)
        self.fast_size = max(0, fast_size)
        self.stats = PoolStats()
        self._cond = threading.Condition()
        self._idle: list[Child] = []
        self._idle_fast: list[Child] = []
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
        self._switching = False
        self._closed = False
        #: The version whose in-memory copy is being made ("" when none).
        self._copying = ""
        #: The zygote of the last generation installed, once the one before it has stopped.
        self._settled: Zygote | None = None
        #: The ended zygote whose build is being served again.
        self._renewing: Zygote | None = None
        #: Why the build ``current`` names was last refused (said once, not at every check).
        self._refused = ""

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
            refused = str(error) if isinstance(error, BuildFormatError) else ""
            if not refused or refused != self._refused:
                log.error(
                    "cannot switch to the new build, still serving %s: %s", self.version, error
                )
            with self._cond:
                self._refused = refused
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

    # -- keeping the generation complete ------------------------------------------------------

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
