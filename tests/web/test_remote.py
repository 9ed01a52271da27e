"""What must still hold when the engine is a remote SPARQL store (docs/backends.md): the
deadline, the SERVICE gate (no OS sandbox reaches a remote store), a new build published to
the store being served with new ETags, and a store that dies or stops mid-request. Each runs
against a real ``oxigraph serve``, those about the deadline and a failing store against a real
Virtuoso too (``kind``); the SERVICE gate also on the embedded store, for comparison. (The
timeout, result and SERVICE limits as a client sees them: tests/web/test_limits.py, on every
backend.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from tests.backends import OxigraphServers, every_backend, remote_settings
from tests.web.conftest import CITY, CURATED, RDFS_LABEL, TOKEN, auth, make_build, tiny_quads
from tests.web.recorder import recording_server
from tests.web.test_limits import CHEAP, CROSS_PRODUCT

from citygraph import store
from citygraph.config import SettingError, Settings
from citygraph.engine import remote
from citygraph.engine.clients import CURRENT
from citygraph.engine.datasets import LOCK_GRAPH, STAGING_GRAPHS
from citygraph.engine.errors import ClientLimitError, QueryTimeoutError
from citygraph.engine.jobs import DatasetJob, QueryJob
from citygraph.engine.remote import BackendError, RemotePool, backend_of
from citygraph.engine.remote_store import RemoteHandle
from citygraph.namespaces import GRAPH
from citygraph.web.app import create_app

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

pytestmark = every_backend

HIDDEN_SERVICE = [
    pytest.param("SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", id="plain"),
    pytest.param("SELECT * {{ #x\rSERVICE <{url}> {{ ?x ?p ?o }} }}", id="cr-comment"),
    pytest.param("SELECT * {{ \\u0053ERVICE <{url}> {{ ?x ?p ?o }} }}", id="escaped-keyword"),
]


@pytest.mark.parametrize("template", HIDDEN_SERVICE)
def test_service_gets_403_and_the_store_calls_nothing(client: TestClient, template: str) -> None:
    with recording_server() as recorder:
        query = template.format(url=recorder.url("/sparql"))
        response = client.get("/sparql", params={"query": query})
        assert recorder.seen() == (0, [])
    assert response.status_code == 403, response.text
    assert "SERVICE" in response.text


def wide_store(root: Path) -> Path:
    """The tiny store and 200 more triples (8·10⁶ solutions for a three-way cross product)."""
    graph = ox.NamedNode(GRAPH + "wide")  # citygraph's namespace: a graph of the build it serves
    wide = [
        ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), RDFS_LABEL, ox.Literal(i), graph)
        for i in range(200)
    ]
    make_build(root, [*wide, *tiny_quads()], "20260101T000000000000Z-wide000000")
    return root


def test_a_query_past_the_deadline_gets_503_and_the_store_keeps_answering(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    wide = wide_store(tmp_path / "wide")
    local = Settings(store=wide, query_timeout=1.0, version_check_interval=0.0)
    settings = remote_settings(local, "oxigraph", oxigraph_servers, name="deadline")
    try:
        with TestClient(create_app(settings)) as client:
            heavy = client.get("/sparql", params={"query": CROSS_PRODUCT})
            cheap = client.get("/sparql", params={"query": CHEAP})
    finally:
        # oxigraph serve goes on evaluating the cross product after citygraph has gone
        # (test_limits.py, OXIGRAPH_GOES_ON): it would take a core for the rest of the session.
        oxigraph_servers.kill("deadline")
    assert heavy.status_code == 503, heavy.text
    assert "timeout" in heavy.text
    assert cheap.status_code == 200
    assert cheap.json()["boolean"] is True


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_a_query_whose_deadline_passes_mid_answer_leaves_nothing_of_it_behind(
    tmp_path: Path, oxigraph_servers: OxigraphServers, kind: str
) -> None:
    """The answer streams when the deadline passes: 503, and the error that goes from the
    handler's thread to the event loop carries nothing of the answer. pyoxigraph's parsed
    solutions are bound to the thread that read them (PyO3 "unsendable"): freed in another
    thread, they are leaked and reported as an unraisable exception, which pytest used to
    report in whichever test ran then."""
    wide = wide_store(tmp_path / "wide")
    local = Settings(
        store=wide,
        query_timeout=1.0,
        version_check_interval=0.0,
        max_result_rows=10**9,  # the deadline, not a limit, ends it
        max_response_bytes=10**10,
    )
    settings = remote_settings(local, kind, oxigraph_servers, name="mid-answer")
    streaming = "SELECT ?a { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"  # 1.6·10⁹ rows
    with unraisable_reports() as reports:
        with TestClient(create_app(settings)) as client:
            response = client.get("/sparql", params={"query": streaming})
        gc.collect()
    assert response.status_code == 503, response.text
    assert "did not finish within the timeout" in response.text
    assert reports == []


def test_a_build_published_to_the_store_is_served_with_a_new_etag(
    store_dir: Path, oxigraph_servers: OxigraphServers
) -> None:
    local = Settings(store=store_dir, version_check_interval=0.0)
    settings = remote_settings(local, "oxigraph", oxigraph_servers, name="switch")
    query = {"query": "SELECT ?l { <https://w3id.org/citygraph/id/city/fr-paris> ?p ?l }"}
    with TestClient(create_app(settings)) as client:
        before = client.get("/sparql", params=query)
        make_build(store_dir, tiny_quads("v2"), "20260102T000000000000Z-bbbbbbbbbb")
        remote_settings(local, "oxigraph", oxigraph_servers, name="switch")  # publishes v2
        after = client.get("/sparql", params=query)
        page = client.get("/id/city/fr-paris", headers={"Accept": "application/n-triples"})
    labels = [b["l"]["value"] for b in after.json()["results"]["bindings"]]
    assert [b["l"]["value"] for b in before.json()["results"]["bindings"]] == ["Paris v1"]
    assert labels == ["Paris v2"]
    assert after.headers["etag"] != before.headers["etag"]
    assert "Paris v2" in page.text


def test_settings_name_the_remote_store_only_with_http_urls() -> None:
    with pytest.raises(SettingError, match="http"):
        dataclasses.replace(Settings(), backend="file:///etc/passwd")


ROME = f"ASK {{ <{CITY}it-rome> ?p ?o }}"
INSERT_ROME = f'INSERT DATA {{ GRAPH <{CURATED}> {{ <{CITY}it-rome> {RDFS_LABEL} "Roma" }} }}'


def insert_rome(settings: Settings) -> tuple[httpx.Response, bool]:
    """Send the update that adds Rome to an app on ``settings``; its answer, and whether the
    app then serves Rome."""
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/sparql",
            content=INSERT_ROME,
            headers={"Content-Type": "application/sparql-update", **auth()},
        )
        rome = client.get("/sparql", params={"query": ROME})
    return response, bool(rome.json()["boolean"])


def test_a_write_the_store_refuses_is_published_nowhere(
    store_dir: Path, oxigraph_servers: OxigraphServers
) -> None:
    local = Settings(store=store_dir, version_check_interval=0.0, update_token=TOKEN)
    remote = remote_settings(local, "oxigraph", oxigraph_servers, name="refusing")
    # The Graph Store URL is wrong: the upload of the new build fails.
    broken = dataclasses.replace(remote, backend_store=remote.backend + "-no-store")
    before = store.current_build(store_dir).version
    response, served = insert_rome(broken)
    assert response.status_code == 502, response.text
    assert "refused the upload" in response.text
    assert store.current_build(store_dir).version == before  # the local build did not move
    assert not served  # nor did the store's
    again, served = insert_rome(remote)  # a later write publishes to both
    assert again.status_code == 204, again.text
    assert served
    assert store.current_build(store_dir).version != before


def test_a_write_while_another_publication_holds_the_store_gets_503(
    store_dir: Path, oxigraph_servers: OxigraphServers
) -> None:
    """The store is busy, not failing: 503 with Retry-After, and a message that says whose
    entry it is, how old and when it expires."""
    local = Settings(store=store_dir, version_check_interval=0.0, update_token=TOKEN)
    remote = remote_settings(local, "oxigraph", oxigraph_servers, name="busy")
    assert remote.backend_update
    other = (
        f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ <urn:citygraph:publication:other> "
        f'<urn:citygraph:lock#beat> ?now ; <urn:citygraph:lock#version> "other" }} }} '
        "WHERE { BIND(NOW() AS ?now) }"
    )
    httpx.post(remote.backend_update, data={"update": other}).raise_for_status()
    before = store.current_build(store_dir).version
    try:
        response, served = insert_rome(remote)
    finally:
        drop = f"DROP SILENT GRAPH <{LOCK_GRAPH}>"
        httpx.post(remote.backend_update, data={"update": drop}).raise_for_status()
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "urn:citygraph:publication:other" in response.text
    assert "expires in" in response.text
    assert store.current_build(store_dir).version == before
    assert not served


def job(query: str) -> QueryJob:
    return QueryJob(query, "", None, None, True, "JSON", None, 10**9, 10**12)


def test_a_client_gets_429_past_its_queries_in_progress(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    local = Settings(store=wide_store(tmp_path / "wide"), version_check_interval=0.0)
    settings = remote_settings(local, "oxigraph", oxigraph_servers, name="clients")
    pool = RemotePool(
        backend_of(settings), max_concurrent=4, check_interval=0.0, client_max_queries=1
    )
    pool.start()
    streaming = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # streams until its deadline

    def busy_client() -> None:
        CURRENT.set("198.51.100.1")
        with contextlib.suppress(QueryTimeoutError):
            pool.run(job(streaming), timeout=3.0)

    thread = threading.Thread(target=busy_client)
    thread.start()
    token = CURRENT.set("198.51.100.1")
    try:
        deadline = time.monotonic() + 10
        while pool.inflight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.inflight == 1
        with pytest.raises(ClientLimitError, match="too many queries from your address"):
            pool.run(job(CHEAP), timeout=10.0)
        CURRENT.set("203.0.113.5")  # another client is still served
        reply, _ = pool.run(job(CHEAP), timeout=10.0)
    finally:
        CURRENT.reset(token)
        thread.join()
        pool.close()
    assert reply.error is None
    assert b"true" in reply.body


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (Linux ``/proc/PID/stat``: utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
@pytest.mark.parametrize("via", ["endpoint", "pages"])
def test_a_store_that_dies_mid_answer_is_a_backend_error(
    tmp_path: Path, oxigraph_servers: OxigraphServers, via: str, kind: str
) -> None:
    name = f"dying-{via}"
    local = Settings(store=wide_store(tmp_path / "wide"), version_check_interval=0.0)
    settings = remote_settings(local, kind, oxigraph_servers, name=name)
    pool = RemotePool(backend_of(settings), max_concurrent=4, check_interval=0.0)
    pool.start()
    pid = oxigraph_servers.pid(name, kind=kind)
    streaming = "SELECT * { GRAPH ?x { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } }"  # 8·10⁶ solutions
    outcome: list[BaseException | None] = []

    def ask_store() -> None:
        try:
            if via == "endpoint":
                pool.run(job(streaming), timeout=120.0)
            else:  # what the pages call (engine/remote_store.py), on the union default graph
                union = pool.union_dataset(timeout=120.0)
                pool.client.query(streaming, timeout=120.0, dataset=union)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            outcome.append(error)

    baseline = cpu_seconds(pid)
    thread = threading.Thread(target=ask_store)
    thread.start()
    deadline = time.monotonic() + 60
    # Oxigraph sends the headers, then evaluates as it streams: once it has worked a while, the
    # answer is on its way.
    while cpu_seconds(pid) < baseline + 0.5:
        assert time.monotonic() < deadline, "the store did not start answering"
        assert thread.is_alive(), outcome
        time.sleep(0.01)
    oxigraph_servers.kill(name, kind=kind)
    thread.join()
    pool.close()
    assert isinstance(outcome[0], BackendError), repr(outcome[0])
    # Oxigraph streams while it evaluates: it dies mid-answer. Virtuoso evaluates the whole
    # answer first: it dies before answering (the connection reset, or refused on the retry).
    died = (
        "failed while answering"
        if kind == "oxigraph"
        else f"the store at {pool.client.backend.query}"
    )
    assert died in str(outcome[0])
    # The error came out of the thread that read the answer without the answer (pyoxigraph's
    # parsed solutions, bound to that thread): once the error is gone, nothing of the answer is
    # left, and nothing is freed in the wrong thread. (Before, the error's traceback held the
    # solutions, which held the answer's reader, which held the error: a cycle the collector
    # cannot see through, leaked with the response.)
    with unraisable_reports() as reports:
        outcome.clear()
        gc.collect()
    assert reports == []
    assert not [o for o in gc.get_objects() if isinstance(o, remote._Body)]


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_pages_do_not_queue_behind_a_version_read_of_a_slow_store(
    store_dir: Path, oxigraph_servers: OxigraphServers, kind: str
) -> None:
    local = Settings(store=store_dir, version_check_interval=0.0)
    backend = backend_of(remote_settings(local, kind, oxigraph_servers, name="stopped"))
    handle = RemoteHandle(backend, check_interval=3600.0, version_timeout=20.0)
    first = handle.snapshot()  # started; the next call reads the version again
    pid = oxigraph_servers.pid("stopped", kind=kind)
    os.kill(pid, signal.SIGSTOP)  # the store takes the requests but answers none
    try:
        reading = threading.Thread(target=handle.snapshot)
        reading.start()
        deadline = time.monotonic() + 30
        while handle.pool._served._next_check == 0.0:  # until the read has begun
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # Another page meanwhile: served from the version last read, not held up by the read.
        second = handle.snapshot()
        assert reading.is_alive()  # the read is still waiting for the store
    finally:
        os.kill(pid, signal.SIGCONT)
    reading.join()
    assert second is first
    # The store answers again: so does citygraph, without a restart.
    paris = f"ASK {{ <{CITY}fr-paris> ?p ?o }}"
    answer = handle.snapshot().store.query(paris, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QueryBoolean)
    assert answer


@contextlib.contextmanager
def unraisable_reports() -> Iterator[list[str]]:
    """What is reported as an unraisable exception (``sys.unraisablehook``) in the block."""
    reports: list[str] = []
    previous = sys.unraisablehook

    def record(report: UnraisableHookArgs) -> None:
        reports.append(f"{report.exc_type.__name__}: {report.exc_value}")

    sys.unraisablehook = record
    try:
        yield reports
    finally:
        sys.unraisablehook = previous


@pytest.mark.parametrize("kind", ["oxigraph", "virtuoso"])
def test_a_dataset_read_of_a_store_without_the_builds_graphs_is_empty(
    kind: str, oxigraph_servers: OxigraphServers
) -> None:
    # A store holding only a publication's staging graph (and, on Virtuoso, its system graphs):
    # none of it is the build's, so the whole dataset read is empty.
    backend = oxigraph_servers.get("no-build-graphs", kind=kind)
    staged = (
        f"INSERT DATA {{ GRAPH <{STAGING_GRAPHS[0]}> {{ <{CITY}> <{RDFS_LABEL.value}> 'x' }} }}"
    )
    httpx.post(backend.update, data={"update": staged}, timeout=60).raise_for_status()
    pool = RemotePool(backend, max_concurrent=1, check_interval=3600.0)
    try:
        reply, _ = pool.run(DatasetJob("N_QUADS", max_rows=10, max_bytes=10**6), timeout=60.0)
    finally:
        pool.close()
    assert (reply.error, reply.family, reply.format) == (None, "graph", "N_QUADS"), reply.message
    assert (reply.body, reply.count) == (b"", 0)
