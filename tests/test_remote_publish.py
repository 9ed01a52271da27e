"""Publishing a build to a remote store (engine/remote_publish.py, docs/backends.md), against a real
``oxigraph serve``: the store ends up holding exactly the new build, leftovers of a failed
publication go, other graphs stay, and a publication that fails leaves the served build."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.backends import OxigraphServers
from tests.web.conftest import CURATED, META, RDFS_LABEL, VOCAB, city, make_build, tiny_quads

from citygraph.engine.remote import STAGING, Backend, BackendError, RemotePool
from citygraph.engine.remote_publish import download, publish_build, switch_update
from citygraph.store import Build

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


@pytest.fixture
def remote(oxigraph_servers: OxigraphServers) -> Backend:
    """An oxigraph serve of these tests, emptied, with a graph citygraph did not write."""
    backend = oxigraph_servers.get("publish")
    httpx.post(backend.update, data={"update": "DROP ALL"}).raise_for_status()
    put(
        backend, FOREIGN, "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
    )
    return backend


def test_the_store_holds_exactly_the_new_build_and_other_graphs_stay(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    assert graphs(remote) == {CURATED, VOCAB, META, EXTRA, FOREIGN}
    assert version(remote) == "v1"  # graph:meta's owl:versionInfo (tiny_quads)

    put(remote, STAGING + "old:0", '<http://example.org/x> <http://example.org/y> "1" .\n')
    # What is being uploaded is never part of what readers query.
    pool = RemotePool(remote, max_concurrent=1, check_interval=0.0)
    pool.start()
    assert set(pool.graph_names(timeout=30)) == {CURATED, VOCAB, META, EXTRA, FOREIGN}
    pool.close()
    done = publish_build(second, remote)

    assert graphs(remote) == {CURATED, VOCAB, META, FOREIGN}
    assert done.dropped == (EXTRA,)
    assert version(remote) == "v2"
    served = download(remote)
    paris = list(served.quads_for_pattern(city("fr-paris"), RDFS_LABEL, None, None))
    assert [q.object for q in paris] == [ox.Literal("Paris v2", language="fr")]
    assert len(served) == len(tiny_quads()) + 1  # the foreign graph's one triple


def test_a_failed_upload_leaves_the_served_build(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, second = builds
    publish_build(first, remote)
    before = sorted(map(str, download(remote)))
    broken = Backend(remote.query, remote.update, remote.query.replace("/query", "/no-store"))
    with pytest.raises(BackendError, match="refused the upload"):
        publish_build(second, broken)
    assert sorted(map(str, download(remote))) == before
    assert version(remote) == "v1"


def test_publishing_needs_the_graph_store_url(builds: tuple[Build, Build], remote: Backend) -> None:
    with pytest.raises(BackendError, match="--backend-store"):
        publish_build(builds[0], Backend(remote.query, remote.update))


def test_a_switch_with_a_missing_staging_graph_changes_nothing(
    builds: tuple[Build, Build], remote: Backend
) -> None:
    first, _ = builds
    publish_build(first, remote)
    before = sorted(map(str, download(remote)))
    put(remote, STAGING + "x:0", '<http://example.org/x> <http://example.org/y> "new" .\n')
    # Someone removed the second staging graph meanwhile: the switch must not half happen.
    switch = switch_update({CURATED: STAGING + "x:0", VOCAB: STAGING + "x:1"}, [EXTRA])
    response = httpx.post(remote.update, data={"update": switch})
    assert response.status_code >= 400
    after = [q for q in sorted(map(str, download(remote))) if STAGING not in q]
    assert after == before  # graph:extra still there, graph:curated not replaced
    assert version(remote) == "v1"
