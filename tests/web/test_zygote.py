"""In memory, the query processes are forked from one zygote holding the build (issue 10 §2).

Real processes throughout: a pool on a store on disk, its zygote, its forked children, read
through ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.serving import autogroup_nice
from tests.web.conftest import CITY, make_build, tiny_quads

from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool, QueryTimeoutError
from citygraph.engine.zygote import OWN_FLOOR, OWN_SHARE

S7 = "SELECT ?o WHERE { <http://example.org/s7> ?p ?o }"
PARIS = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }}"
#: 200^5 rows: runs until it is killed.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o }"


def job(query: str) -> QueryJob:
    return QueryJob(query, "http://example.org/", None, None, True, "JSON", None, 100, 10**6)


def status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split(maxsplit=1)[1]
    raise AssertionError(f"no {field} line")  # pragma: no cover


def data_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max data size"):
            return int(line.split()[3])
    raise AssertionError("no data limit line")  # pragma: no cover


def gone(pid: int, within: float = 10) -> bool:
    """Whether ``pid`` has ended and been reaped within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def answer(pool: QueryPool, query: str = PARIS) -> str:
    reply, _ = pool.run(job(query), timeout=20)
    assert reply.error is None, reply.message
    return reply.body.decode()


@pytest.fixture
def wide_store(tmp_path: Path) -> Path:
    root = tmp_path / "wide"
    graph = ox.NamedNode("http://example.org/g")
    make_build(
        root,
        [
            ox.Quad(
                ox.NamedNode(f"http://example.org/s{i}"),
                ox.NamedNode("http://example.org/p"),
                ox.Literal(i),
                graph,
            )
            for i in range(200)
        ],
        "20260101T000000000000Z-wide000000",
    )
    return root


@pytest.fixture
def pool(wide_store: Path) -> Iterator[QueryPool]:
    pool = QueryPool(
        wide_store,
        size=2,
        fast_size=1,
        in_memory=True,
        max_concurrent=16,
        check_interval=60,
        memory=200_000_000,
    )
    pool.start()
    assert pool.wait_for_copy(60)
    try:
        yield pool
    finally:
        pool.close()


def zygote_pid(pool: QueryPool) -> int:
    (parent,) = {int(status(pid, "PPid")) for pid in pool.pids()}
    return parent


def test_every_query_process_is_a_sandboxed_child_of_one_zygote(pool: QueryPool) -> None:
    parent = zygote_pid(pool)
    assert parent != os.getpid()
    assert "citygraph.engine.zygote" in Path(f"/proc/{parent}/cmdline").read_text()
    for pid in pool.pids():
        assert status(pid, "Seccomp") == "2"
        # the budget counts from what the child holds after the fork (the inherited copy)
        held = int(status(pid, "VmData").split()[0]) * 1024
        assert held < data_limit(pid) <= held + 200_000_000 + 16 * 2**20


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="a kernel without autogroups")
def test_once_its_copy_is_made_the_zygote_forks_at_the_workers_priority(pool: QueryPool) -> None:
    """The host lowers the zygote's session group for its copy (niceness 19); once the copy is
    made it is back at 0, and the children it forks start with the worker's niceness (the
    copy's thread was the only one at 19)."""
    parent = zygote_pid(pool)
    assert autogroup_nice(parent) == 0  # it leads a session, so it has an autogroup
    assert os.getpriority(os.PRIO_PROCESS, parent) == os.getpriority(os.PRIO_PROCESS, 0)
    for pid in pool.pids():
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)


def test_a_killed_child_is_replaced_by_a_fork_and_the_rest_keep_answering(
    pool: QueryPool,
) -> None:
    parent = zygote_pid(pool)
    before = set(pool.pids())
    answers: list[str] = []
    errors: list[BaseException] = []

    def cheap_queries() -> None:
        try:
            for _ in range(20):
                answers.append(answer(pool, S7))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=cheap_queries) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(3):  # heavy queries killed at their timeout while cheap ones run
        with pytest.raises(QueryTimeoutError):
            pool.run(job(ENDLESS), timeout=0.5)
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(answers) == 60
    assert all('"value":"7"' in text for text in answers), answers[0]
    killed = before - set(pool.pids())
    assert killed
    assert all(gone(pid) for pid in killed)
    deadline = time.monotonic() + 10
    while len(pool.pids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pool.pids()) == 3
    assert zygote_pid(pool) == parent


def test_a_new_build_gets_a_new_zygote_and_the_old_one_ends(store_dir: Path) -> None:
    pool = QueryPool(store_dir, size=1, in_memory=True, max_concurrent=4, check_interval=60)
    pool.start()
    try:
        assert pool.wait_for_copy(60)
        old = zygote_pid(pool)
        assert "Paris v1" in answer(pool)
        make_build(store_dir, tiny_quads("v2"), "20260102T000000000000Z-bbbbbbbbbb")
        pool.check_for_new_build(wait=True)
        assert "Paris v2" in answer(pool)
        assert pool.wait_for_copy(60)
        assert "Paris v2" in answer(pool)
        assert zygote_pid(pool) not in (old, os.getpid())
        assert gone(old)
    finally:
        pool.close()


