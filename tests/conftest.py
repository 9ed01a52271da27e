"""Fixtures of the whole suite: the backends tests may run on (see tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.backends import OxigraphServers


@pytest.fixture(scope="session")
def oxigraph_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServers]:
    """The session's ``oxigraph serve`` processes (started on first use)."""
    servers = OxigraphServers(tmp_path_factory.mktemp("oxigraph"))
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend the test runs on: ``embedded`` unless the module parametrises it."""
    return str(getattr(request, "param", "embedded"))
