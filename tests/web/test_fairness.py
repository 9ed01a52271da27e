"""Fair under load (issue 9 §5): per-client limits, the fast lane, a saturated /healthz, and
the timeout that counts the wait for a query process. Each test runs a real `citygraph serve`.

All test clients connect from 127.0.0.1; the servers trust it as a proxy
(``CITYGRAPH_TRUSTED_PROXIES``), so each simulated client names itself in ``X-Forwarded-For``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from tests.serving import autogroup_nice, running_server
from tests.web.conftest import make_build

from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import OverloadedError, QueryPool, QueryProcessError

#: 200^5 solutions: runs until any timeout of these tests.
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
#: A one-triple lookup.
LOOKUP = "SELECT ?o WHERE { <http://example.org/s7> <http://example.org/p> ?o }"


@pytest.fixture
def wide_store(tmp_path: Path) -> Path:
    root = tmp_path / "wide"
    graph = ox.NamedNode("http://example.org/g")
    predicate = ox.NamedNode("http://example.org/p")
    quads = [
        ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), predicate, ox.Literal(i), graph)
        for i in range(200)
    ]
    make_build(root, quads, "20260101T000000000000Z-wide000000")
    return root


@contextmanager
def serving(store: Path, log: Path, **settings: object) -> Iterator[str]:
    env = {"CITYGRAPH_TRUSTED_PROXIES": "127.0.0.1", "CITYGRAPH_IN_MEMORY": "false"}
    env.update({"CITYGRAPH_" + name.upper(): str(value) for name, value in settings.items()})
    with running_server(store, log, env=env) as url:
        yield url


def sparql(url: str, query: str, client: str) -> httpx.Response:
    return httpx.get(
        url + "/sparql",
        params={"query": query},
        headers={"X-Forwarded-For": client, "Accept": "application/sparql-results+json"},
        timeout=120,
    )


def health(url: str) -> httpx.Response:
    return httpx.get(url + "/healthz", timeout=30)


def wait_until(condition: Callable[[dict[str, int]], bool], url: str) -> None:
    """Wait (boundedly) until the server's /healthz body meets ``condition``."""
    deadline = time.monotonic() + 30
    while not condition(health(url).json()):
        assert time.monotonic() < deadline, health(url).text
        time.sleep(0.05)


