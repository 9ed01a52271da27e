"""Publishing a build to a remote store (engine/remote_publish.py, docs/backends.md), against a real
``oxigraph serve`` and a real Virtuoso: the store ends up holding exactly the new build, leftovers
of a failed publication go, other graphs stay, a publication that fails leaves the served build,
two publications never stage at once, and readers never read what is being staged."""

from __future__ import annotations

import datetime
import doctest
import importlib
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.backends import VIRTUOSO_MOVE, OxigraphServers, empty, fails_on
from tests.web.conftest import CURATED, META, RDFS_LABEL, VOCAB, city, make_build, tiny_quads

from citygraph.engine import remote_publish, remote_staging, remote_switch
from citygraph.engine.datasets import LOCK_GRAPH, STAGING_GRAPHS, STAGING_PREFIX
from citygraph.engine.errors import QueryTimeoutError
from citygraph.engine.jobs import QueryJob
from citygraph.engine.remote import Backend, BackendError, RemotePool, SparqlClient
from citygraph.engine.remote_publish import PublicationBusyError, download, publish_build
from citygraph.engine.remote_store import RemoteHandle
from citygraph.engine.remote_switch import HalfSwitchedError, switch_update
from citygraph.store import Build, open_build

FOREIGN = "http://example.org/someone-elses-graph"
EXTRA = "https://w3id.org/citygraph/graph/extra"


def graphs(backend: Backend) -> set[str]:
    return {g.value for g in download(backend).named_graphs() if isinstance(g, ox.NamedNode)}


def version(backend: Backend) -> str:
    pool = RemotePool(backend, max_concurrent=1, check_interval=0.0)
    pool.start()
    pool.close()
    return pool.version


def put(backend: Backend, graph: str, data: str) -> None:
    response = httpx.put(
        backend.store,
        params={"graph": graph},
        content=data,
        headers={"Content-Type": "application/n-triples"},
    )
    response.raise_for_status()


@pytest.fixture
def builds(tmp_path: Path) -> tuple[Build, Build]:
    """Build A (the tiny store plus graph:extra), then build B (no graph:extra, new labels)."""
    root = tmp_path / "store"
    extra = ox.Quad(city("de-berlin"), RDFS_LABEL, ox.Literal("extra"), ox.NamedNode(EXTRA))
    first = make_build(root, [*tiny_quads("v1"), extra], "20260101T000000000000Z-aaaaaaaaaa")
    second = make_build(root, tiny_quads("v2"), "20260102T000000000000Z-bbbbbbbbbb")
    return first, second


def own(backend: Backend) -> set[str]:
    """The graphs a reader takes for the build's (a store's system graphs left out)."""
    pool = RemotePool(backend, max_concurrent=1, check_interval=0.0)
    try:
        pool.start()
        return set(pool.graph_names(timeout=30))
    finally:
        pool.close()


def lock(backend: Backend, holder: str, beat: str = "NOW()") -> None:
    """An entry in the store's lock, as another publisher (alive, or dead long ago) leaves."""
    update = (
        f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ <{holder}> <urn:citygraph:lock#beat> ?now ; "
        f'<urn:citygraph:lock#version> "other" }} }} WHERE {{ BIND({beat} AS ?now) }}'
    )
    httpx.post(backend.update, data={"update": update}).raise_for_status()


#: The time zone of the Virtuoso of these tests: five hours east of UTC (POSIX ``TZ`` counts
#: west), unlike this machine's. Its ``NOW()`` is its local time without a time zone, so a
#: heartbeat it writes is five hours off for anyone who reads it as UTC. (Oxigraph's ``NOW()``
#: is UTC, with its zone, whatever ``TZ`` says.)
EAST = "XYZ-5"


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote(request: pytest.FixtureRequest, oxigraph_servers: OxigraphServers) -> Backend:
    """A store of these tests (an oxigraph serve, a Virtuoso in another time zone), emptied,
    with a graph citygraph did not write."""
    backend = oxigraph_servers.get("publish", kind=request.param, timezone=EAST)
    empty(backend)
    put(
        backend, FOREIGN, "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
    )
    return backend


