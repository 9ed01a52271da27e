"""The benchmark's own pieces: the generator is deterministic, sized and model-shaped; the mix
parses and runs. Small and fast: the graphs here have a few thousand triples."""

from __future__ import annotations

import io
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

# `bench/` is a top-level package of the repository, not part of the installed citygraph.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import generate
from bench.queries import QUERY_DIR, bind, load_queries, parse_query_file

from citygraph.build import derive
from citygraph.namespaces import CG, GRAPH_WORLDWIDE

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SIZE = 8_000


def _generate(triples: int = SIZE, seed: int = 7) -> tuple[str, generate.Dataset]:
    stream = io.StringIO()
    dataset = generate.generate(stream, triples, seed=seed)
    return stream.getvalue(), dataset


def _store(text: str) -> ox.Store:
    """The generated data in graph:worldwide, with the build's derivations, like a built store."""
    store = ox.Store()
    graph = ox.NamedNode(GRAPH_WORLDWIDE)
    store.bulk_extend(
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)
    )
    derive(store)
    return store


def _select(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def test_same_seed_same_bytes() -> None:
    first, _ = _generate()
    second, _ = _generate()
    assert first == second
    other, _ = _generate(seed=8)
    assert other != first


def test_write_dataset_is_stable(tmp_path: Path) -> None:
    one = generate.write_dataset(tmp_path / "a", 3_000, seed=1)
    two = generate.write_dataset(tmp_path / "b", 3_000, seed=1)
    assert one.digest == two.digest
    assert (tmp_path / "a" / "data.nt").read_bytes() == (tmp_path / "b" / "data.nt").read_bytes()
    assert generate.load_params(tmp_path / "a")["triples"] == one.triples


@pytest.mark.parametrize("triples", [2_000, 10_000, 40_000], ids=["2k", "10k", "40k"])
def test_requested_size_within_a_few_percent(triples: int) -> None:
    text, dataset = _generate(triples)
    lines = text.count("\n")
    assert lines == dataset.triples
    assert abs(lines - triples) / triples < 0.03
    # about three partnerships per city, as in the reference figures
    assert 2.0 < dataset.partnerships / dataset.cities < 4.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100k", 100_000), ("1M", 1_000_000), ("10M", 10_000_000), ("2500", 2_500)],
    ids=["100k", "1M", "10M", "plain"],
)
def test_parse_size(text: str, expected: int) -> None:
    assert generate.parse_size(text) == expected
    assert generate.parse_size(generate.size_label(expected)) == expected


def test_generated_graph_follows_the_model() -> None:
    text, dataset = _generate()
    store = _store(text)
    prolog = f"PREFIX cg: <{CG}>\n"
    bad_partners = _select(
        store,
        prolog
        + """SELECT ?p (COUNT(DISTINCT ?x) AS ?n) WHERE { ?p a cg:Partnership .
             OPTIONAL { ?p cg:partner ?x } } GROUP BY ?p HAVING (COUNT(DISTINCT ?x) != 2)""",
    )
    assert bad_partners == []
    partnerships = _select(store, prolog + "SELECT ?p WHERE { ?p a cg:Partnership }")
    assert len(partnerships) == dataset.partnerships
    not_cities = _select(
        store,
        prolog + "SELECT ?x WHERE { ?p cg:partner ?x FILTER NOT EXISTS { ?x a cg:City } }",
    )
    assert not_cities == []
    # Every city: labels in de, en and zh-Hans, one country, coordinates, a source.
    incomplete = _select(
        store,
        prolog
        + """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX schema: <https://schema.org/>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?c WHERE { ?c a cg:City .
          FILTER NOT EXISTS {
            ?c rdfs:label ?de, ?en, ?zh ; cg:country ?k ; schema:latitude ?lat ;
               schema:longitude ?lon ; prov:wasDerivedFrom ?s .
            FILTER (lang(?de) = "de" && lang(?en) = "en" && langMatches(lang(?zh), "zh-Hans"))
          } }""",
    )
    assert incomplete == []
    # Start dates come in all three precisions.
    datatypes = Counter(
        row["dt"].value
        for row in _select(
            store,
            prolog + "SELECT (DATATYPE(?d) AS ?dt) WHERE { ?p a cg:Partnership ; cg:startDate ?d }",
        )
        if isinstance(row["dt"], ox.NamedNode)
    )
    assert set(datatypes) == {XSD + "date", XSD + "gYearMonth", XSD + "gYear"}
    # The file has no cg:twinnedWith: the build derives it, both directions.
    assert f"<{CG}twinnedWith>" not in text
    twinned = _select(store, prolog + "SELECT * WHERE { ?a cg:twinnedWith ?b }")
    assert len(twinned) == 2 * dataset.partnerships


