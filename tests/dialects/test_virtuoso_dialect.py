"""Virtuoso against the embedded store, on the repository's build (issue 11 §2).

Two kinds of tests. The competency questions and the pages' document query are asked of both
stores, and Virtuoso's answer, read through ``citygraph.engine.dialects``, must equal the
embedded one term for term (datatypes and language tags included; only blank-node labels and
the precision Virtuoso keeps of WKT coordinates are not compared). Then each difference the
dialect module documents is shown raw, so a Virtuoso that changes is noticed, together with
what the module makes of it.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from citygraph.documents import DOCUMENT_QUERY, describe
from citygraph.engine import datasets, dialects
from citygraph.engine.dialects import DIALECTS
from citygraph.query import QueryFile, read_query_file, run_query
from citygraph.web.sparql_text import tokenize

from .conftest import Loaded

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QUERY_FILES = [read_query_file(path) for path in sorted((ROOT / "queries").glob("*.rq"))]
VIRTUOSO = DIALECTS["virtuoso"]
ID = "https://w3id.org/citygraph/id/"
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Things of every kind a page is about: a city with a geometry, a partnership with a history,
#: an agreement, a source, an event, a country, a concept of the vocabularies.
DOCUMENT_IRIS = [
    ID + "city/de-wuppertal",
    ID + "city/de-berlin",
    ID + "partnership/cn-beijing--de-berlin",
    ID + "agreement/cn-beijing--de-berlin-1994-04-05-memorandum",
    ID + "source/berlin-de-beijing-de",
    ID + "event/round-table-china-6",
    ID + "country/cn",
    "https://w3id.org/citygraph/vocab/status/dormant",
]


def ask(
    loaded: Loaded,
    query: str,
    *,
    accept: str = "application/sparql-results+json",
    dataset: bool = True,
    extra: Sequence[tuple[str, str]] = (),
) -> httpx.Response:
    """POST ``query`` to Virtuoso, naming the union of the build's graphs as the dialect says
    (or naming no dataset at all)."""
    union = datasets.union_dataset(VIRTUOSO, loaded.graphs) if dataset else None
    while True:
        params: list[tuple[str, str]] = [("query", union.prologue + query if union else query)]
        params += extra
        if union is not None:
            params += [("default-graph-uri", g) for g in union.default_graphs or ()]
            params += [("named-graph-uri", g) for g in union.named_graphs or ()]
        response = httpx.post(
            loaded.server.query_url,
            content=urllib.parse.urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
            timeout=120,
        )
        # As citygraph does: refused for its estimated cost, the other way of naming the graphs.
        if union is None or union.fallback is None or response.status_code != 500:
            return response
        if not dialects.refused_by_estimate(VIRTUOSO, response.text):
            return response
        union = union.fallback


def solutions(response: httpx.Response) -> ox.QuerySolutions | ox.QueryBoolean:
    """A store's JSON results read through the dialect, parsed by pyoxigraph."""
    assert response.status_code == 200, response.text
    assert dialects.is_complete(VIRTUOSO, response.status_code, response.headers), response.headers
    data = response.json()
    for row in data.get("results", {}).get("bindings", []):
        for name, value in row.items():
            row[name] = dialects.normalise_binding(VIRTUOSO, value)
    return ox.parse_query_results(json.dumps(data).encode(), format=ox.QueryResultsFormat.JSON)


def triples(response: httpx.Response) -> list[ox.Triple]:
    """A store's N-Triples read through the dialect."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/n-triples")
    return [
        ox.Triple(t.subject, t.predicate, normalised(t.object))
        for t in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
    ]


def normalised(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    assert isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal), term
    result = dialects.normalise_term(VIRTUOSO, term)
    assert isinstance(result, ox.NamedNode | ox.BlankNode | ox.Literal)
    return result


def comparable(term: object) -> str:
    """A term as N-Triples, blank nodes anonymous, WKT points at the data's 5 decimals."""
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal) and term.datatype.value == WKT:
        numbers = re.sub(r"-?\d+\.\d+", lambda m: f"{float(m.group()):.5f}", term.value)
        return f'"{numbers}"^^<{WKT}>'
    return "" if term is None else str(term)


