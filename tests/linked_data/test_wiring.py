"""The linked-data routes wired into the endpoint's app: one call, no collisions."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from tests.backends import every_backend

from citygraph.config import Settings
from citygraph.web import frontend, linked_data, routes_ops, routes_sparql, routes_store
from citygraph.web.app import create_app

from .support import REPO, TestClient
from .test_crawl import crawl

pytestmark = [every_backend, pytest.mark.virtuoso]


def test_the_linked_data_paths_do_not_collide_with_the_endpoints() -> None:
    ours = {getattr(r, "path", "") for r in linked_data.router.routes}
    theirs = {
        getattr(r, "path", "")
        for module in (routes_sparql, routes_store, routes_ops)
        for r in module.router.routes
    }
    assert {"/", "/id/{path:path}", "/doc/{path:path}", "/.well-known/void"} <= ours
    assert not ours & theirs


def test_install_keeps_the_site_on_the_app() -> None:
    app = create_app(Settings())
    site = linked_data.install(app, Settings(), shapes_dir=REPO / "shapes")
    assert app.state.linked_data is site


@pytest.mark.slow
def test_pages_the_endpoint_and_the_frontend_in_one_app(settings: Settings) -> None:
    settings = replace(settings, query_processes=1)
    app = create_app(settings)
    app.include_router(frontend.create_router())
    linked_data.install(app, settings)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/id/city/de-berlin").status_code == 303
        page = client.get("/doc/city/de-berlin", headers={"Accept": "text/html"})
        assert page.status_code == 200
        for href in ("sparql", "map?city=de-berlin", "timeline/de-berlin"):
            assert f'href="http://testserver/{href}"' in page.text
        scripts = re.findall(r'<script defer src="([^"]+)"', page.text)
        assert scripts
        for src in scripts:
            assert client.get(src).status_code == 200, src
        # every link of a place page and of the pages it links to, the others' pages included
        statuses = crawl(client, "http://testserver/doc/city/de-berlin", limit=80, skip=())
        assert "http://testserver/timeline/de-berlin" in statuses
