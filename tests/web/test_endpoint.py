"""The SPARQL service below HTTP (``Endpoint.query``, ``answer``, ``update``): the format, ETag,
cache and dataset of an answer, the limits, and the checks before anything runs.

One real query process on a real store on disk, shared by the module (starting one is the slow
part); the tests that write add to a graph of their own, which the others never read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.web.conftest import BASE, CURATED, TOKEN, VOCAB, make_build, tiny_quads

from citygraph import store
from citygraph.config import Settings
from citygraph.engine.cache import ResponseCache
from citygraph.engine.jobs import GraphJob, QueryJob
from citygraph.engine.pool import QueryPool, QueryTimeoutError
from citygraph.errors import InputSyntaxError
from citygraph.web.endpoint import Endpoint, EvaluationError
from citygraph.web.metrics import Metrics
from citygraph.web.problems import (
    BadRequestError,
    ForbiddenError,
    NotAcceptableError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from citygraph.web.protocol import Operation, SparqlRequest

JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
TURTLE_UTF8 = "text/turtle; charset=utf-8"
WRITTEN = "http://example.org/written"
LABELS = "SELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
VERSION = "20260101T000000000000Z-aaaaaaaaaa"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("endpoint") / "store"
    make_build(root, tiny_quads(), VERSION)
    return Settings(store=root, query_processes=1, version_check_interval=0.0, update_token=TOKEN)


@pytest.fixture(scope="module")
def pool(settings: Settings) -> Iterator[QueryPool]:
    pool = QueryPool(
        settings.store,
        size=1,
        in_memory=True,
        max_concurrent=4,
        check_interval=settings.version_check_interval,
    )
    pool.start()
    yield pool
    pool.close()


def endpoint_of(pool: QueryPool, settings: Settings, **changes: object) -> Endpoint:
    """An endpoint on the shared query process, with ``changes`` to its settings."""
    changed = Settings(**{**settings.__dict__, **changes})
    return Endpoint(changed, pool, ResponseCache(max_bytes=changed.cache_bytes), Metrics())


@pytest.fixture
def endpoint(pool: QueryPool, settings: Settings) -> Endpoint:
    return endpoint_of(pool, settings)


def query(text: str, **dataset: tuple[str, ...]) -> SparqlRequest:
    return SparqlRequest(Operation.QUERY, text, **dataset)  # type: ignore[arg-type]


def update(text: str, **dataset: tuple[str, ...]) -> SparqlRequest:
    return SparqlRequest(Operation.UPDATE, text, **dataset)  # type: ignore[arg-type]


def labels(body: bytes) -> set[str]:
    return {row["label"]["value"] for row in json.loads(body)["results"]["bindings"]}


def test_a_select_is_answered_in_the_format_asked_with_an_etag(endpoint: Endpoint) -> None:
    started = time.monotonic()
    answer = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
    took = time.monotonic() - started

    assert answer.status == 200
    assert answer.content_type == JSON
    # the default graph is the union of the graphs
    assert labels(answer.body) == {"Berlin", "北京", "Paris v1", "economy"}
    assert answer.etag
    assert answer.cacheable
    assert not answer.cached
    assert answer.version == endpoint.pool.version
    assert answer.headers == {"Cache-Control": f"public, max-age={endpoint.settings.cache_max_age}"}
    assert answer.query_seconds is not None
    assert 0 <= answer.query_seconds <= took  # the time it ran, as measured here too
    assert endpoint.metrics.query_outcomes == {"ok": 1}


def test_the_same_query_again_comes_from_the_cache_with_the_same_etag(endpoint: Endpoint) -> None:
    first = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
    again = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
    other = endpoint.query(query(LABELS + " LIMIT 1"), accept=JSON, if_none_match=None)

    assert again.cached
    assert again.cacheable
    assert not first.cached
    assert (again.body, again.content_type, again.etag) == (first.body, JSON, first.etag)
    assert again.headers == first.headers
    assert again.version == first.version
    assert other.etag != first.etag
    assert endpoint.metrics.query_outcomes == {"ok": 2, "cached": 1}


def test_without_a_cache_every_query_runs(pool: QueryPool, settings: Settings) -> None:
    endpoint = endpoint_of(pool, settings, cache_bytes=0)
    first = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
    again = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)

    assert not again.cached
    assert again.etag == first.etag
    assert endpoint.metrics.query_outcomes == {"ok": 2}


def test_a_matching_if_none_match_is_a_304_without_running_the_query(endpoint: Endpoint) -> None:
    etag = endpoint.query(query(LABELS), accept=JSON, if_none_match=None).etag

    answer = endpoint.query(query(LABELS), accept=JSON, if_none_match=etag)

    assert (answer.status, answer.body, answer.etag, answer.cached) == (304, b"", etag, True)
    assert endpoint.metrics.query_outcomes == {"ok": 1, "cached": 1}
    assert answer.cacheable is True
    assert answer.version == endpoint.pool.version
    assert answer.headers["Cache-Control"].startswith("public, max-age=")
    other = endpoint.query(query(LABELS), accept=JSON, if_none_match='"something else"')
    assert other.status == 200


def test_a_protocol_dataset_replaces_the_union_and_a_from_is_kept(endpoint: Endpoint) -> None:
    vocab = endpoint.query(query(LABELS, default_graphs=(VOCAB,)), accept=JSON, if_none_match=None)
    assert labels(vocab.body) == {"economy"}

    text = LABELS.replace("WHERE", f"FROM <{VOCAB}> WHERE")
    assert labels(endpoint.query(query(text), accept=JSON, if_none_match=None).body) == {"economy"}

    named = endpoint.query(
        query("SELECT ?label WHERE { GRAPH ?g { ?s ?p ?label } }", named_graphs=(VOCAB,)),
        accept=JSON,
        if_none_match=None,
    )
    assert labels(named.body) == {"economy"}


def test_construct_is_a_graph_and_ask_a_boolean(endpoint: Endpoint) -> None:
    graph = endpoint.query(
        query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{VOCAB}> {{ ?s ?p ?o }} }}"),
        accept=TURTLE,
        if_none_match=None,
    )
    assert graph.content_type == TURTLE_UTF8
    assert b'"economy"@en' in graph.body

    ask = endpoint.query(query("ASK { ?s ?p ?o }"), accept=None, if_none_match=None)
    assert ask.content_type == JSON
    assert json.loads(ask.body)["boolean"] is True

    # a format= parameter wins over Accept
    ask = endpoint.query(
        SparqlRequest(Operation.QUERY, "ASK {}", formats=("xml",)),
        accept=JSON,
        if_none_match=None,
    )
    assert ask.content_type == "application/sparql-results+xml"


@pytest.mark.parametrize(
    ("text", "accept", "offered", "what"),
    [
        ("SELECT * {}", TURTLE, JSON, "SELECT and ASK results"),
        ("ASK {}", TURTLE, JSON, "SELECT and ASK results"),
        ("CONSTRUCT {} WHERE {}", JSON, TURTLE, "CONSTRUCT and DESCRIBE results"),
        ("DESCRIBE <http://example.org/x>", JSON, TURTLE, "CONSTRUCT and DESCRIBE results"),
        ("NOT SPARQL", "image/png", JSON, "query results"),
    ],
)
def test_a_result_no_acceptable_format_can_carry_is_a_406_naming_those_offered(
    endpoint: Endpoint, text: str, accept: str, offered: str, what: str
) -> None:
    with pytest.raises(NotAcceptableError) as caught:
        endpoint.query(query(text), accept=accept, if_none_match=None)
    assert offered in str(caught.value)
    assert accept not in str(caught.value)
    assert f"offers for {what} is" in str(caught.value)


def test_an_unparsable_text_in_any_acceptable_format_is_a_syntax_error(
    endpoint: Endpoint,
) -> None:
    with pytest.raises(InputSyntaxError) as caught:
        endpoint.query(query("SELECT * WHERE { ?s ?p }"), accept=JSON, if_none_match=None)
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("INSERT DATA { <a:b> <a:b> <a:b> }", BadRequestError, r"SPARQL Update \(INSERT"),
        ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", ForbiddenError,
         "SERVICE"),
        ("SELECT * " + "{" * 600 + "}" * 600, BadRequestError, "the query nests too deeply"),
    ],
)  # fmt: skip
def test_what_a_query_may_not_do_is_refused_before_it_runs(
    endpoint: Endpoint, text: str, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        endpoint.query(query(text), accept=JSON, if_none_match=None)
    assert endpoint.metrics.query_outcomes == {}


@pytest.mark.parametrize("limit", ["max_result_rows", "max_response_bytes"])
def test_a_result_over_a_limit_is_refused(pool: QueryPool, settings: Settings, limit: str) -> None:
    endpoint = endpoint_of(pool, settings, **{limit: 2})
    with pytest.raises(PayloadTooLargeError, match=r"than 2 .*this endpoint's limit"):
        endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
    assert endpoint.metrics.query_outcomes == {"rows" if limit == "max_result_rows" else "bytes": 1}
    roomy = endpoint_of(pool, settings, **{limit: 100_000})
    assert roomy.query(query(LABELS), accept=JSON, if_none_match=None).status == 200


def test_a_read_of_a_missing_graph_is_a_404(endpoint: Endpoint) -> None:
    job = GraphJob("http://example.org/missing", "TURTLE", max_rows=10, max_bytes=10_000)
    with pytest.raises(NotFoundError, match=r"there is no graph <http://example\.org/missing>"):
        endpoint.answer(job, None, what="graph read")
    found = endpoint.answer(
        GraphJob(VOCAB, "TURTLE", max_rows=10, max_bytes=10_000), None, what="graph read"
    )
    assert found.content_type == TURTLE_UTF8
    assert b"economy" in found.body


@pytest.mark.parametrize(
    ("text", "dataset", "token", "error", "says"),
    [
        ("INSERT DATA { <a:b> <a:b> <a:b> }", {}, None, UnauthorizedError, "Bearer"),
        ("INSERT DATA { <a:b> <a:b> <a:b> }", {}, "wrong", UnauthorizedError, "not valid"),
        ("LOAD <http://example.org/data.ttl>", {}, TOKEN, ForbiddenError, "LOAD is disabled"),
        ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", {},
         TOKEN, ForbiddenError, "SERVICE"),
        (f"INSERT {{ ?s ?p ?o }} USING <{VOCAB}> WHERE {{ ?s ?p ?o }}",
         {"default_graphs": (VOCAB,)}, TOKEN, BadRequestError, "USING.*using-graph-uri"),
        ("INSERT DATA { " + "{" * 600 + "}" * 600 + " }", {}, TOKEN, BadRequestError,
         "the update nests too deeply"),
    ],
)  # fmt: skip
def test_what_an_update_may_not_do_is_refused_and_changes_nothing(
    endpoint: Endpoint,
    text: str,
    dataset: dict[str, tuple[str, ...]],
    token: str | None,
    error: type[Exception],
    says: str,
) -> None:
    before = endpoint.pool.version
    with pytest.raises(error, match=says):
        endpoint.update(update(text, **dataset), authorization=token and f"Bearer {token}")
    assert endpoint.pool.version == before


def test_an_update_is_published_and_served_with_the_protocol_dataset_applied(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="citygraph.web.endpoint")
    before = endpoint.pool.version
    etag_before = endpoint.query(query(LABELS), accept=JSON, if_none_match=None).etag
    # <seen> is relative: it resolves against the endpoint's base IRI
    text = f"INSERT {{ GRAPH <{WRITTEN}> {{ ?s <seen> true }} }} WHERE {{ ?s ?p ?o }}"
    # only graph:vocab is the default graph of the WHERE (using-graph-uri)
    answer = endpoint.update(update(text, default_graphs=(VOCAB,)), authorization=f"Bearer {TOKEN}")

    assert (answer.status, answer.body) == (204, b"")
    assert endpoint.pool.version != before  # served at once, by this worker's engine
    seen = endpoint.query(
        query(f"SELECT ?s WHERE {{ GRAPH <{WRITTEN}> {{ ?s <{BASE}seen> ?o }} }}"),
        accept=JSON,
        if_none_match=None,
    )
    rows = json.loads(seen.body)["results"]["bindings"]
    assert [row["s"]["value"] for row in rows] == ["https://w3id.org/citygraph/vocab/theme/economy"]
    assert seen.version == endpoint.pool.version
    # the same query on the new build has a new ETag (its answer may differ)
    assert endpoint.query(query(LABELS), accept=JSON, if_none_match=None).etag != etag_before
    # the build records what made it, and the log says so
    assert store.current_build(endpoint.settings.store).metadata["change"] == "update"
    assert f"published build {seen.version} after update" in caplog.messages
    assert CURATED not in seen.body.decode()


def test_a_relative_service_iri_is_checked_against_the_allowlist_as_resolved(
    pool: QueryPool, settings: Settings
) -> None:
    endpoint = endpoint_of(pool, settings, service_allowlist=("http://example.org/sparql",))
    refused = f"SERVICE <{BASE}sparql> is not allowed"
    with pytest.raises(ForbiddenError, match=refused):
        endpoint.query(query("SELECT * { SERVICE <sparql> {} }"), accept=JSON, if_none_match=None)
    with pytest.raises(ForbiddenError, match=refused):
        endpoint.update(
            update("INSERT { ?s ?p ?o } WHERE { SERVICE <sparql> { ?s ?p ?o } }"),
            authorization=f"Bearer {TOKEN}",
        )


def test_a_query_that_runs_out_of_time_is_counted_as_such(
    pool: QueryPool, settings: Settings
) -> None:
    endpoint = endpoint_of(pool, settings, query_timeout=0.5)
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(10))  # 8^10 rows to count
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        endpoint.query(
            query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {patterns} }}"),
            accept=JSON,
            if_none_match=None,
        )
    waited = time.monotonic() - started

    assert endpoint.metrics.query_outcomes == {"timeout": 1}
    assert endpoint.metrics.query_count == 1
    assert 0 < endpoint.metrics.query_sum <= waited  # the time it ran, in the histogram


def job(text: str, *, solutions: str | None = "JSON") -> QueryJob:
    return QueryJob(text, BASE, None, None, True, solutions, None, 100, 100_000)


def test_what_the_query_process_refuses_maps_to_the_error_a_client_gets(endpoint: Endpoint) -> None:
    # Jobs the checks before a query process would stop, sent to it directly: its reply decides.
    with pytest.raises(BadRequestError, match="IRI"):
        endpoint.answer(GraphJob("not an IRI", "TURTLE", 10, 10_000), None, what="graph read")
    with pytest.raises(NotAcceptableError, match="offers for query results of this kind is") as e:
        endpoint.answer(job("SELECT * {}", solutions=None), None, what="query")
    assert JSON in str(e.value)
    graph = QueryJob("CONSTRUCT {} WHERE {}", BASE, None, None, True, None, None, 10, 10_000)
    with pytest.raises(NotAcceptableError, match="offers for query results of this kind") as e:
        endpoint.answer(graph, None, what="query")
    assert TURTLE in str(e.value)
    assert JSON not in str(e.value)
    # the operating system refuses the query process a socket (the text check did not run)
    with pytest.raises(ForbiddenError, match=r"tried to call another endpoint.*SERVICE_ALLOWLIST"):
        endpoint.answer(job("SELECT * { SERVICE <http://127.0.0.1:8890/> {} }"), None, what="query")
    # Oxigraph refuses this port itself: an evaluation error
    with pytest.raises(EvaluationError, match=r"^the query failed during evaluation: .*port 9"):
        endpoint.answer(job("SELECT * { SERVICE <http://127.0.0.1:9/> {} }"), None, what="query")


def test_a_relative_iri_in_a_query_resolves_against_the_base_iri(endpoint: Endpoint) -> None:
    text = LABELS.replace("?s <", "<id/city/fr-paris> <")
    answer = endpoint.query(query(text), accept=JSON, if_none_match=None)
    assert labels(answer.body) == {"Paris v1"}


def test_an_update_sent_as_a_query_is_told_how_to_send_it(endpoint: Endpoint) -> None:
    with pytest.raises(BadRequestError) as caught:
        endpoint.query(query("DELETE WHERE { ?s ?p ?o }"), accept=JSON, if_none_match=None)
    says = str(caught.value)
    assert "SPARQL Update (DELETE" in says
    assert "POST" in says
    assert "update parameter" in says
    assert "application/sparql-update" in says


def test_a_query_that_fails_in_evaluation_says_the_query_failed(
    pool: QueryPool, settings: Settings
) -> None:
    # allowed, so it runs; Oxigraph refuses this port itself
    endpoint = endpoint_of(pool, settings, service_allowlist=("http://127.0.0.1:9/",))
    with pytest.raises(EvaluationError, match=r"^the query failed during evaluation: .*port 9"):
        endpoint.query(
            query("SELECT * { SERVICE <http://127.0.0.1:9/> {} }"), accept=JSON, if_none_match=None
        )
    assert endpoint.metrics.query_outcomes == {"evaluation": 1}


def test_a_build_published_by_another_process_is_served_without_a_restart(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    make_build(root, tiny_quads("v1"), VERSION)
    settings = Settings(store=root, query_processes=1, version_check_interval=0.0)
    pool = QueryPool(root, size=1, in_memory=True, max_concurrent=2, check_interval=0.0)
    pool.start()
    try:
        endpoint = Endpoint(
            settings, pool, ResponseCache(max_bytes=settings.cache_bytes), Metrics()
        )
        assert "Paris v1" in labels(
            endpoint.query(query(LABELS), accept=JSON, if_none_match=None).body
        )
        newer = "20260102T000000000000Z-bbbbbbbbbb"
        make_build(root, tiny_quads("v2"), newer)

        # the switch runs in the background: the queries that follow are answered by the new build
        deadline = time.monotonic() + 60
        answer = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
        while answer.version != newer and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = endpoint.query(query(LABELS), accept=JSON, if_none_match=None)
        assert answer.version == newer
        assert "Paris v2" in labels(answer.body)
    finally:
        pool.close()


def test_a_format_parameter_chooses_a_graph_format_over_accept(endpoint: Endpoint) -> None:
    answer = endpoint.query(
        SparqlRequest(Operation.QUERY, "CONSTRUCT WHERE { ?s ?p ?o }", formats=("turtle",)),
        accept=JSON,
        if_none_match=None,
    )
    assert answer.content_type == TURTLE_UTF8


@pytest.mark.parametrize("accept", [JSON, TURTLE])
def test_a_text_that_is_no_query_form_is_a_syntax_error_whatever_is_accepted(
    endpoint: Endpoint, accept: str
) -> None:
    # its form cannot be told, so either kind of format will do: the parser decides (400)
    with pytest.raises(InputSyntaxError):
        endpoint.query(query("NOT SPARQL"), accept=accept, if_none_match=None)