def rows_of(result: object) -> list[ox.QuerySolution]:
    assert isinstance(result, ox.QuerySolutions), result
    return list(result)


def rows(result: object) -> Counter[tuple[str, ...]]:
    """SELECT results as a multiset of rows of :func:`comparable` terms."""
    assert isinstance(result, ox.QuerySolutions), result
    names = [v.value for v in result.variables]
    return Counter(tuple(comparable(row[name]) for name in names) for row in result)


def graph(items: Iterable[ox.Triple]) -> set[str]:
    """Triples as a set (an RDF graph; a CONSTRUCT may send one twice), blank nodes anonymous."""
    return {
        f"{comparable(t.subject)} {comparable(t.predicate)} {comparable(t.object)}" for t in items
    }


def local_triples(store: ox.Store, query: str) -> list[ox.Triple]:
    """A CONSTRUCT or DESCRIBE on the embedded store, over the union of its graphs."""
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QueryTriples)
    return list(result)


def bind(query: str, name: str, term: ox.NamedNode) -> str:
    """``query`` with ``?name`` replaced by ``term``, as pyoxigraph's ``substitutions=`` does.

    In a projection (``SELECT ?this``) the variable becomes ``(<iri> AS ?this)``.
    """
    out: list[str] = []
    last = 0
    previous = ""
    for token in tokenize(query):
        if token.kind == "var" and token.text[1:] == name:
            out.append(query[last : token.start])
            projected = previous.upper() in {"SELECT", "DISTINCT", "REDUCED"}
            out.append(f"({term} AS {token.text})" if projected else str(term))
            last = token.start + len(token.text)
        previous = token.text
    return "".join(out) + query[last:]


@pytest.mark.parametrize("query", QUERY_FILES, ids=lambda q: q.path.stem)
def test_competency_question_has_the_embedded_answer(query: QueryFile, virtuoso: Loaded) -> None:
    expected = run_query(virtuoso.embedded, query.text)
    assert isinstance(expected, ox.QuerySolutions)
    actual = solutions(ask(virtuoso, query.text))
    assert isinstance(actual, ox.QuerySolutions)
    assert [v.value for v in actual.variables] == [v.value for v in expected.variables]
    want, got = rows(expected), rows(actual)
    assert got == want, (
        f"{query.path.name}: missing {sorted((want - got).elements())[:5]}, "
        f"unexpected {sorted((got - want).elements())[:5]}"
    )


@pytest.mark.parametrize("iri", DOCUMENT_IRIS, ids=lambda iri: iri.rsplit("/", 2)[-2])
def test_a_page_document_has_the_embedded_triples(iri: str, virtuoso: Loaded) -> None:
    expected = describe(virtuoso.embedded, iri)
    assert expected, f"{iri} is not in the build: choose another"
    query = bind(DOCUMENT_QUERY, "this", ox.NamedNode(iri))
    actual = triples(ask(virtuoso, query, accept="application/n-triples"))
    assert graph(actual) == graph(expected)


@pytest.mark.parametrize("iri", DOCUMENT_IRIS[:3], ids=lambda iri: iri.rsplit("/", 1)[-1])
def test_describe_is_oxigraphs_on_both_stores(iri: str, virtuoso: Loaded) -> None:
    native = local_triples(virtuoso.embedded, f"DESCRIBE <{iri}>")
    rewritten = local_triples(virtuoso.embedded, dialects.describe_query([iri]))
    assert graph(rewritten) == graph(native)
    remote = triples(ask(virtuoso, dialects.describe_query([iri]), accept="application/n-triples"))
    assert graph(remote) == graph(native)


