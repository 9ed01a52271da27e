"""Fixtures of the whole suite: the backends tests may run on (see tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.backends import BACKENDS, OxigraphServers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``every_backend`` that use the ``backend`` fixture run on each backend;
    those also marked ``virtuoso`` on Virtuoso too."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "every_backend"
    ):
        backends = BACKENDS
        if metafunc.definition.get_closest_marker("virtuoso"):
            backends = (*BACKENDS, "virtuoso")
        metafunc.parametrize("backend", backends, indirect=True)


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
