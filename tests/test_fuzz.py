"""The fuzzer of issue 9 §6: its short run against a real server, and its own guarantees."""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest
from bench.fuzz.cases import STANDARD_METHODS, Generator, rdf_bodies
from bench.fuzz.grammar import FUZZ_GRAPHS, Sparql, deep_nesting, deep_update
from bench.fuzz.observe import expected_503
from bench.fuzz.routes import Route, fill, harvest_links
from bench.fuzz.runner import Finding, Options, explain_deaths, fuzz
from tests.web.conftest import tiny_quads


@pytest.mark.e2e
@pytest.mark.slow
def test_a_thousand_fuzzed_requests_find_nothing(tmp_path: Path) -> None:
    """10^3 requests (seed 9): no 5xx but the documented 503s, no crash, no traceback, no
    connection to the network, closed metric labels, and the data unchanged."""
    options = Options(requests=1000, seconds=600, seed=9, failures=tmp_path / "failures.jsonl")
    report = fuzz(options, work=tmp_path)
    assert report.sent == 1000, report.summary()
    found = "\n".join(
        f"{f.what}: {f.detail[:200]}"
        + ("" if f.case is None else "\n    " + f.case.curl("http://127.0.0.1:8000")[:400])
        for f in report.findings[:20]
    )
    assert not report.findings, report.summary() + "\n" + found


def test_confined_updates_write_only_the_fuzz_graphs() -> None:
    """The fuzzer sends the right token only with these; they must leave other graphs alone,
    or its 'data unchanged' check would blame the server for the fuzzer's own writes."""
    store = ox.Store()
    store.extend(tiny_quads())
    before = {q for q in store if q.graph_name.value not in FUZZ_GRAPHS}
    sparql = Sparql(random.Random(3), canary="http://127.0.0.1:9/c/1")
    ran = 0
    for _ in range(400):
        text = sparql.confined_update()
        if "LOAD" in text or "SERVICE" in text:
            continue  # these must be refused by the server; the engine here would fetch
        try:
            store.update(text)
        except (SyntaxError, RuntimeError):
            continue  # a syntax error, or a graph that does not exist (without SILENT)
        ran += 1
    after = {q for q in store if q.graph_name.value not in FUZZ_GRAPHS}
    assert ran > 100
    assert after == before


def test_grammar_hides_service_behind_every_line_end() -> None:
    sparql = Sparql(random.Random(5), canary="http://127.0.0.1:9/c/1")
    texts = [sparql.query() for _ in range(2000)] + [sparql.confined_update() for _ in range(500)]
    joined = "\n".join(texts)
    for hiding in ("#x\rSERVICE", "#x\r\nSERVICE", "#x\rLOAD", "#x\rFROM"):
        assert hiding in joined, hiding
    # and most generated queries are valid SPARQL, so they reach the engine
    store = ox.Store()
    plain = [text for text in texts[:2000] if "SERVICE" not in text]
    valid = 0
    for text in plain:
        try:
            store.query(text)
            valid += 1
        except SyntaxError:
            pass
    assert valid > len(plain) / 2


@pytest.mark.parametrize("depth", [5000, 20000])
def test_deep_nesting_is_as_deep_as_asked(depth: int) -> None:
    rng = random.Random(depth)
    for _ in range(20):
        text = deep_nesting(rng, depth)
        assert max(text.count(c) for c in "{(!") >= depth or text.count("OPTIONAL") == depth
        update = deep_update(rng, depth, FUZZ_GRAPHS[0])
        assert update.startswith(f"INSERT {{ GRAPH <{FUZZ_GRAPHS[0]}> ")
        assert max(update.count(c) for c in "{(!") >= depth


