"""Fixtures of the linked-data tests: the real data/ built once per session, an app per test.

The store is read-only for these tests, so one build per session is safe; every test gets its
own app (and so its own store handle and caches). Every module is marked ``every_backend`` and
``virtuoso``: its tests run on the embedded store, ``oxigraph serve`` and Virtuoso
(tests/backends.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from tests.backends import OxigraphServers, remote_settings

from citygraph.build import build_store, default_build_inputs
from citygraph.config import Settings
from citygraph.store import open_current
from citygraph.web import linked_data
from citygraph.web.error_handlers import install_error_handlers

from .support import REPO, TestClient


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built from the repository's ontology, vocabularies and data/ (no validation)."""
    root = tmp_path_factory.mktemp("store")
    build_store(root, default_build_inputs(REPO))
    return root


@pytest.fixture
def store(store_dir: Path) -> ox.Store:
    """The built store, opened read-only (for counting independently of the app)."""
    opened, _ = open_current(store_dir)
    return opened


@pytest.fixture
def settings(store_dir: Path, backend: str, oxigraph_servers: OxigraphServers) -> Settings:
    """Settings pointing at the session's store, on the test's backend."""
    local = Settings(store=store_dir, version_check_interval=3600.0)
    return remote_settings(local, backend, oxigraph_servers)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """An app with only the linked-data routes (and the endpoint's error handlers)."""
    application = FastAPI()
    application.state.settings = settings
    linked_data.install(application, settings, shapes_dir=REPO / "shapes")
    install_error_handlers(application)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client that does not follow redirects (303s are tested as such)."""
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client
