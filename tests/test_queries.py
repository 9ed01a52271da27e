"""The competency questions in ``queries/``: each file documents itself and meets its expectation.

A query file states its question in ``#+`` headers (as grlc does) and may name the expected
answer, a CSV file under ``queries/expected/``. The answer on the repository's own data is
compared with it as a multiset of rows (the OWLUnit pattern): row order never matters, but every
row, duplicates included, must be there. See docs/queries.md.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.plugins.sparql import prepareQuery
from tests.backends import VIRTUOSO_WKT, OxigraphServers, every_backend, fails_on, open_store

from citygraph.build import build_store, default_build_inputs
from citygraph.query import QueryFile, read_query_file, run_query, term_text

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "queries"
EXPECTED = QUERIES / "expected"
ONTOLOGY = ROOT / "ontology" / "citygraph.ttl"
DOCS = ROOT / "docs" / "queries.md"
CG = "https://w3id.org/citygraph/ontology#"

MINIMUM_QUERY_FILES = 15

#: Header keys a query file may use: ours, plus the ones grlc understands.
HEADER_KEYS = {"summary", "description", "expect"}
GRLC_KEYS = {"endpoint", "tags", "method", "pagination", "enumerate", "defaults", "transform"}
# read_query_file lower-cases keys, so parameter names are lower case.
PARAM_KEY = re.compile(r"^param-([a-z_][a-z0-9_]*)$")

QUERY_FILES = [read_query_file(path) for path in sorted(QUERIES.glob("*.rq"))]
WITH_EXPECTATION = [q for q in QUERY_FILES if "expect" in q.header]
PARAMETERS = [
    (q, match.group(1), value)
    for q in QUERY_FILES
    for key, value in q.header.items()
    if (match := PARAM_KEY.match(key))
]


def stem(query: QueryFile) -> str:
    return query.path.stem


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's ontology, vocabularies and data, built as `citygraph build` does.

    Session-scoped because it is only ever read.
    """
    root = tmp_path_factory.mktemp("store")
    build_store(root, default_build_inputs(ROOT))
    return root


@pytest.fixture
def built_store(built_dir: Path, backend: str, oxigraph_servers: OxigraphServers) -> ox.Store:
    """That build on the test's backend (published to the remote store once per session)."""
    return open_store(backend, built_dir, oxigraph_servers)


@pytest.fixture(scope="module")
def declared() -> set[str]:
    """The ``cg:`` terms the ontology declares (every typed subject in its namespace).

    Module-scoped: parsing the ontology for every query file costs more than it checks.
    """
    graph = Graph().parse(ONTOLOGY, format="turtle")
    return {
        str(subject)
        for subject in graph.subjects(RDF.type, None)
        if isinstance(subject, URIRef) and str(subject).startswith(CG) and str(subject) != CG
    }


def ontology_terms(text: str) -> set[str]:
    """Full IRIs of the ontology's namespace a query mentions, by prefixed name or in full.

    Comments count too: the headers name the properties a query relies on.
    """
    prefixes = {"cg"} | set(re.findall(rf"PREFIX\s+(\w*):\s*<{re.escape(CG)}>", text, re.I))
    terms = {CG + local for local in re.findall(rf"<{re.escape(CG)}([^>]+)>", text)}
    for prefix in prefixes:
        pattern = rf"(?<![\w:/#-]){re.escape(prefix)}:([A-Za-z_][\w-]*)"
        terms |= {CG + local for local in re.findall(pattern, text)}
    return terms