def test_partnership_iri_is_made_of_the_sorted_partner_keys() -> None:
    text, _ = _generate(3_000)
    store = _store(text)
    city = "https://w3id.org/citygraph/id/city/"
    rows = _select(
        store,
        f"PREFIX cg: <{CG}> SELECT * WHERE {{ ?p cg:partner ?a, ?b FILTER(STR(?a) < STR(?b)) }}",
    )
    assert rows
    for row in rows:
        keys = sorted(str(row[v].value).removeprefix(city) for v in ("a", "b"))
        assert str(row["p"].value).endswith("/" + "--".join(keys))


def test_query_files_parse_without_parameters() -> None:
    files = sorted(QUERY_DIR.glob("*.rq"))
    assert len(files) >= 8
    store = ox.Store()
    for path in files:
        query = parse_query_file(path)
        assert query.summary, f"{path.name} has no #+ summary"
        store.query(query.text)  # raises SyntaxError if it does not parse


def test_every_query_variant_parses_and_answers() -> None:
    text, dataset = _generate(20_000)
    store = _store(text)
    queries = load_queries(dataset.params)
    assert {q.name for q in queries} >= {
        "describe_city",
        "city_partners",
        "partners_of_partners",
        "label_search",
        "themes",
        "date_range",
        "partnership_construct",
        "export_10k",
    }
    for query in queries:
        assert query.variants, f"{query.name}: its pool {query.pool} is empty"
        answered = 0
        for variant in query.variants:
            result = store.query(variant, use_default_graph_as_union=True)
            answered += len(list(result))  # type: ignore[arg-type]
        assert answered > 0, f"{query.name} never returns anything on generated data"


def test_bind_replaces_only_placeholders() -> None:
    text = "SELECT ?_x ?y WHERE { ?_x ?p ?_xy }"
    assert bind(text, {"x": "<a>", "xy": "<b>"}) == "SELECT <a> ?y WHERE { <a> ?p <b> }"
    with pytest.raises(KeyError):
        bind(text, {"x": "<a>"})


# -- python -m bench backends (issue 11 §4) ---------------------------------------------------


def test_backends_arguments() -> None:
    from bench.__main__ import backends_run, parser
    from bench.backends import BACKENDS, CACHE_OFF

    default = backends_run(parser().parse_args(["backends"]))
    assert default.backends == BACKENDS
    assert default.config.triples == 100_000
    assert default.config.concurrency == (1, 8)
    # The layer is measured without citygraph's response cache unless asked for.
    assert CACHE_OFF in default.config.env
    chosen = backends_run(
        parser().parse_args(
            ["backends", "--backend", "virtuoso,embedded", "--cache", "--triples", "1M"]
        )
    )
    assert chosen.backends == ("virtuoso", "embedded")
    assert CACHE_OFF not in chosen.config.env
    assert chosen.config.triples == 1_000_000


def test_backends_unknown_backend_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["backends", "--backend", "embedded,fuseki"])
    assert stopped.value.code == 2
    assert "unknown backend fuseki" in capsys.readouterr().err


def test_aggregation_queries_parse_and_answer() -> None:
    from bench.backends import AGGREGATIONS

    text, dataset = _generate(20_000)
    store = _store(text)
    heavy = load_queries(dataset.params, directory=AGGREGATIONS)
    assert len(heavy) >= 3
    for query in heavy:
        assert query.summary
        assert "GROUP BY" in query.text
        assert len(_select(store, query.variants[0])) > 1, query.name
    # Not part of the default mix: `make bench` is unchanged.
    assert not {q.name for q in heavy} & {q.name for q in load_queries(dataset.params)}


