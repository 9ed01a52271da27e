"""One in-memory copy of the build per machine (issue 10 §2).

Real processes throughout: ``citygraph serve --workers 2`` (or pools sharing one zygote host)
on a store on disk, read through ``/proc``: which processes hold the copy (the zygote and the
query processes it forked), which read the build on disk.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.serving import running_server
from tests.web.conftest import CITY, make_build, tiny_quads

from citygraph.config import ZYGOTE_HOST_ENV
from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.engine.zygote_host import ZygoteHost

PARIS = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }}"
#: Per worker: one general-lane and one fast-lane query process.
PER_WORKER = {"CITYGRAPH_QUERY_PROCESSES": "1", "CITYGRAPH_FAST_QUERY_PROCESSES": "1"}


def processes(root: int) -> dict[int, tuple[int, str]]:
    """Every process below ``root`` (a server, a zygote host): pid -> (parent pid, command
    line). Not below this test process: the suite's other servers have zygotes of their own."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError):
                continue  # ended meanwhile
            table[int(entry.name)] = (ppid, command)
    mine, todo = {}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, command) in table.items():
            if ppid == parent:
                mine[pid] = (ppid, command)
                todo.append(pid)
    return mine


def zygotes(root: int) -> list[int]:
    """The processes holding a copy of a build that forked no one's copy (the zygotes)."""
    table = processes(root)
    return [
        pid
        for pid, (ppid, command) in table.items()
        if "citygraph.engine.zygote " in command
        and "citygraph.engine.zygote " not in table.get(ppid, (0, ""))[1]
    ]


def forked_by(root: int, zygote: int) -> list[int]:
    return [pid for pid, (ppid, _) in processes(root).items() if ppid == zygote]


def on_disk(root: int) -> list[int]:
    """Query processes reading the build on disk."""
    return [pid for pid, (_, cmd) in processes(root).items() if "engine.query_process" in cmd]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def one_copy_serves_all(root: int, query_processes: int) -> Callable[[], bool]:
    """The server holds one copy: one zygote, which forked every query process."""

    def check() -> bool:
        found = zygotes(root)
        return (
            len(found) == 1
            and len(forked_by(root, found[0])) == query_processes
            and not on_disk(root)
        )

    return check


def ask(url: str, n: int) -> None:
    """``n`` queries, each answered 200 with Paris's label (distinct texts: no cache answers)."""
    for i in range(n):
        query = PARIS + f" LIMIT {100 + i}"
        response = httpx.get(url + "/sparql", params={"query": query}, timeout=30)
        assert response.status_code == 200, response.text
        assert "Paris" in response.text


@pytest.fixture
def two_workers(store_dir: Path, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The URL of ``serve --workers 2`` and the process id of the server."""
    with running_server(
        store_dir, tmp_path / "server.log", args=["--workers", "2"], env=PER_WORKER
    ) as url:
        port = url.rsplit(":", 1)[1]
        serving = {
            pid: ppid
            for pid, (ppid, cmd) in processes(os.getpid()).items()
            if " serve " in cmd and f"--port {port} " in cmd + " "
        }
        # the serve command; its workers, forked from it, have its command line too
        (server,) = [pid for pid, ppid in serving.items() if ppid not in serving]
        yield url, server


def test_two_workers_share_one_zygote_holding_the_copy(two_workers: tuple[str, int]) -> None:
    url, server = two_workers
    wait_until(
        one_copy_serves_all(server, 4), "one zygote forking the 4 query processes of 2 workers"
    )
    ask(url, 8)
    (zygote,) = zygotes(server)
    (host,) = [pid for pid, (_, cmd) in processes(server).items() if "engine.zygote_host" in cmd]
    assert processes(server)[zygote][0] == host


def test_a_killed_query_process_then_a_killed_zygote_are_replaced(
    two_workers: tuple[str, int],
) -> None:
    url, server = two_workers
    wait_until(one_copy_serves_all(server, 4), "the copy serving both workers")
    (zygote,) = zygotes(server)
    os.kill(forked_by(server, zygote)[0], signal.SIGKILL)
    ask(url, 8)  # the dead process is noticed and replaced, no query fails
    wait_until(one_copy_serves_all(server, 4), "a fork replacing the killed query process")
    assert zygotes(server) == [zygote]

    os.kill(zygote, signal.SIGKILL)
    ask(url, 8)
    wait_until(
        lambda: one_copy_serves_all(server, 4)() and zygotes(server) != [zygote],
        "a new zygote forking every query process, the old copy gone",
    )
    ask(url, 8)


def job(query: str) -> QueryJob:
    return QueryJob(query, "http://example.org/", None, None, True, "JSON", None, 100, 10**6)


def answer(pool: QueryPool) -> str:
    reply, _ = pool.run(job(PARIS), timeout=20)
    assert reply.error is None, reply.message
    return reply.body.decode()


def test_a_new_build_is_answered_before_its_copy_and_never_beside_the_old_copy(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two pools (two workers) sharing one host: the first to see a new build answers from it
    on disk at once; its copy is made only once the other pool has left the old copy. (The
    store is tiny: ``copy_first=0`` treats it as a large one, served on disk until copied.)"""
    host = ZygoteHost(store_dir, grace=600)
    monkeypatch.setenv(ZYGOTE_HOST_ENV, str(host.path))
    first, second = (
        QueryPool(
            store_dir, size=1, in_memory=True, max_concurrent=4, check_interval=60, copy_first=0
        )
        for _ in range(2)
    )
    try:
        for pool in (first, second):
            pool.start()
            assert pool.wait_for_copy(60)
        root = host.process.pid
        (old,) = zygotes(root)
        make_build(store_dir, tiny_quads("v2"), "20260102T000000000000Z-bbbbbbbbbb")
        first.check_for_new_build(wait=True)
        assert "Paris v2" in answer(first)
        assert "Paris v1" in answer(second)
        assert not first.wait_for_copy(2)  # on disk: the old copy is still in use
        assert zygotes(root) == [old]
        second.check_for_new_build(wait=True)
        assert "Paris v2" in answer(second)
        assert first.wait_for_copy(60)
        assert second.wait_for_copy(60)
        assert "Paris v2" in answer(first)
        (new,) = zygotes(root)
        assert new != old
    finally:
        first.close()
        second.close()
        host.close()
