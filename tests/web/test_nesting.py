"""Deep nesting gets 400 before any parser sees it, and whatever the gate lets through does not
crash the engine (issue 9 §3).

The engine runs in a child process here, so a crash fails the test instead of ending pytest.
"""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
from bench.nesting_depth import CONSTRUCTS, run_engine
from fastapi.testclient import TestClient
from tests.web.conftest import auth

from citygraph.web.nesting import MAX_NESTING, check_sparql, rdf_nesting, sparql_nesting
from citygraph.web.problems import BadRequestError

REPOSITORY = Path(__file__).resolve().parents[2]


def deepest_accepted(make: Callable[[int], str]) -> int:
    """The largest n whose text the gate accepts (the measure grows with n)."""
    low, high = 1, 4 * MAX_NESTING
    assert sparql_nesting(make(high)) > MAX_NESTING
    while high - low > 1:
        middle = (low + high) // 2
        if sparql_nesting(make(middle)) <= MAX_NESTING:
            low = middle
        else:
            high = middle
    return low


@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_what_the_gate_accepts_does_not_crash_the_engine(construct: str) -> None:
    make = CONSTRUCTS[construct]
    n = deepest_accepted(make)
    # the gate leaves room for real queries: at least 100 levels of each construct
    assert n >= 100
    check_sparql(make(n))
    with pytest.raises(BadRequestError, match="nests too deeply"):
        check_sparql(make(n + 1))
    done = run_engine(make(n))
    assert done.returncode == 0, (construct, n, done.returncode, done.stderr[-500:])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("SELECT * { ?s ?p '" + "{" * 5000 + "' }", id="brackets-in-a-string"),
        pytest.param("SELECT * { ?s ?p ?o } # " + "(" * 5000, id="brackets-in-a-comment"),
        pytest.param(
            "INSERT DATA { " + "<a> <b> -1, +2, [ <p> (1 2) ] . " * 2000 + "}", id="large-data"
        ),
    ],
)
def test_flat_texts_pass(text: str) -> None:
    check_sparql(text)


def test_every_query_of_the_repository_passes() -> None:
    files = sorted((REPOSITORY / "queries").glob("*.rq"))
    assert files
    for path in files:
        assert sparql_nesting(path.read_text()) <= MAX_NESTING // 10, path.name


@pytest.mark.parametrize(
    ("media", "body", "depth"),
    [
        pytest.param("text/turtle", "<a> <b> [ <p> ( 1 [ <q> 2 ] ) ] .", 3, id="turtle"),
        pytest.param("text/turtle", '<a> <b> "[[(" . # ((\n', 0, id="turtle-string-comment"),
        pytest.param(
            "application/ld+json", '{"@id": "x", "p": [{"v": "{[\\"{"}]}', 3, id="json-ld"
        ),
        pytest.param(
            "application/rdf+xml",
            '<?xml version="1.0"?><r><!-- <a><a> --><d a="/>"><e/><f></f></d></r>',
            3,
            id="rdf-xml",
        ),
    ],
)
def test_rdf_nesting(media: str, body: str, depth: int) -> None:
    assert rdf_nesting(body.encode(), media) == depth


DEEP = 5000  # crashes the engine for braces, parentheses, chains (measured)


def test_deep_query_gets_400_and_no_process_dies(client: TestClient) -> None:
    pool = client.app.state.endpoint.pool  # type: ignore[attr-defined]
    before = pool.pids()
    for text in (CONSTRUCTS["braces"](DEEP), CONSTRUCTS["optional-chain"](2000)):
        response = client.post(
            "/sparql", content=text, headers={"Content-Type": "application/sparql-query"}
        )
        assert response.status_code == 400, response.text[:300]
        assert response.text.startswith("the query nests too deeply: more than 500 levels")
    assert pool.pids() == before
    assert pool.stats.died == 0


def test_deep_update_gets_400(writer: TestClient) -> None:
    text = CONSTRUCTS["update-where"](DEEP)
    response = writer.post(
        "/sparql",
        content=text,
        headers={"Content-Type": "application/sparql-update", **auth()},
    )
    assert response.status_code == 400, response.text[:300]
    assert response.text.startswith("the update nests too deeply")
    assert writer.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_deep_graph_store_body_gets_400(writer: TestClient) -> None:
    body = "<http://a> <http://b> " + "[ <http://p> " * DEEP + "1" + " ]" * DEEP + " ."
    response = writer.put(
        "/store",
        params={"graph": "http://example.org/deep"},
        content=body,
        headers={"Content-Type": "text/turtle", **auth()},
    )
    assert response.status_code == 400, response.text[:300]
    assert response.text.startswith("the text/turtle body nests too deeply")


@pytest.mark.parametrize(
    "name", ["citygraph.sandbox", "citygraph.web.nesting", "citygraph.web.sparql_text"]
)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
