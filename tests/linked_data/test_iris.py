"""Links from canonical IRIs to this server (linked-data.md: pages link to the server that
answers; /id/ things link to their /doc/ documents; what this server does not answer is not
linked)."""

from __future__ import annotations

import pytest
from tests.backends import every_backend

from citygraph.web.linked_data.iris import Links

pytestmark = [every_backend, pytest.mark.virtuoso]

BASE = "https://w3id.org/citygraph/"
LOCAL = "http://127.0.0.1:8000/"


@pytest.mark.parametrize(
    ("iri", "href"),
    [
        pytest.param(BASE + "id/city/de-berlin", LOCAL + "doc/city/de-berlin", id="thing-to-doc"),
        pytest.param(BASE + "doc/city/de-berlin", LOCAL + "doc/city/de-berlin", id="document"),
        pytest.param(BASE + "vocab/theme/sport", LOCAL + "vocab/theme/sport", id="concept"),
        pytest.param(BASE + "ontology#City", LOCAL + "ontology#City", id="ontology-term"),
        pytest.param(BASE + "shapes#PlaceShape", LOCAL + "shapes#PlaceShape", id="shape"),
        pytest.param(BASE + "dataset", LOCAL + "dataset", id="dataset"),
        pytest.param(BASE + "dumps/citygraph.nq", LOCAL + "dumps/citygraph.nq", id="dump"),
        pytest.param(BASE + "sparql", LOCAL + "sparql", id="endpoint"),
        pytest.param(BASE + "graph/curated", None, id="graph-name-not-served"),
        pytest.param(BASE + "unknown/x", None, id="unknown-path"),
        pytest.param(BASE, None, id="the-base-itself"),
        pytest.param(
            "http://www.wikidata.org/entity/Q64",
            "http://www.wikidata.org/entity/Q64",
            id="external-http",
        ),
        pytest.param(
            "https://sws.geonames.org/2950159/",
            "https://sws.geonames.org/2950159/",
            id="external-https",
        ),
        pytest.param("urn:isbn:0451450523", None, id="not-a-web-address"),
        pytest.param("mailto:someone@example.org", None, id="mail"),
    ],
)
def test_href(iri: str, href: str | None) -> None:
    assert Links(BASE, LOCAL).href(iri) == href


@pytest.mark.parametrize(
    ("iri", "href"),
    [
        pytest.param(BASE + "id/city/de-berlin", "/doc/city/de-berlin?lang=zh-Hans", id="thing"),
        pytest.param(BASE + "ontology#City", "/ontology?lang=zh-Hans#City", id="before-fragment"),
        pytest.param(
            "http://www.wikidata.org/entity/Q64",
            "http://www.wikidata.org/entity/Q64",
            id="external-untouched",
        ),
    ],
)
def test_href_carries_the_chosen_language(iri: str, href: str) -> None:
    assert Links(BASE, "/", language="zh-Hans").href(iri) == href


@pytest.mark.parametrize(
    ("language", "path", "link"),
    [
        pytest.param(None, "partnerships", "/partnerships", id="no-language"),
        pytest.param("de", "partnerships", "/partnerships?lang=de", id="language"),
        pytest.param("de", "search?q=Berlin", "/search?q=Berlin&lang=de", id="after-a-query"),
        pytest.param("a b", "places", "/places?lang=a%20b", id="quoted"),
    ],
)
def test_path(language: str | None, path: str, link: str) -> None:
    assert Links(BASE, "/", language=language).path(path) == link


def test_canonical_iri() -> None:
    assert Links(BASE, LOCAL).canonical_iri("id/city/de-berlin") == BASE + "id/city/de-berlin"