def test_virtuosos_own_describe_differs(virtuoso: Loaded) -> None:
    """Why citygraph rewrites DESCRIBE: Virtuoso's includes links *to* the resource."""
    iri = ID + "city/de-wuppertal"
    own = ox.parse(
        ask(virtuoso, f"DESCRIBE <{iri}>", accept="application/n-triples").content,
        format=ox.RdfFormat.N_TRIPLES,
    )
    incoming = [t for t in own if t.object == ox.NamedNode(iri)]
    assert incoming
    native = local_triples(virtuoso.embedded, f"DESCRIBE <{iri}>")
    assert not [t for t in native if t.object == ox.NamedNode(iri)]


def test_the_default_graph_is_the_union_of_the_builds_graphs_only_when_named(
    virtuoso: Loaded,
) -> None:
    query = "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?graphs) { GRAPH ?g { ?s ?p ?o } }"
    expected = rows(run_query(virtuoso.embedded, query))
    named = solutions(ask(virtuoso, query))
    assert rows(named) == expected
    plain = solutions(ask(virtuoso, query, dataset=False))
    # Without the protocol's dataset, Virtuoso's own system graphs are part of every query.
    assert rows(plain) != expected
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    assert rows(solutions(ask(virtuoso, count))) == rows(run_query(virtuoso.embedded, count))


def test_excluding_graphs_without_listing_the_named_ones_hides_every_named_graph(
    virtuoso: Loaded,
) -> None:
    """Why the dialect still lists the named graphs when it excludes graphs from the default."""
    query = "SELECT ?s ?p ?o { GRAPH <https://w3id.org/citygraph/graph/meta> { ?s ?p ?o } }"
    union = datasets.union_dataset(VIRTUOSO, virtuoso.graphs)
    expected = rows(run_query(virtuoso.embedded, query))
    assert expected
    assert rows(solutions(ask(virtuoso, query))) == expected
    alone = solutions(ask(virtuoso, union.prologue + query, dataset=False))
    assert rows(alone) == Counter()


def test_literals_are_read_back_as_the_standard_writes_them(virtuoso: Loaded) -> None:
    query = f"""SELECT ?x {{ VALUES ?x {{
        "s"^^<{XSD}string> "1.5"^^<{XSD}decimal> "true"^^<{XSD}boolean> "false"^^<{XSD}boolean>
        "2020-01-01T00:00:00Z"^^<{XSD}dateTime> "Berlin"@de }} }}"""
    raw = ask(virtuoso, query).json()["results"]["bindings"]
    kinds = {b["x"]["type"] for b in raw}
    assert "typed-literal" in kinds  # SPARQL 1.0's JSON
    assert {"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"} in [
        b["x"] for b in raw
    ]
    assert rows(solutions(ask(virtuoso, query))) == rows(run_query(ox.Store(), query))


def test_blank_node_labels_become_valid_labels(virtuoso: Loaded) -> None:
    iri = ID + "city/de-wuppertal"
    query = f"SELECT ?g {{ <{iri}> <http://www.opengis.net/ont/geosparql#hasGeometry> ?g }}"
    raw = ask(virtuoso, query).json()["results"]["bindings"]
    assert raw[0]["g"]["value"].startswith("nodeID://")
    result = solutions(ask(virtuoso, query))
    assert isinstance(result, ox.QuerySolutions)
    assert all(isinstance(row["g"], ox.BlankNode) for row in result)


