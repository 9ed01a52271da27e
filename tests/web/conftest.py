"""Fixtures of the web tests: a tiny store per test, an app per test, a client per app."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.backends import OxigraphServers, remote_settings

from citygraph import build_format, store
from citygraph.config import Settings
from citygraph.web.app import create_app

with warnings.catch_warnings():
    # Starlette deprecates its test client's use of httpx (it suggests httpx2); the client
    # still works, and pyproject.toml turns warnings into errors.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

BASE = "https://w3id.org/citygraph/"
CITY = BASE + "id/city/"
CURATED = BASE + "graph/curated"
VOCAB = BASE + "graph/vocab"
META = BASE + "graph/meta"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
CG_PARTNER = ox.NamedNode(BASE + "ontology#partner")
TOKEN = "s3cret-token"


def city(key: str) -> ox.NamedNode:
    return ox.NamedNode(CITY + key)


def tiny_quads(tag: str = "v1") -> list[ox.Quad]:
    """Three cities and a partnership in graph:curated, a concept in graph:vocab; graph:meta's
    version and build format."""
    curated = ox.NamedNode(CURATED)
    partnership = ox.NamedNode(BASE + "id/partnership/cn-beijing--de-berlin")
    return [
        ox.Quad(city("de-berlin"), RDFS_LABEL, ox.Literal("Berlin", language="de"), curated),
        ox.Quad(city("de-berlin"), RDFS_LABEL, ox.Literal("Berlin", language="en"), curated),
        ox.Quad(city("cn-beijing"), RDFS_LABEL, ox.Literal("北京", language="zh-Hans"), curated),
        ox.Quad(city("fr-paris"), RDFS_LABEL, ox.Literal(f"Paris {tag}", language="fr"), curated),
        ox.Quad(partnership, CG_PARTNER, city("de-berlin"), curated),
        ox.Quad(partnership, CG_PARTNER, city("cn-beijing"), curated),
        ox.Quad(
            ox.NamedNode(BASE + "vocab/theme/economy"),
            RDFS_LABEL,
            ox.Literal("economy", language="en"),
            ox.NamedNode(VOCAB),
        ),
        ox.Quad(
            ox.NamedNode(BASE + "dataset"),
            ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo"),
            ox.Literal(tag),
            ox.NamedNode(META),
        ),
        ox.Quad(
            ox.NamedNode(BASE + "dataset"),
            build_format.PREDICATE,
            ox.Literal(build_format.FORMAT),
            ox.NamedNode(META),
        ),
    ]


#: Triples of the tiny store in all its graphs: what ``SELECT * { ?s ?p ?o }`` answers on the
#: union default graph.
TINY_TRIPLES = len(tiny_quads())


def make_build(root: Path, quads: Iterable[ox.Quad], version: str) -> store.Build:
    """Publish a build of ``quads`` under ``root`` as ``citygraph build`` would."""
    tmp = store.new_build_dir(root, version)
    target = ox.Store(str(tmp))
    target.bulk_extend(quads)
    target.flush()
    del target
    metadata = {"version": version, build_format.KEY: build_format.FORMAT}
    return store.publish_build(root, tmp, version, metadata)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    make_build(root, tiny_quads(), "20260101T000000000000Z-aaaaaaaaaa")
    return root


@pytest.fixture
def settings(store_dir: Path, backend: str, oxigraph_servers: OxigraphServers) -> Settings:
    """Settings of an app on the tiny store, on the test's backend (tests/backends.py)."""
    local = Settings(
        store=store_dir, query_processes=2, fast_query_processes=1, version_check_interval=0.0
    )
    return remote_settings(local, backend, oxigraph_servers, name="web")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def writer(settings: Settings) -> Iterator[TestClient]:
    """A client of an app with writes enabled (the token is :data:`TOKEN`)."""
    writable = Settings(**{**settings.__dict__, "update_token": TOKEN})
    with TestClient(create_app(writable)) as test_client:
        yield test_client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