class Requests:
    """Requests sent from background threads; ``results`` in order of sending."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.threads: list[threading.Thread] = []
        self.results: list[httpx.Response | None] = []

    def send(self, query: str, client: str) -> None:
        index = len(self.results)
        self.results.append(None)

        def run() -> None:
            self.results[index] = sparql(self.url, query, client)

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)

    def wait(self) -> list[httpx.Response]:
        for thread in self.threads:
            thread.join(timeout=120)
        assert all(r is not None for r in self.results)
        return [r for r in self.results if r is not None]


class Loops:
    """Clients that send the same query again and again until stopped."""

    def __init__(self, url: str, query: str, clients: list[str]) -> None:
        self.stop = threading.Event()
        self.statuses: list[int] = []
        self.threads = [threading.Thread(target=self._loop, args=(url, query, c)) for c in clients]
        for thread in self.threads:
            thread.start()

    def _loop(self, url: str, query: str, client: str) -> None:
        while not self.stop.is_set():
            try:
                self.statuses.append(sparql(url, query, client).status_code)
            except httpx.TransportError:
                return  # the server stopped

    def end(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def test_one_client_cannot_take_every_query_process(wide_store: Path, tmp_path: Path) -> None:
    with serving(
        wide_store,
        tmp_path / "server.log",
        query_processes=2,
        client_query_processes=1,
        client_max_queries=2,
        query_timeout=8,
    ) as url:
        requests = Requests(url)
        requests.send(HEAVY, "198.51.100.1")
        requests.send(HEAVY, "198.51.100.1")
        # one of them runs; the other waits though a general-lane process is free
        wait_until(lambda h: h["waiting_queries"] == 1 and h["free_query_processes"] == 1, url)
        # a third query of the same client is refused at once; another client's is not
        refused = sparql(url, LOOKUP, "198.51.100.1")
        requests.send(HEAVY, "198.51.100.2")
        first, second, other = requests.wait()
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "too many queries from your address" in refused.text
    # one of the first client's queries ran; the other waited for the one process it may use
    texts = sorted([first.text, second.text])
    assert "ran out of time" in texts[1]
    assert "your other queries occupy the 1 query process" in texts[0]
    # the other client's query got the second process (it ran until the timeout)
    assert other.status_code == 503
    assert "ran out of time" in other.text


def test_lookup_is_answered_while_expensive_queries_hold_the_general_lane(
    wide_store: Path, tmp_path: Path
) -> None:
    with serving(
        wide_store,
        tmp_path / "server.log",
        query_processes=2,
        fast_query_processes=1,
        query_timeout=5,
        saturated_queue=100,
    ) as url:
        heavy = Loops(url, HEAVY, [f"198.51.100.{i}" for i in range(1, 7)])
        try:
            wait_until(lambda h: h["free_query_processes"] == 0 and h["waiting_queries"] >= 2, url)
            lookups = [sparql(url, LOOKUP, "203.0.113.5") for _ in range(5)]
            during = health(url).json()
            metrics = httpx.get(url + "/metrics").text
        finally:
            heavy.end()
    for lookup in lookups:
        assert lookup.status_code == 200, lookup.text
        assert lookup.json()["results"]["bindings"][0]["o"]["value"] == "7"
    assert during["free_query_processes"] == 0, "the expensive queries still held the lane"
    # the expensive query was tried in the fast lane once, then known to be slow
    assert "citygraph_queries_demoted_total 1.0" in metrics


def test_healthz_says_saturated_while_queries_queue(wide_store: Path, tmp_path: Path) -> None:
    with serving(
        wide_store,
        tmp_path / "server.log",
        query_processes=1,
        # No fast lane: each query goes straight to the one general-lane process or waits for
        # it. (Through a fast lane, the queue formed only once a query had spent the lane's CPU
        # budget, which under load could take longer than the queries' 4 s.)
        fast_query_processes=0,
        saturated_queue=1,
        query_timeout=4,
    ) as url:
        idle = health(url)
        # Three clients that send again as soon as they are answered: one query runs, the
        # others wait, whatever the timing (a query timed out is at once replaced by the next).
        heavy = Loops(url, HEAVY, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
        try:
            deadline = time.monotonic() + 30
            # (between two queries the one process may be being replaced: "unavailable")
            while (busy := health(url)).json()["status"] != "saturated":
                assert time.monotonic() < deadline, busy.text
                time.sleep(0.05)
        finally:
            heavy.end()
        # with the queries over, the worker says it can serve again
        wait_until(lambda h: h["status"] == "ok", url)
    assert idle.status_code == 200
    assert idle.json()["status"] == "ok"
    assert busy.status_code == 503
    assert busy.json()["status"] == "saturated"
    assert busy.json()["free_query_processes"] == 0
    # more than saturated_queue wait (the third client's query, or all three while the process
    # of the query that timed out is replaced)
    assert busy.json()["waiting_queries"] in (2, 3)
    assert busy.headers["retry-after"] == "1"


#: 200^2 * 60 solutions (2.4 million): a query that ends by itself, well within the timeout.
MEDIUM = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(?i < 60) }"


def test_time_waiting_for_a_query_process_counts_against_the_timeout(
    wide_store: Path, tmp_path: Path
) -> None:
    """A query that waits for a query process and then gets one runs only for the rest of its
    timeout: it ends before a query sent after it (with the same timeout) that did not wait.
    Had the wait not counted, it would run a whole timeout after getting the process, and end
    after that later query."""
    with serving(
        wide_store,
        tmp_path / "server.log",
        query_processes=3,
        fast_query_processes=0,
        client_query_processes=1,
        client_max_queries=2,
        query_timeout=10,
    ) as url:
        ended: list[str] = []
        answers: dict[str, httpx.Response] = {}

        def send(name: str, query: str, client: str) -> threading.Thread:
            def run() -> None:
                answers[name] = sparql(url, query, client)
                ended.append(name)

            thread = threading.Thread(target=run)
            thread.start()
            return thread

        threads = [send("first", HEAVY, "198.51.100.1")]
        wait_until(lambda h: h["queries_in_progress"] == 1, url)
        # Time passes in states, not sleeps: another client's query that ends by itself. Then
        # the first client's second query waits (a process is free, but the client has its
        # one) until the first query is stopped at its timeout, and gets a process with what
        # this query's run left of its timeout.
        assert sparql(url, MEDIUM, "203.0.113.1").status_code == 200
        threads.append(send("waited", HEAVY, "198.51.100.1"))
        wait_until(lambda h: h["waiting_queries"] == 1, url)
        # Again a query that ends by itself, then one sent later than the waiting one, that
        # gets a process at once.
        assert sparql(url, MEDIUM, "203.0.113.1").status_code == 200
        threads.append(send("later", HEAVY, "203.0.113.1"))
        for thread in threads:
            thread.join(timeout=120)
    assert answers["waited"].status_code == 503
    text = answers["waited"].text
    assert "ran out of time" in text, "it got the process (the case this test is for)"
    # the waiting query's timeout began when it was sent, before the later query's
    assert ended.index("waited") < ended.index("later"), ended


def test_expensive_queries_yield_the_cpu_to_the_fast_lane(client: TestClient) -> None:
    # conftest's app: two general-lane processes and one in the fast lane. The general lane runs
    # under SCHED_IDLE, every thread of it (a query runs on the main thread, the watchdog on
    # another): the worker and the fast lane preempt it whenever they want a core.
    pool = client.app.state.endpoint.pool  # type: ignore[attr-defined]
    policies = sorted(
        sorted({os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")})
        for pid in pool.pids()
    )
    assert policies == [[os.SCHED_OTHER], [os.SCHED_IDLE], [os.SCHED_IDLE]]
    # the fast lane keeps the worker's own niceness
    fast = [pid for pid in pool.pids() if os.sched_getscheduler(pid) == os.SCHED_OTHER]
    assert os.getpriority(os.PRIO_PROCESS, fast[0]) == os.getpriority(os.PRIO_PROCESS, 0)
    # Each leads a session of its own, so its CPU time is not charged to the worker's
    # scheduling group (autogroup); the general lane's groups have the highest niceness.
    assert all(os.getsid(pid) == pid for pid in pool.pids())
    assert os.getsid(0) not in pool.pids()
    if Path("/proc/self/autogroup").exists():  # a kernel with autogroups
        # each leads a session, so each has an autogroup (None would not sort in)
        nice = sorted(n for n in map(autogroup_nice, pool.pids()) if n is not None)
        assert nice == [0, 19, 19]


def test_queries_waiting_when_the_server_shuts_down_get_503(wide_store: Path) -> None:
    pool = QueryPool(wide_store, size=1, in_memory=False, max_concurrent=4, check_interval=60)
    pool.start()
    job = QueryJob(HEAVY, "http://example.org/", None, None, True, "JSON", None, 10, 10**6)
    outcomes: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(job, timeout=60)
        except (OverloadedError, QueryProcessError) as error:
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while pool.load().waiting < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pool.close()
    for thread in threads:
        thread.join(timeout=30)
    # The waiting query and the running one (its process killed by close()): a retry elsewhere
    # will do (503), not a server fault (500).
    assert len(outcomes) == 2
    assert all(isinstance(e, OverloadedError) for e in outcomes), outcomes
    assert all("shutting down" in str(e) for e in outcomes)