@pytest.mark.parametrize("chunk", [1, 7, 4096], ids=lambda n: f"chunks-of-{n}")
def test_a_streamed_answer_is_corrected_across_chunk_boundaries(
    chunk: int, virtuoso: Loaded
) -> None:
    """The remote backend parses while receiving: the corrections work on a byte stream."""
    iri = ID + "city/de-wuppertal"
    geo = "http://www.opengis.net/ont/geosparql#"
    query = f"""SELECT ?g ?w ?b {{ <{iri}> <{geo}hasGeometry> ?g . ?g <{geo}asWKT> ?w
        VALUES ?b {{ true false }} }}"""
    raw = ask(virtuoso, query).content
    with pytest.raises(SyntaxError):
        list(ox.parse_query_results(raw, format=ox.QueryResultsFormat.JSON))
    pieces = [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
    fixed = b"".join(dialects.rewrite_stream(VIRTUOSO, pieces))
    parsed = ox.parse_query_results(fixed, format=ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions)
    got = {(comparable(row["w"]), str(row["b"])) for row in parsed}
    embedded = run_query(virtuoso.embedded, query)
    assert got == {(comparable(row["w"]), str(row["b"])) for row in rows_of(embedded)}


def test_wkt_literals_keep_their_datatype_but_lose_precision(virtuoso: Loaded) -> None:
    iri = ID + "city/de-wuppertal"
    geo = "http://www.opengis.net/ont/geosparql#"
    query = f"SELECT ?w {{ <{iri}> <{geo}hasGeometry>/<{geo}asWKT> ?w }}"
    raw = ask(virtuoso, query).json()["results"]["bindings"][0]["w"]
    assert raw["datatype"] == dialects.VIRTUOSO_GEOMETRY
    result = solutions(ask(virtuoso, query))
    assert isinstance(result, ox.QuerySolutions)
    (remote,) = [row["w"] for row in result]
    embedded = run_query(virtuoso.embedded, query)
    assert isinstance(embedded, ox.QuerySolutions)
    (local,) = [row["w"] for row in embedded]
    assert isinstance(remote, ox.Literal)
    assert isinstance(local, ox.Literal)
    assert remote.datatype == local.datatype
    assert remote.value != local.value
    assert comparable(remote) == comparable(local)


def test_a_timed_out_query_is_a_complete_looking_200_told_apart_by_its_header(
    virtuoso: Loaded,
) -> None:
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) < STR(?f)) }"
    answer = ask(virtuoso, slow, extra=[("timeout", "200")])
    assert answer.status_code == 200
    assert answer.headers["x-sql-state"] == "S1TAT"
    assert not dialects.is_complete(VIRTUOSO, answer.status_code, answer.headers)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SELEC ?x", 400),
        # No separator: SPARQL's default is " ", Virtuoso wants one and fails with a 500.
        ("SELECT (GROUP_CONCAT(?x) AS ?c) { VALUES ?x { 1 2 } }", 500),
    ],
    ids=["syntax", "group-concat"],
)
def test_errors_of_the_query_are_told_apart_from_the_stores(
    query: str, status: int, virtuoso: Loaded
) -> None:
    answer = ask(virtuoso, query)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/plain")
    assert dialects.classify_error(VIRTUOSO, answer.status_code, answer.text) == "query"


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * { ?s ?p ?o } LIMIT 1", "SELECT"),
        ("ASK { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "CONSTRUCT"),
        (dialects.describe_query([ID + "city/de-berlin"]), "CONSTRUCT"),
    ],
    ids=["select", "ask", "construct", "describe"],
)
def test_the_formats_citygraph_asks_for_are_served(query: str, form: str, virtuoso: Loaded) -> None:
    accept = dialects.QUERY_ACCEPT[form]
    answer = ask(virtuoso, query, accept=accept)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].split(";")[0] == accept


def test_the_graph_store_takes_the_standard_parameter(virtuoso: Loaded) -> None:
    name = "https://w3id.org/citygraph/graph/meta"
    answer = httpx.get(
        virtuoso.server.store_url,
        params={"graph": name},
        headers={"Accept": "application/n-triples"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    got = ox.parse(answer.content, format=ox.RdfFormat.N_TRIPLES)
    want = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in virtuoso.embedded.quads_for_pattern(None, None, None, ox.NamedNode(name))
    ]
    assert graph(got) == graph(want)