def test_the_store_holds_exactly_the_new_build_and_other_graphs_stay(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    assert own(remote) == {CURATED, VOCAB, META, EXTRA, FOREIGN}
    assert version(remote) == "v1"  # graph:meta's owl:versionInfo (tiny_quads)

    # Left by a publication of an older citygraph that failed before its switch.
    put(remote, STAGING_PREFIX + "old:0", '<http://example.org/x> <http://example.org/y> "1" .\n')
    # What is being uploaded is never part of what readers query.
    assert own(remote) == {CURATED, VOCAB, META, EXTRA, FOREIGN}
    done = publish_build(second, remote)

    assert own(remote) == {CURATED, VOCAB, META, FOREIGN}
    # No staging graph left, and no lock entry (the lock graph keeps the switch's marks only).
    assert not [g for g in graphs(remote) if g.startswith(STAGING_PREFIX) and g != LOCK_GRAPH]
    assert not lock_holders(remote)
    assert done.dropped == (EXTRA,)
    assert version(remote) == "v2"
    served = download(remote)
    paris = list(served.quads_for_pattern(city("fr-paris"), RDFS_LABEL, None, None))
    assert [q.object for q in paris] == [ox.Literal("Paris v2", language="fr")]
    mine = [q for q in served if q.graph_name.value in {CURATED, VOCAB, META, FOREIGN}]
    assert len(mine) == len(tiny_quads()) + 1  # the foreign graph's one triple


def test_a_failed_upload_leaves_the_served_build(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    before = sorted(map(str, download(remote)))
    broken = Backend(remote.query, remote.update, remote.query.rsplit("/", 1)[0] + "/no-store")
    with pytest.raises(BackendError, match="refused the upload"):
        publish_build(second, broken)
    assert sorted(map(str, download(remote))) == before
    assert version(remote) == "v1"


def test_publishing_needs_the_graph_store_url(builds: tuple[Build, Build], remote: Backend) -> None:
    with pytest.raises(BackendError, match="--backend-store"):
        publish_build(builds[0], Backend(remote.query, remote.update))


def test_a_switch_with_a_missing_staging_graph_changes_nothing(
    builds: tuple[Build, Build], remote: Backend, request: pytest.FixtureRequest
) -> None:
    """What the switch does if a staging graph is gone; the store's lock is what keeps them
    there (no other publication stages or cleans up meanwhile)."""
    fails_on(request, request.node.callspec.params["remote"], "virtuoso", VIRTUOSO_MOVE)
    first, _ = builds
    publish_build(first, remote)
    before = [q for q in sorted(map(str, download(remote))) if STAGING_PREFIX not in q]
    put(remote, STAGING_PREFIX + "x:0", '<http://example.org/x> <http://example.org/y> "new" .\n')
    # Someone removed the second staging graph meanwhile: the switch must not half happen.
    switch = switch_update(
        {CURATED: STAGING_PREFIX + "x:0", VOCAB: STAGING_PREFIX + "x:1"}, [EXTRA]
    )
    response = httpx.post(remote.update, data={"update": switch})
    assert response.status_code >= 400
    after = [q for q in sorted(map(str, download(remote))) if STAGING_PREFIX not in q]
    assert after == before  # graph:extra still there, graph:curated not replaced
    assert version(remote) == "v1"


def test_a_second_publication_does_not_stage_while_one_is_under_way(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    lock(remote, "urn:citygraph:publication:other")  # another publisher, staging right now
    before = sorted(map(str, download(remote)))
    with pytest.raises(PublicationBusyError, match="another publication"):
        publish_build(second, remote)
    after = sorted(map(str, download(remote)))
    assert after == before  # nothing staged, nothing switched; the other's entry is still there
    assert version(remote) == "v1"


def test_the_lock_of_a_publisher_that_died_long_ago_is_taken_over(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    lock(
        remote,
        "urn:citygraph:publication:dead",
        beat='"2000-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>',
    )
    publish_build(second, remote)
    assert version(remote) == "v2"
    assert not lock_holders(remote)


#: How far ahead the publisher's clock is in the test of the lock's age: hours, so that an age
#: taken from the publisher's clock could not pass for the store's.
SKEW = 7 * 3600.0


def skew_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Put this process's wall clock ``seconds`` ahead, for the rest of the test: ``time.time``,
    ``time.time_ns``, ``time.gmtime()``, ``time.localtime()`` and ``datetime.now()`` /
    ``utcnow()``, also where a citygraph module imported one of them by name. (The monotonic
    clock, which timeouts use, stays.) A publisher whose clock is off, as a machine's can be."""
    real_time, real_time_ns = time.time, time.time_ns
    real_gmtime, real_localtime = time.gmtime, time.localtime
    real_datetime = datetime.datetime
    shift = datetime.timedelta(seconds=seconds)

    class SkewedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return real_datetime.now(tz) + shift

        @classmethod
        def utcnow(cls) -> datetime.datetime:  # type: ignore[override]
            return real_datetime.now(datetime.UTC).replace(tzinfo=None) + shift

    def skewed_time() -> float:
        return real_time() + seconds

    def skewed_time_ns() -> int:
        return real_time_ns() + int(seconds * 1e9)

    def skewed_gmtime(secs: float | None = None) -> time.struct_time:
        return real_gmtime(skewed_time() if secs is None else secs)

    def skewed_localtime(secs: float | None = None) -> time.struct_time:
        return real_localtime(skewed_time() if secs is None else secs)

    skewed: dict[int, object] = {
        id(real_time): skewed_time,
        id(real_time_ns): skewed_time_ns,
        id(real_gmtime): skewed_gmtime,
        id(real_localtime): skewed_localtime,
        id(real_datetime): SkewedDatetime,
    }
    targets = [time, datetime] + [
        m for n, m in sys.modules.items() if n == "citygraph" or n.startswith("citygraph.")
    ]
    for module in targets:
        for name, value in list(vars(module).items()):
            if id(value) in skewed:
                monkeypatch.setattr(module, name, skewed[id(value)])


def test_the_skewed_clock_is_the_processs(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the lock's test relies on: every wall clock of this process is ``SKEW`` ahead."""
    before = time.time()
    skew_clock(monkeypatch, SKEW)
    assert SKEW <= time.time() - before < SKEW + 60
    assert SKEW <= time.time_ns() / 1e9 - before < SKEW + 60
    assert SKEW - 1 <= time.mktime(time.localtime()) - before < SKEW + 60  # whole seconds
    now = datetime.datetime.now(datetime.UTC).timestamp()
    assert SKEW <= now - before < SKEW + 60
    assert SKEW <= datetime.datetime.now().timestamp() - before < SKEW + 60


def test_the_age_of_a_lock_entry_is_the_stores_own(
    builds: tuple[Build, Build], remote: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries whose heartbeat the store wrote 20 and 40 minutes ago (its own ``NOW()``, in its
    own time-zone form): by the store's clock the first holds the lock for 10 more minutes,
    the second is a dead publisher's (the lock expires 30 minutes after a heartbeat).

    The publisher's clock is hours ahead (and the Virtuoso's ``NOW()`` is five hours east of
    UTC, without a zone), so an age taken from the publisher's clock, or a heartbeat read as
    UTC, is hours off: this test fails then (checked by hand, with the age computed as
    ``datetime.now(UTC)`` minus the heartbeat)."""
    first, second = builds
    publish_build(first, remote)
    duration = "<http://www.w3.org/2001/XMLSchema#dayTimeDuration>"
    lock(remote, "urn:citygraph:publication:dead", beat=f'NOW() - "PT2400S"^^{duration}')
    lock(remote, "urn:citygraph:publication:alive", beat=f'NOW() - "PT1200S"^^{duration}')
    skew_clock(monkeypatch, SKEW)
    with pytest.raises(PublicationBusyError) as refused:
        publish_build(second, remote)
    message = str(refused.value)
    assert "urn:citygraph:publication:alive" in message
    assert "urn:citygraph:publication:dead" not in message
    age = re.search(r"(\d+) s ago; expires in (\d+) s", message)
    assert age is not None, message
    assert 1200 <= int(age[1]) < 1500  # the machine is slow, not 10 hours off
    assert 300 < int(age[2]) <= 600
    # the dead one's entry was removed
    assert lock_holders(remote) == {"urn:citygraph:publication:alive"}
    assert version(remote) == "v1"


def during_first_upload(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Run ``action`` once, right after the first staging graph of a publication is uploaded
    (as if that upload were still going on)."""
    real = remote_publish._put
    done: list[bool] = []

    def put_then_act(client: SparqlClient, graph: str, data: bytes) -> None:
        real(client, graph, data)
        if not done:
            done.append(True)
            action()

    monkeypatch.setattr(remote_publish, "_put", put_then_act)


def test_a_publication_keeps_its_lock_however_long_one_upload_takes(
    builds: tuple[Build, Build], remote: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload that outlasts the lock's expiry: the heartbeat goes on meanwhile, so another
    publisher still finds the store busy (and does not stage into the same graphs)."""
    first, second = builds
    publish_build(first, remote)
    monkeypatch.setattr(remote_publish, "LOCK_EXPIRES", 6.0)
    refused: list[BaseException] = []

    def slow_upload_then_another_publisher() -> None:
        time.sleep(9.0)  # longer than LOCK_EXPIRES
        try:
            publish_build(first, remote)
        except PublicationBusyError as error:
            refused.append(error)

    during_first_upload(monkeypatch, slow_upload_then_another_publisher)
    publish_build(second, remote)
    assert refused, "the other publisher took the lock over during the upload"
    assert version(remote) == "v2"
    assert not lock_holders(remote)


def test_a_staging_graph_changed_during_the_publication_stops_the_switch(
    builds: tuple[Build, Build], remote: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = builds
    publish_build(first, remote)
    before = [q for q in sorted(map(str, download(remote))) if STAGING_PREFIX not in q]

    def someone_writes_into_staging() -> None:
        triple = '<http://example.org/x> <http://example.org/y> "z"'
        extra = f"INSERT DATA {{ GRAPH <{STAGING_PREFIX}0> {{ {triple} }} }}"
        httpx.post(remote.update, data={"update": extra}).raise_for_status()

    during_first_upload(monkeypatch, someone_writes_into_staging)
    with pytest.raises(BackendError, match="staging graphs changed"):
        publish_build(second, remote)
    after = [q for q in sorted(map(str, download(remote))) if STAGING_PREFIX not in q]
    assert after == before
    assert version(remote) == "v1"


def test_readers_never_see_what_is_staged(builds: tuple[Build, Build], remote: Backend) -> None:
    """On every store, whichever way its dialect names the union default graph. The reader
    is serving (its graph list read) before the staging and lock graphs appear, as when a
    publication starts while a server runs: they are hidden by name, not by that list."""
    publish_build(builds[0], remote)
    store = RemoteHandle(remote, check_interval=0.0).snapshot().store
    first = store.query('ASK { ?s ?p "Paris v1"@fr }', use_default_graph_as_union=True)
    assert isinstance(first, ox.QueryBoolean)
    assert first
    staged = '<http://example.org/x> <http://example.org/y> "staged" .\n'
    for graph in (*STAGING_GRAPHS, LOCK_GRAPH):
        put(remote, graph, staged)
    union = store.query('SELECT ?s WHERE { ?s ?p "staged" }', use_default_graph_as_union=True)
    assert isinstance(union, ox.QuerySolutions)
    assert list(union) == []
    named = store.query('ASK { GRAPH ?g { ?s ?p "staged" } }', use_default_graph_as_union=True)
    assert isinstance(named, ox.QueryBoolean)
    assert not named
    label = store.query(
        f"SELECT ?label WHERE {{ {city('fr-paris')} {RDFS_LABEL} ?label }}",
        use_default_graph_as_union=True,
    )
    assert isinstance(label, ox.QuerySolutions)
    assert [r["label"] for r in label] == [ox.Literal("Paris v1", language="fr")]


def lock_holders(backend: Backend) -> set[str]:
    """The publications with an entry in the store's lock (those with a heartbeat)."""
    return {
        q.subject.value
        for q in download(backend)
        if q.graph_name.value == LOCK_GRAPH and q.predicate.value == "urn:citygraph:lock#beat"
    }


def test_a_switch_that_fails_or_leaves_other_graphs_says_the_store_is_half_switched(
    builds: tuple[Build, Build], remote: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staging graph (graph:curated's) that goes missing after the count before the switch:
    Oxigraph refuses the switch whole (its MOVE of a missing graph fails), Virtuoso applies it
    and empties graph:curated (VIRTUOSO_MOVE). Either way the publication does not report
    success: it says the store may be half-switched and must be published again; when the
    switch request itself failed, its lock entry stays (the store could still be running it)
    until it expires or is removed."""
    first, second = builds
    curated = sum(q.graph_name == ox.NamedNode(CURATED) for q in tiny_quads("v2"))
    publish_build(first, remote)
    real_check = remote_switch.check_staged

    def check_then_lose_a_graph(client: SparqlClient, counts: dict[str, int]) -> None:
        real_check(client, counts)
        # graph:curated sorts first of the build's three graphs: the first staging name
        lost = f"DROP SILENT GRAPH <{STAGING_PREFIX}0>"
        httpx.post(remote.update, data={"update": lost}).raise_for_status()

    monkeypatch.setattr(remote_switch, "check_staged", check_then_lose_a_graph)
    with pytest.raises(HalfSwitchedError) as failed:
        publish_build(second, remote)
    message = str(failed.value)
    monkeypatch.undo()
    if lock_holders(remote):  # the switch request failed (Oxigraph): nothing was applied
        assert "may be half-switched" in message
        assert "publish the build again once its lock entry" in message
        (holder,) = lock_holders(remote)
        assert holder in message
        assert version(remote) == "v1"
        assert EXTRA in own(remote)  # the atomic store dropped nothing
        with pytest.raises(PublicationBusyError, match=holder):
            publish_build(second, remote)  # no one stages until the entry goes
        forget = f"DELETE WHERE {{ GRAPH <{LOCK_GRAPH}> {{ <{holder}> ?p ?o }} }}"
        httpx.post(remote.update, data={"update": forget}).raise_for_status()
    else:  # applied, graph:curated emptied (Virtuoso)
        assert "the store is half-switched" in message
        assert f"<{CURATED}> holds 0 triples, not {curated}" in message
        assert "publish the build again" in message
        # Its switch is marked begun and not ended: a reader (whose queries there read no
        # snapshot) gives up at its deadline rather than answer from the half-switched store.
        reader = RemotePool(remote, max_concurrent=2, check_interval=0.0)
        reader.start()
        with pytest.raises(QueryTimeoutError, match="being switched"):
            reader.run(count_job(), timeout=5.0)
        reader.close()
    publish_build(second, remote)  # and so it is mended
    assert version(remote) == "v2"
    reader = RemotePool(remote, max_concurrent=2, check_interval=0.0)
    reader.start()
    reply, served_version = reader.run(count_job(), timeout=30.0)
    reader.close()
    assert served_version == "v2"
    assert reply.error is None, reply.message
    assert own(remote) == {CURATED, VOCAB, META, FOREIGN}
    served = download(remote)
    assert len([q for q in served if q.graph_name.value == CURATED]) == curated
    assert not lock_holders(remote)


def test_a_switch_applied_whose_count_fails_leaves_the_store_readable(
    builds: tuple[Build, Build], remote: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The switch request succeeded, so the store applied all of it: when only the count after
    it fails, the publication says so, and readers (on Virtuoso, those that wait while a
    switch is marked begun and not ended) read the new build rather than 503 for good."""
    first, second = builds
    publish_build(first, remote)
    real_counts = remote_switch._counts
    counted: list[int] = []

    def count_fails_after_the_switch(client: SparqlClient, graphs: Iterable[str]) -> object:
        counted.append(1)
        if len(counted) == 2:  # check_staged counts first, check_switched second
            raise BackendError("the store did not answer the count")
        return real_counts(client, graphs)

    monkeypatch.setattr(remote_switch, "_counts", count_fails_after_the_switch)
    with pytest.raises(remote_switch.UncountedSwitchError, match="could not be counted"):
        publish_build(second, remote)
    monkeypatch.undo()
    assert not lock_holders(remote)
    reader = RemotePool(remote, max_concurrent=2, check_interval=0.0)
    reader.start()
    try:
        reply, served_version = reader.run(count_job(), timeout=10.0)
    finally:
        reader.close()
    assert reply.error is None, reply.message
    assert served_version == "v2"


def count_job() -> QueryJob:
    """A query of the union default graph, as the endpoint sends one."""
    return QueryJob(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "",
        None,
        None,
        True,
        "JSON",
        None,
        10**9,
        10**12,
    )


def test_the_switch_moves_graph_meta_last_and_never_packs_it() -> None:
    """On a store that keeps the operations of a request before a failing one (Virtuoso), the
    unpacking join is the one that can fail after others: graph:meta, which advertises the
    data version, moves after it, so a switch cut short still advertises the previous one."""
    sizes = {**{f"{EXTRA}-{n:02}": 10 for n in range(12)}, CURATED: 6, META: 1}
    staging = remote_staging.plan(sizes, by_exclusion=True)
    assert META in staging.moved
    assert staging.packed
    operations = switch_update(staging.moved, [], staging.packed).split(" ;\n")
    assert operations[-1] == f"MOVE GRAPH <{staging.moved[META]}> TO <{META}>"
    assert any(op.startswith("INSERT") for op in operations[:-1])
    with pytest.raises(ValueError, match="never packed"):
        switch_update({}, [], [META])


@pytest.mark.parametrize(
    "name",
    [
        "citygraph.engine.dialects",
        "citygraph.engine.remote_publish",
        "citygraph.engine.remote_staging",
        "citygraph.engine.remote_stamps",
        "citygraph.engine.remote_switch",
    ],
)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0


def test_a_build_of_more_graphs_than_staging_names_is_published_and_never_seen_staged(
    tmp_path: Path, remote: Backend, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """More graphs than the 8 staging names readers on Virtuoso exclude by name: published all
    the same (there in those 8 names only, the smallest graphs packed into the last), a reader
    querying while every graph is staged sees the served build only, and a next build
    replaces each graph. What is served is the build, term for term: on Virtuoso the packed
    graphs hold a blank node two triples share, a language-tagged and a typed literal."""
    root = tmp_path / "store"
    publish_build(make_build(root, tiny_quads("v1"), "20260101T000000000000Z-aaaaaaaaaa"), remote)
    reader = RemoteHandle(remote, check_interval=0.0)
    store = reader.snapshot().store
    extras = [f"{EXTRA}-{n:02}" for n in range(len(STAGING_GRAPHS) + 4)]
    twin, founded = ox.NamedNode(EXTRA + "#twin"), ox.NamedNode(EXTRA + "#founded")
    year = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

    def many(tag: str) -> list[ox.Quad]:
        """Each extra graph: a label, and a blank node two triples share (as large as each
        other, so some are packed: a geo:wktLiteral would not do, Virtuoso changes its
        coordinates, VIRTUOSO_WKT)."""
        quads = tiny_quads(tag)
        for g in map(ox.NamedNode, extras):
            node = ox.BlankNode()
            quads += [
                ox.Quad(city("de-berlin"), RDFS_LABEL, ox.Literal(f"{tag} {g.value}"), g),
                ox.Quad(city("de-berlin"), twin, node, g),
                ox.Quad(node, RDFS_LABEL, ox.Literal(f"Zwilling {tag}", language="de"), g),
                ox.Quad(node, founded, ox.Literal("1990", datatype=year), g),
            ]
        return quads

    def served_is(build: Build) -> None:
        """The build's graphs as the store serves them are the build's, up to blank node
        labels (datatypes and language tags included)."""
        expected = ox.Dataset(open_build(build))
        names = {q.graph_name for q in expected}
        found = ox.Dataset(q for q in download(remote) if q.graph_name in names)
        for dataset in (expected, found):
            dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        assert sorted(map(str, found)) == sorted(map(str, expected))

    def ask(query: str) -> bool:
        answer = store.query(query, use_default_graph_as_union=True)
        assert isinstance(answer, ox.QueryBoolean)
        return bool(answer)

    # Serving, its graph list read, before the staging starts (as a server running meanwhile).
    assert ask(f'ASK {{ {city("fr-paris")} {RDFS_LABEL} "Paris v1"@fr }}')
    uploaded: dict[str, bytes] = {}
    seen: list[bool] = []
    real_put, real_check = remote_publish._put, remote_switch.check_staged

    def put(client: SparqlClient, graph: str, data: bytes) -> None:
        uploaded[graph] = data
        real_put(client, graph, data)

    def check_then_read(client: SparqlClient, counts: dict[str, int]) -> None:
        # Every graph of the new build is staged now: what does a reader see?
        seen.append(ask('ASK { ?s ?p ?o FILTER(STRSTARTS(STR(?o), "v2 ")) }'))
        seen.append(ask('ASK { GRAPH ?g { ?s ?p ?o FILTER(STRSTARTS(STR(?o), "v2 ")) } }'))
        seen.append(ask("ASK { ?q <urn:citygraph:staging#g> ?g }"))
        seen.append(not ask(f'ASK {{ {city("fr-paris")} {RDFS_LABEL} "Paris v1"@fr }}'))
        real_check(client, counts)

    monkeypatch.setattr(remote_publish, "_put", put)
    monkeypatch.setattr(remote_switch, "check_staged", check_then_read)
    second = make_build(root, many("v2"), "20260102T000000000000Z-bbbbbbbbbb")
    done = publish_build(second, remote)

    assert seen == [False] * 4
    assert len(done.graphs) == len(extras) + 3 > len(STAGING_GRAPHS)
    if request.node.callspec.params["remote"] == "virtuoso":
        assert set(uploaded) <= set(STAGING_GRAPHS)  # the names its readers exclude
        # packed: quads of extra graphs, with their blank nodes, typed and tagged literals
        pack = ox.Dataset(ox.parse(uploaded[STAGING_GRAPHS[-1]], format=ox.RdfFormat.N_TRIPLES))
        assert len(list(pack.quads_for_object(founded))) >= 2
    assert version(remote) == "v2"
    assert own(remote) == {CURATED, VOCAB, META, FOREIGN, *extras}
    assert not [g for g in graphs(remote) if g.startswith(STAGING_PREFIX) and g != LOCK_GRAPH]
    served_is(second)

    third = make_build(root, many("v3"), "20260103T000000000000Z-cccccccccc")
    publish_build(third, remote)
    served_is(third)
    store = reader.snapshot().store
    labels = store.query(
        f"SELECT ?g ?label WHERE {{ GRAPH ?g {{ {city('de-berlin')} {RDFS_LABEL} ?label }} }}",
        use_default_graph_as_union=True,
    )
    assert isinstance(labels, ox.QuerySolutions)
    by_graph = sorted((r["g"].value, r["label"].value) for r in labels if r["g"].value in extras)
    assert by_graph == [(g, f"v3 {g}") for g in extras]  # replaced, not added to