def read_expected(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [tuple(row) for row in reader if row]
    bad = [row for row in rows if len(row) != len(header)]
    assert not bad, f"{path.name}: rows with other than {len(header)} cells: {bad}"
    return header, rows


def row_diff(name: str, expected: list[tuple[str, ...]], actual: list[tuple[str, ...]]) -> str:
    missing = Counter(expected) - Counter(actual)
    unexpected = Counter(actual) - Counter(expected)
    lines = [f"{name}: {len(actual)} rows, expected {len(expected)}"]
    lines += [f"  missing:    {row}" for row in sorted(missing.elements())]
    lines += [f"  unexpected: {row}" for row in sorted(unexpected.elements())]
    return "\n".join(lines)


def test_there_are_enough_competency_questions() -> None:
    assert len(QUERY_FILES) >= MINIMUM_QUERY_FILES, [stem(q) for q in QUERY_FILES]


@pytest.mark.parametrize("query", QUERY_FILES, ids=stem)
def test_query_file_states_its_question(query: QueryFile) -> None:
    assert query.header.get("summary"), f"{query.path.name}: no `#+ summary:` header"
    assert query.header.get("description"), f"{query.path.name}: no `#+ description:` header"
    unknown = [
        key
        for key in query.header
        if key not in HEADER_KEYS | GRLC_KEYS and not PARAM_KEY.match(key)
    ]
    # A continuation line that starts with "word:" (e.g. "#+   cg:partner ...") is read as a new
    # key and silently cuts the description short.
    assert not unknown, f"{query.path.name}: unknown header keys {unknown}"


@pytest.mark.parametrize("query", QUERY_FILES, ids=stem)
def test_query_file_parses_in_oxigraph_and_rdflib(query: QueryFile) -> None:
    # Oxigraph is the engine; rdflib is what grlc and pySHACL use, so stay within both.
    run_query(ox.Store(), query.text)
    prepareQuery(query.text)


@pytest.mark.parametrize(
    ("query", "name", "value"),
    PARAMETERS,
    ids=[f"{stem(q)}-{name}" for q, name, _ in PARAMETERS],
)
def test_documented_parameter_is_bound_in_the_query(
    query: QueryFile, name: str, value: str
) -> None:
    values = re.search(rf"VALUES\s+\?{name}\s*\{{([^}}]*)\}}", query.text)
    assert values, f"{query.path.name}: `#+ param-{name}` but no `VALUES ?{name} {{ ... }}`"
    bound = values.group(1)
    assert f"<{value}>" in bound or f'"{value}"' in bound, (
        f"{query.path.name}: `#+ param-{name}: {value}` but the query binds {bound.strip()}"
    )


@pytest.mark.parametrize("query", QUERY_FILES, ids=stem)
def test_query_uses_only_declared_ontology_terms(query: QueryFile, declared: set[str]) -> None:
    used = ontology_terms(query.text)
    undeclared = sorted(used - declared)
    assert not undeclared, (
        f"{query.path.name}: not declared in ontology/citygraph.ttl: {undeclared}"
    )


@pytest.mark.parametrize("query", WITH_EXPECTATION, ids=stem)
@every_backend
@pytest.mark.virtuoso
def test_query_returns_the_expected_answer(
    query: QueryFile, built_store: ox.Store, backend: str, request: pytest.FixtureRequest
) -> None:
    if "asWKT" in query.text:
        fails_on(request, backend, "virtuoso", VIRTUOSO_WKT)
    expected_path = QUERIES / query.header["expect"]
    assert expected_path.resolve().parent == EXPECTED.resolve(), (
        f"{query.path.name}: expected answers belong in queries/expected/, not {expected_path}"
    )
    assert expected_path.is_file(), f"{query.path.name}: {expected_path} does not exist"
    expected_header, expected_rows = read_expected(expected_path)

    result = run_query(built_store, query.text)
    assert isinstance(result, ox.QuerySolutions), f"{query.path.name}: not a SELECT query"
    variables = [v.value for v in result.variables]
    actual_rows = [tuple(term_text(row[v]) for v in variables) for row in result]

    assert variables == expected_header, (
        f"{query.path.name}: columns {variables}, expected {expected_header}"
    )
    assert sorted(actual_rows) == sorted(expected_rows), row_diff(
        query.path.name, expected_rows, actual_rows
    )


def test_every_expectation_file_belongs_to_a_query() -> None:
    used = {(QUERIES / q.header["expect"]).resolve() for q in WITH_EXPECTATION}
    orphans = [p.name for p in sorted(EXPECTED.glob("*.csv")) if p.resolve() not in used]
    assert not orphans, f"expected answers no query names: {orphans}"


@pytest.mark.parametrize("query", QUERY_FILES, ids=stem)
def test_query_file_is_listed_in_the_docs(query: QueryFile) -> None:
    assert query.path.name in DOCS.read_text(encoding="utf-8"), (
        f"{query.path.name} is not listed in docs/queries.md"
    )


def test_ontology_terms_reads_prefixed_and_full_names() -> None:
    text = f"""#+ description: relies on cg:partner.
    PREFIX o: <{CG}>
    PREFIX cgv: <https://w3id.org/citygraph/vocab/>
    SELECT * {{ ?p a o:Partnership ; <{CG}startDate> ?d ; cgv:x ?y }}"""
    assert ontology_terms(text) == {CG + "partner", CG + "Partnership", CG + "startDate"}


def test_row_diff_names_missing_and_unexpected_rows() -> None:
    message = row_diff("q.rq", [("a",), ("b",), ("b",)], [("b",), ("c",)])
    assert "missing:    ('a',)" in message
    assert "missing:    ('b',)" in message
    assert "unexpected: ('c',)" in message