def test_closing_the_pool_ends_the_zygote_and_every_child(store_dir: Path) -> None:
    pool = QueryPool(
        store_dir, size=2, fast_size=1, in_memory=True, max_concurrent=4, check_interval=60
    )
    pool.start()
    assert pool.wait_for_copy(60)
    processes = [zygote_pid(pool), *pool.pids()]
    pool.close()
    assert all(gone(pid) for pid in processes)


WORKER = """
import sys, threading, time
from pathlib import Path
from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool

pool = QueryPool(Path(sys.argv[1]), size=1, in_memory=True, max_concurrent=4, check_interval=60)
pool.start()
assert pool.wait_for_copy(60)
query = sys.argv[2]
job = QueryJob(query, "http://example.org/", None, None, True, "JSON", None, 100, 10**6)
threading.Thread(target=pool.run, args=(job,), kwargs={"timeout": 600}, daemon=True).start()
while pool.inflight == 0:
    time.sleep(0.01)
print(*pool.pids(), flush=True)
time.sleep(600)
"""


def test_a_killed_worker_takes_its_zygote_and_busy_children_with_it(wide_store: Path) -> None:
    """No query runs on unsupervised (past its timeout) once the server worker is gone."""
    with subprocess.Popen(
        [sys.executable, "-c", WORKER, str(wide_store), ENDLESS], stdout=subprocess.PIPE
    ) as worker:
        try:
            assert worker.stdout is not None
            (busy,) = (int(pid) for pid in worker.stdout.readline().split())
            zygote = int(status(busy, "PPid"))
            worker.kill()
            worker.wait()
            assert gone(busy)
            assert gone(zygote)
        finally:
            worker.kill()


#: A parent that starts a zygote as the host does (its own session, a channel), says its pid,
#: and waits to be killed.
_HOST = (
    "import socket, subprocess, sys, time\n"
    "ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
    "zygote = subprocess.Popen([sys.executable, '-m', 'citygraph.engine.zygote',\n"
    "    str(theirs.fileno()), sys.argv[1], sys.argv[2]], pass_fds=(theirs.fileno(),),\n"
    "    start_new_session=True)\n"
    "print(zygote.pid, flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_zygote_whose_parent_dies_during_its_copy_ends(tmp_path: Path) -> None:
    """The zygote leads a session of its own: if its host is killed while it copies a build,
    it ends within seconds rather than finish a copy no one will use (here 1M quads: measured
    5-18 s for the copy alone on this machine, so a zygote that only ends once its copy is made
    and its channel read fails the 3 s allowed; the kernel kills it with its parent)."""
    root = tmp_path / "big"
    version = "20260101T000000000000Z-big0000000"
    graph = ox.NamedNode("http://example.org/g")
    p = ox.NamedNode("http://example.org/p")
    build = make_build(
        root,
        (
            ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(i), graph)
            for i in range(1_000_000)
        ),
        version,
    )
    with subprocess.Popen(
        [sys.executable, "-c", _HOST, str(build.path), version], stdout=subprocess.PIPE, text=True
    ) as host:
        assert host.stdout is not None
        zygote = int(host.stdout.readline())
        try:
            time.sleep(1.5)  # the copy has begun (the zygote is up, its parent watched)
            host.kill()
            host.wait()
            assert gone(zygote, within=3)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(zygote, 9)