@pytest.mark.parametrize(
    ("path", "headers", "body", "expected"),
    [
        pytest.param("/sparql", {}, b"the query ran out of time: it did not", True, id="timeout"),
        pytest.param("/sparql", {"retry-after": "1"}, b"the server is busy", True, id="overload"),
        pytest.param("/healthz", {}, b'{"status":"unavailable"}', True, id="healthz"),
        pytest.param("/sparql", {}, b"the query process 12 ended unexpectedly", False, id="crash"),
        pytest.param("/partnerships", {}, b"Internal Server Error", False, id="500-text"),
    ],
)
def test_which_503s_are_documented(
    path: str, headers: dict[str, str], body: bytes, expected: bool
) -> None:
    assert expected_503(path, headers, body) is expected


def test_routes_are_filled_and_links_harvested() -> None:
    route = Route("/timeline/{key}", ("key",), frozenset({"GET"}))
    assert fill(route.template, {"key": "de-berlin"}) == "/timeline/de-berlin"
    assert fill("/id/{path:path}", {"path": "city/x"}) == "/id/city/x"
    page = b'<a href="/doc/city/de-berlin">B</a><loc>https://w3id.org/citygraph/places</loc>'
    page += b'<a href="https://elsewhere.org/x">no</a><a href="/map?lang=de&amp;x=1">m</a>'
    assert harvest_links(page, "http://127.0.0.1:1/") == {
        "/doc/city/de-berlin",
        "/places",
        "/map?lang=de&x=1",
    }


def test_every_write_with_the_right_token_targets_a_fuzz_graph() -> None:
    generator = Generator(
        random.Random(11),
        routes=[Route("/sparql", (), frozenset({"GET", "POST"}))],
        links=[],
        token="t0ken",
        canary="http://127.0.0.1:9/c/1",
        bodies=rdf_bodies(),
    )
    authorised = [case for case in (generator.next() for _ in range(3000)) if case.authorised]
    assert len(authorised) > 20
    for case in authorised:
        assert ("Authorization", "Bearer t0ken") in case.headers
        if case.target.startswith("/store"):
            assert any(
                g.replace(":", "%3A").replace("/", "%2F") in case.target for g in FUZZ_GRAPHS
            )
    unauthorised = [c for c in (generator.next() for _ in range(3000)) if not c.authorised]
    assert all(("Authorization", "Bearer t0ken") not in c.headers for c in unauthorised)


def test_the_sweep_sends_every_route_every_method_and_odd_numbers() -> None:
    routes = [
        Route("/partnerships", (), frozenset({"GET", "HEAD"})),
        Route("/timeline/{key}", ("key",), frozenset({"GET", "HEAD"})),
        Route("/store", (), frozenset({"PUT", "POST", "DELETE"})),
    ]
    generator = Generator(
        random.Random(1), routes=routes, links=[], token="t", canary="c", bodies={}
    )
    cases = generator.sweep()
    for route in routes:
        prefix = route.template.split("{")[0]
        methods = {c.method for c in cases if c.target.split("?")[0].startswith(prefix)}
        assert methods == {*STANDARD_METHODS, "FOO1"}, route
    odd = [c.target for c in cases if "page=%C2%B2" in c.target]
    assert len(odd) == 2  # the two GET routes
    assert any("page=" + "9" * 5000 in c.target for c in cases)


def test_a_process_death_finding_carries_what_the_server_logged_about_it(tmp_path: Path) -> None:
    """The fuzzer's one crash could not be explained because its log was gone: a finding that
    names a query process now quotes the server's log lines about that process."""
    log = tmp_path / "logs-0" / "citygraph.log"
    log.parent.mkdir()
    log.write_text(
        "INFO other things\n"
        "ERROR query process 4242 died (exit status -6): thread 'x' panicked at sort.rs:1:\n"
        "user-provided comparison function does not correctly implement a total order\n"
        "ERROR query process 4243 died (exit status -9): (no message)\n",
        encoding="utf-8",
    )
    died = Finding("status-500", "the query process 4242 ended unexpectedly; …")
    other = Finding("status-500", "something else")
    explain_deaths([died, other], [log])
    assert "exit status -6" in died.detail
    assert "does not correctly implement a total order" in died.detail
    assert other.detail == "something else"
