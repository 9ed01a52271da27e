"""Fixtures of the backend tests: the repository's build, embedded and copied into Virtuoso.

Session-scoped: a Virtuoso takes seconds to start and every test here only reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.virtuoso import Virtuoso, put_graphs, running_virtuoso

from citygraph import store
from citygraph.build import build_store, default_build_inputs

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Loaded:
    """A running Virtuoso holding a copy of the graphs of ``embedded``."""

    server: Virtuoso
    embedded: ox.Store
    graphs: list[str]


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """The repository's ontology, vocabularies and data, built as ``citygraph build`` does."""
    root = tmp_path_factory.mktemp("store")
    build_store(root, default_build_inputs(ROOT))
    opened, _ = store.open_current(root)
    return opened


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory, embedded: ox.Store) -> Iterator[Loaded]:
    """A private Virtuoso on 127.0.0.1 with the build's graphs loaded over the Graph Store."""
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        graphs = put_graphs(server.store_url, embedded)
        yield Loaded(server, embedded, graphs)
