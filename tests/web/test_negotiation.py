"""Content negotiation, table-tested against RFC 9110 §12.5.1."""

from __future__ import annotations

import pytest
from tests.backends import every_backend

from citygraph.web.formats import GRAPH_FORMATS, SOLUTION_FORMATS, choose, offered_types
from citygraph.web.negotiation import MediaRange, negotiate, parse_accept
from citygraph.web.problems import BadRequestError

pytestmark = every_backend

RESULTS = offered_types(SOLUTION_FORMATS)
JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, JSON, id="no-accept-header"),
        pytest.param("", JSON, id="empty-accept-header"),
        pytest.param("*/*", JSON, id="anything"),
        pytest.param("text/csv", "text/csv", id="exact"),
        pytest.param("TEXT/CSV", "text/csv", id="case-insensitive"),
        pytest.param("text/*", "text/csv", id="type-wildcard-server-order"),
        pytest.param(
            "text/*;q=0.5, text/tab-separated-values",
            "text/tab-separated-values",
            id="exact-beats-wildcard",
        ),
        pytest.param(f"{XML};q=0.9, {JSON};q=0.8", XML, id="highest-q-wins"),
        pytest.param(f"{XML}, {JSON}", JSON, id="tie-server-preference"),
        pytest.param(f"*/*;q=0.1, {JSON};q=0", XML, id="q0-excludes-even-under-wildcard"),
        pytest.param(f"{JSON};q=0", None, id="only-excluded"),
        pytest.param("image/png", None, id="nothing-offered"),
        pytest.param(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/xml",
            id="browser",
        ),
        pytest.param("application/json", "application/json", id="alias"),
        pytest.param("application/sparql-results+json; charset=utf-8", JSON, id="params-ignored"),
        pytest.param(
            "text/csv;q=abc, text/tab-separated-values",
            "text/tab-separated-values",
            id="bad-q-skipped",
        ),
        pytest.param("garbage, text/csv", "text/csv", id="bad-range-skipped"),
        pytest.param("*/csv", JSON, id="invalid-wildcard-ignored"),
        pytest.param("text/csv;q=2", JSON, id="q-out-of-range-ignored"),
        # Malformed elements are skipped; a header of nothing else accepts anything (found by
        # mutation testing: each of these once passed with the check broken).
        pytest.param("text/", JSON, id="range-without-subtype-ignored"),
        pytest.param("/csv", JSON, id="range-without-type-ignored"),
        pytest.param("*/html;q=0", JSON, id="invalid-wildcard-cannot-exclude"),
        pytest.param(f"{JSON};q=0.5, text/csv;q=1", "text/csv", id="explicit-q-1"),
        pytest.param("text/csv;q==0", JSON, id="malformed-q-skipped"),
    ],
)
def test_negotiate_results(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, RESULTS) == expected


def test_parse_accept_keeps_q() -> None:
    assert parse_accept("text/html;level=1;q=0.7, */*") == [
        MediaRange("text", "html", 0.7),
        MediaRange("*", "*", 1.0),
    ]


@pytest.mark.parametrize(
    ("formats", "accept", "param", "expected"),
    [
        pytest.param(SOLUTION_FORMATS, None, "csv", "CSV", id="param-short-name"),
        pytest.param(SOLUTION_FORMATS, "text/csv", "json", "JSON", id="param-beats-accept"),
        pytest.param(
            SOLUTION_FORMATS, None, "text/tab-separated-values", "TSV", id="param-media-type"
        ),
        pytest.param(SOLUTION_FORMATS, None, "xml", "XML", id="param-xml-results"),
        pytest.param(GRAPH_FORMATS, None, "xml", "RDF_XML", id="param-xml-graph"),
        pytest.param(GRAPH_FORMATS, None, "json", "JSON_LD", id="param-json-graph"),
        pytest.param(GRAPH_FORMATS, None, "nt", "N_TRIPLES", id="param-nt"),
        pytest.param(GRAPH_FORMATS, None, None, "TURTLE", id="graph-default"),
        pytest.param(GRAPH_FORMATS, "application/json", None, "JSON_LD", id="graph-json-alias"),
        pytest.param(
            GRAPH_FORMATS,
            "application/rdf+xml, application/sparql-results+xml",
            None,
            "RDF_XML",
            id="rdflib-sparqlstore",
        ),
        pytest.param(GRAPH_FORMATS, "application/n-quads", None, "N_QUADS", id="quads"),
        pytest.param(SOLUTION_FORMATS, None, "turtle", None, id="param-not-offered"),
        pytest.param(
            SOLUTION_FORMATS,
            "text/tab-separated-values",
            ["tsv", "text/tab-separated-values"],
            "TSV",
            id="sparqlwrapper-tsv",
        ),
        pytest.param(
            GRAPH_FORMATS,
            "application/ld+json,application/x-json+ld",
            ["json-ld", "application/ld+json,application/x-json+ld"],
            "JSON_LD",
            id="sparqlwrapper-json-ld",
        ),
        pytest.param(
            GRAPH_FORMATS, None, ["rdf+xml", "application/rdf+xml"], "RDF_XML", id="rdf+xml"
        ),
        pytest.param(GRAPH_FORMATS, None, ["n3"], "TURTLE", id="n3-gets-turtle"),
        pytest.param(SOLUTION_FORMATS, None, ["csv", "turtle"], "CSV", id="other-family-left-out"),
        pytest.param(SOLUTION_FORMATS, "text/csv", [], "CSV", id="no-values-negotiates"),
    ],
)
def test_choose(
    formats: tuple, accept: str | None, param: str | list[str] | None, expected: str | None
) -> None:  # type: ignore[type-arg]
    chosen = choose(formats, accept=accept, format_param=param)
    assert (chosen.name if chosen else None) == expected


def test_format_parameters_naming_two_formats_conflict() -> None:
    with pytest.raises(BadRequestError, match="text/csv, text/tab-separated-values"):
        choose(SOLUTION_FORMATS, accept=None, format_param=["csv", "text/tab-separated-values"])