def test_backends_tiny_run_reports_the_ratio_per_backend(tmp_path: Path) -> None:
    """A real run: citygraph on the embedded store and on `oxigraph serve`, each against the
    store queried directly, one query, one short measurement; the report lands in the docs."""
    import dataclasses
    import json

    from bench.__main__ import backends_run, parser
    from bench.backends import rerender_backends, run_backends

    args = parser().parse_args(
        [
            *("backends", "--triples", "3000", "--backend", "embedded,oxigraph"),
            *("--query", "city_partners", "--query", "themes_all", "--concurrency", "1"),
            *("--duration", "1", "--runs", "1", "--warmup", "0", "--python-client"),
            *("--workers", "1"),
        ]
    )
    run = backends_run(args)
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nBy hand.\n", encoding="utf-8")
    # No waiting for a quiet machine: this test checks the plumbing, not the figures.
    config = dataclasses.replace(run.config, docs=docs, quiet_budget=0.0)
    run = dataclasses.replace(run, config=config)
    results = run_backends(run)

    data = json.loads(results.read_text(encoding="utf-8"))
    measured = {(m["query"], m["server"]) for m in data["measurements"] if m["requests"] > 0}
    servers = {"oxigraph", "citygraph", "oxigraph-serve", "citygraph-oxigraph"}
    for query in ("city_partners", "themes_all"):
        assert {(query, s) for s in servers} <= measured
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nBy hand.\n")  # the hand-written part is kept
    assert "<!-- bench:backends, 3k:start -->" in text
    assert "load average" in text
    rows = [line for line in text.splitlines() if line.startswith("| `city_partners` | 1 |")]
    assert {row.split(" | ")[2] for row in rows} == {"embedded", "oxigraph"}
    # The saved run renders again to the same tables.
    assert rerender_backends(results) in text


def test_floor_server_answers_a_fixed_body_of_the_asked_size(tmp_path: Path) -> None:
    """bench/floor.py: citygraph's server stack answering N bytes, typed as asked."""
    import urllib.parse

    from bench import driver, run, servers

    directory = run.ensure_data(3000, generate.DEFAULT_SEED)
    cg_root, _ = servers.prepare_stores(directory, log=tmp_path / "load.log")
    spec = servers.floor_spec(cg_root, workers=1, env={})
    with servers.running([spec], tmp_path) as (floor,):
        path = "/floor?" + urllib.parse.urlencode({"query": "2434"})
        status, body = driver.fetch(floor.base, path, "application/n-triples")
        empty_status, empty = driver.fetch(floor.base, "/floor?query=ASK", "text/plain")
        status_sparql, _ = driver.fetch(floor.base, "/sparql?query=ASK%7B%7D", "text/csv")
    assert (status, len(body)) == (200, 2434)
    assert (empty_status, empty) == (200, b"")
    assert status_sparql == 200  # it is citygraph's app, with its endpoint


def test_tiny_run_measures_the_floor_beside_both_servers(tmp_path: Path) -> None:
    """A real run (one query, one short measurement): the floor is measured in the same run with
    the body sizes citygraph answered, and the report has its columns and issue 10's line."""
    import json

    from bench.run import RunConfig, run

    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nBy hand.\n", encoding="utf-8")
    config = RunConfig(
        triples=3000,
        concurrency=(1,),
        duration=1.0,
        runs=1,
        warmup=0.0,
        workers=1,
        queries=("describe_city",),
        use_wrk=False,
        quiet_budget=0.0,
        docs=docs,
        label="tiny floor",
    )
    results = run(config)
    data = json.loads(results.read_text(encoding="utf-8"))
    measured = {(m["query"], m["server"]) for m in data["measurements"] if m["requests"] > 0}
    for query in ("describe_city", "whole mix"):
        assert {(query, s) for s in ("oxigraph", "citygraph", "floor")} <= measured
    text = docs.read_text(encoding="utf-8")
    assert "| floor req/s | citygraph / floor |" in text
    assert "Per query at c=1 (issue 10 §3): lowest throughput ratio" in text
    assert "(`describe_city`)" in text