def memory_kib(pid: int, field: str) -> int:
    """A field of ``/proc/PID/smaps_rollup`` (kB): ``Private_Dirty`` are the pages this process
    alone holds and wrote; ``Rss`` all it maps."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} line")  # pragma: no cover


@pytest.fixture
def large_store(tmp_path: Path) -> Path:
    """A build large enough that its copy leaves the allocator's heap full of free chunks, and
    that a query reading all of it writes to many megabytes of the copy (100,000 quads)."""
    root = tmp_path / "large"
    graph = ox.NamedNode("http://example.org/g")
    quads = (
        ox.Quad(
            ox.NamedNode(f"http://example.org/s{i}"),
            ox.NamedNode(f"http://example.org/p{i % 7}"),
            ox.Literal(f"value number {i}"),
            graph,
        )
        for i in range(100_000)
    )
    make_build(root, quads, "20260101T000000000000Z-large00000")
    return root


def test_a_forked_query_process_shares_the_copy_instead_of_writing_to_it(
    large_store: Path,
) -> None:
    """The copy is shared only as long as the children do not write to its pages (copy-on-write).
    A child that started its threads and answered a query holds a small part of the copy as its
    own: 3.5 MB of a 117 MB zygote (25 MB before the zygote kept to one allocator arena)."""
    pool = QueryPool(large_store, size=1, in_memory=True, max_concurrent=4, check_interval=60)
    pool.start()
    try:
        assert pool.wait_for_copy(120)
        assert "value number 7" in answer(pool, S7)
        (child,) = pool.pids()
        zygote = zygote_pid(pool)
        copy = memory_kib(zygote, "Rss")
        own = memory_kib(child, "Private_Dirty")
        assert own < copy / 20, f"the child holds {own} kB of its own, the zygote {copy} kB"
    finally:
        pool.close()


def test_a_query_process_that_made_the_copy_its_own_is_replaced_by_a_new_fork(
    large_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oxigraph's in-memory store writes to what a query reads, so a query that reads the whole
    build copies most of the zygote's pages into its process. Such a process answers, then ends
    and is replaced by a fork, which shares the copy again: after each such query, and any
    number of them, no query process holds more than its share of its own."""
    monkeypatch.setenv("CITYGRAPH_QUERY_RETIRE_SHARE", str(OWN_SHARE))
    pool = QueryPool(large_store, size=1, in_memory=True, max_concurrent=4, check_interval=60)
    pool.start()
    try:
        assert pool.wait_for_copy(120)
        limit = max(OWN_FLOOR, memory_kib(zygote_pid(pool), "Rss") * 1024 * OWN_SHARE)
        for i in range(3):
            (before,) = pool.pids()
            reply, _ = pool.run(
                job(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {i + 1}"), timeout=60
            )
            assert reply.error is None, reply.message
            assert '"100000"' in reply.body.decode()
            assert gone(before), "the process that read the whole copy still runs"
            assert "value number 7" in answer(pool, S7)  # a new fork answers
            (after,) = pool.pids()
            assert after != before
            assert memory_kib(after, "Private_Dirty") * 1024 < limit
        # each retirement is counted (citygraph_query_process_ends_total{reason="retired"})
        assert pool.stats.ends["retired"] == 3
        assert sum(pool.stats.ends.values()) == 3  # and as nothing else
    finally:
        pool.close()


def test_concurrent_queries_that_each_retire_their_process_are_all_answered(
    large_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every full scan makes its process retire (its reply is its last): jobs from several
    threads at once, on both lanes, are all answered, none is handed to a process that is
    ending, and the pool is complete again afterwards, with new forks."""
    monkeypatch.setenv("CITYGRAPH_QUERY_RETIRE_SHARE", str(OWN_SHARE))
    pool = QueryPool(
        large_store, size=2, fast_size=1, in_memory=True, max_concurrent=16, check_interval=60
    )
    pool.start()
    try:
        assert pool.wait_for_copy(120)
        first = set(pool.pids())
        errors: list[str] = []

        def scans(thread: int) -> None:
            for i in range(4):
                text = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {thread * 10 + i + 1}"
                try:
                    reply, _ = pool.run(job(text), timeout=120)
                except Exception as error:  # noqa: BLE001 - collected for the assertion below
                    errors.append(repr(error))
                    continue
                if reply.error is not None or '"100000"' not in reply.body.decode():
                    errors.append(f"{reply.error}: {reply.message}")

        threads = [threading.Thread(target=scans, args=(t,)) for t in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            load = pool.load()
            if len(pool.pids()) == 3 and load.free + load.free_fast == 3:
                break
            time.sleep(0.05)
        load = pool.load()
        assert (len(pool.pids()), load.free, load.free_fast) == (3, 2, 1)
        assert not first & set(pool.pids()), "a process that read the whole copy still serves"
        assert all(gone(pid) for pid in first)
        assert "value number 7" in answer(pool, S7)
    finally:
        pool.close()


def test_by_default_a_query_process_keeps_what_it_read(large_store: Path) -> None:
    """By default (``CITYGRAPH_QUERY_RETIRE_SHARE=0``) a process is not replaced for its memory:
    the process that read the whole copy answers the next query too, holding the pages it made
    its own."""
    pool = QueryPool(large_store, size=1, in_memory=True, max_concurrent=4, check_interval=60)
    pool.start()
    try:
        assert pool.wait_for_copy(120)
        (before,) = pool.pids()
        for i in range(2):
            reply, _ = pool.run(
                job(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {i + 1}"), timeout=60
            )
            assert reply.error is None, reply.message
        assert "value number 7" in answer(pool, S7)
        assert pool.pids() == [before]
        assert pool.stats.ends["retired"] == 0
        limit = max(OWN_FLOOR, memory_kib(zygote_pid(pool), "Rss") * 1024 * OWN_SHARE)
        assert memory_kib(before, "Private_Dirty") * 1024 > limit
    finally:
        pool.close()
