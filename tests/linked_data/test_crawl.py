"""Links on all generated pages are crawled: no 404s, no 500s, no page over 100 kB.

Breadth-first from ``/``, following every internal link of every HTML page, bounded in
requests. Language variants (``?lang=…``) of a page are the same page for the crawl (they are
fetched once); a smaller second crawl in Chinese checks the other rendering. Paths that other
parts of the app serve (the SPARQL endpoint, the map, timelines, scripts) are not part of this
app and are skipped; test_wiring crawls a place page's links in the whole app.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from tests.backends import every_backend

from .support import TestClient, links_of

pytestmark = [every_backend, pytest.mark.virtuoso]

LOCAL = "http://testserver/"
NOT_OURS = ("/sparql", "/map", "/timeline/", "/assets/")
MAX_PAGE_BYTES = 100_000


def _key(url: str) -> str:
    """The URL without fragment and without ``lang`` (variants count as one page)."""
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def crawl(
    client: TestClient, start: str, *, limit: int, skip: tuple[str, ...] = NOT_OURS
) -> dict[str, int]:
    """Fetch ``start`` and everything linked from it (breadth-first); URL -> status."""
    seen = {_key(start)}
    queue = deque([start])
    statuses: dict[str, int] = {}
    problems: list[str] = []
    while queue and len(statuses) < limit:
        url = queue.popleft()
        response = client.get(url)
        statuses[url] = response.status_code
        kind = response.headers.get("content-type", "")
        if response.status_code >= 400:
            problems.append(f"{response.status_code} {url}")
            continue
        if not kind.startswith("text/html"):
            continue
        if len(response.content) > MAX_PAGE_BYTES:
            problems.append(f"{len(response.content)} bytes: {url}")
        for href in links_of(response.text):
            absolute = href if "://" in href else LOCAL + href.lstrip("/")
            if not absolute.startswith(LOCAL):
                continue
            if urlsplit(absolute).path.startswith(skip):
                continue
            key = _key(absolute)
            if key not in seen:
                seen.add(key)
                queue.append(absolute.split("#")[0])
    assert not problems, "\n".join(problems)
    return statuses


@pytest.mark.slow
def test_every_link_from_the_home_page_works(client: TestClient) -> None:
    # The bound covers the ~1,450 rdf:Statement nodes of the curated data's statement-level
    # provenance (docs/model.md), each a page of its own in four or five representations:
    # about 8,000 URLs in all (7 Dec 2026).
    statuses = crawl(client, LOCAL, limit=12_000)
    assert len(statuses) < 12_000, "the crawl hit its bound: raise it or check for link loops"
    paths = {urlsplit(u).path for u in statuses}
    for expected in (
        "/doc/city/de-berlin",
        "/doc/partnership/cn-beijing--de-berlin",
        "/doc/source/berlin-de-beijing-de",
        "/vocab/theme/sport",
        "/ontology",
        "/shapes",
        "/dataset",
        "/dumps/citygraph.ttl.gz",
        "/doc/city/de-berlin.ttl",
    ):
        assert expected in paths


@pytest.mark.slow
def test_a_crawl_in_chinese(client: TestClient) -> None:
    statuses = crawl(client, LOCAL + "doc/city/de-berlin?lang=zh", limit=150)
    assert all(status < 400 for status in statuses.values())