def test_stacks_arguments() -> None:
    from bench.__main__ import parser, stacks_run
    from bench.backends import CACHE_OFF
    from bench.stack_server import DEFAULT_STACKS

    default = stacks_run(parser().parse_args(["stacks"]))
    assert default.stacks == DEFAULT_STACKS == ("granian", "httptools")
    assert default.config.triples == 1_000_000
    # The request path is measured without citygraph's response cache unless asked for.
    assert CACHE_OFF in default.config.env
    chosen = stacks_run(parser().parse_args(["stacks", "--stack", "granian", "--cache"]))
    assert chosen.stacks == ("granian",)
    assert CACHE_OFF not in chosen.config.env


def test_stacks_unknown_stack_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["stacks", "--stack", "granian,hypercorn"])
    assert stopped.value.code == 2
    assert "unknown stack hypercorn" in capsys.readouterr().err


def test_stacks_tiny_run_measures_floor_and_citygraph_on_granian(tmp_path: Path) -> None:
    """A real run (one query, one short measurement): Oxigraph, the floor and citygraph on
    uvicorn+h11 and on granian, each answering (citygraph's answers validated against
    Oxigraph's); the report lands in the docs with a ratio per stack."""
    import dataclasses
    import json

    from bench.__main__ import parser, stacks_run
    from bench.stacks import rerender_stacks, run_stacks

    args = parser().parse_args(
        [
            *("stacks", "--triples", "3000", "--stack", "granian", "--query", "describe_city"),
            *("--concurrency", "1", "--duration", "1", "--runs", "1", "--warmup", "0"),
            *("--python-client", "--workers", "1"),
        ]
    )
    run = stacks_run(args)
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nBy hand.\n", encoding="utf-8")
    # No waiting for a quiet machine: this test checks the plumbing, not the figures.
    config = dataclasses.replace(run.config, docs=docs, quiet_budget=0.0)
    results = run_stacks(dataclasses.replace(run, config=config))

    data = json.loads(results.read_text(encoding="utf-8"))
    servers = {"oxigraph", "floor", "floor-granian", "citygraph", "citygraph-granian"}
    measured = {m["server"] for m in data["measurements"] if m["requests"] > 0}
    assert measured == servers
    (check,) = data["validations"]
    assert set(check["statuses"]) == {"oxigraph", "citygraph", "citygraph-granian"}
    assert {s for codes in check["statuses"].values() for s in codes} == {200}
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nBy hand.\n")
    assert "<!-- bench:stacks, 3k, cache off:start -->" in text
    assert "- floor on granian / on h11 at c=1: `describe_city` " in text
    assert "- citygraph on granian: per query at c=1 (issue 10 §3)" in text
    # The saved run renders again to the same tables.
    assert rerender_stacks(results) in text


def test_derived_queries_answer_as_the_queries_that_recompute_per_row() -> None:
    """The date range and the label search read what the build derives (cg:startYear,
    cg:searchKey); on the generated data they find what the per-row forms they replaced find:
    the year sliced out of every date, every label lower-cased (no accents in these names)."""
    text, dataset = _generate(20_000)
    store = _store(text)
    by_name = {q.name: q for q in load_queries(dataset.params)}
    per_row = {
        "date_range": f"""PREFIX cg: <{CG}>
            PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
            SELECT ?partnership ?start WHERE {{
              ?partnership a cg:Partnership ; cg:startDate ?start .
              BIND (xsd:integer(SUBSTR(STR(?start), 1, 4)) AS ?year)
              FILTER (?year >= ?_from && ?year <= ?_to) }}""",
        "label_search": f"""PREFIX cg: <{CG}>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            SELECT DISTINCT ?place WHERE {{
              ?place a cg:City ; rdfs:label|skos:altLabel ?label .
              FILTER (CONTAINS(LCASE(STR(?label)), ?_term)) }}""",
    }
    # every place of the generated data is a city
    column = {"date_range": ("partnership", "start"), "label_search": ("place",)}
    for name, reference in per_row.items():
        query = by_name[name]
        pool = dataset.params[query.pool or ""]
        compared = 0
        for values, variant in zip(pool, query.variants, strict=True):
            derived = {tuple(row[v] for v in column[name]) for row in _select(store, variant)}
            expected = {
                tuple(row[v] for v in column[name])
                for row in _select(store, bind(reference, values))
            }
            assert derived == expected, (name, values)
            compared += len(expected)
        assert compared > 0, name
