"""What a query process answers (``citygraph.engine.query_process.execute``): every format within
the row and byte limits, exactly at the limit and one past it, the dataset, and the errors.

The function the query process runs for each job, called here on a real Oxigraph store (the
end-to-end tests of ``test_limits.py`` go through the server; these reach every format).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pyoxigraph as ox
import pytest

from citygraph.engine.jobs import DatasetJob, GraphJob, GraphNamesJob, QueryJob, Reply
from citygraph.engine.query_process import execute
from citygraph.engine.serialise import (
    CONVERT_BATCH,
    LimitExceededError,
    _CsvFromTsv,
    serialise_quads,
    serialise_solutions_via_tsv,
    serialise_triples,
)

EX = "http://example.org/"
G1, G2 = EX + "g1", EX + "g2"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
CG_CITY = ox.NamedNode("https://w3id.org/citygraph/ontology#City")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
BIG = 10_000_000

# Four labelled things in g1 and g2 (one label holds JSON's row separator, one a newline), a
# typed thing in the default graph.
LABELS = {"a": "plain", "b": 'tricky"},{"x', "c": "two\nlines", "d": "in g2"}
QUADS = [
    ox.Quad(
        ox.NamedNode(EX + key), LABEL, ox.Literal(value), ox.NamedNode(G2 if key == "d" else G1)
    )
    for key, value in LABELS.items()
] + [ox.Quad(ox.NamedNode(EX + "e"), RDF_TYPE, CG_CITY, ox.DefaultGraph())]

SELECT = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
CONSTRUCT = "CONSTRUCT WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
SOLUTIONS = ["JSON", "XML", "CSV", "TSV"]
GRAPHS = ["N_TRIPLES", "TURTLE", "RDF_XML", "JSON_LD", "N3"]


@pytest.fixture(scope="module")
def target() -> ox.Store:
    store = ox.Store()
    store.extend(QUADS)
    return store


def query(
    text: str,
    *,
    solutions: str | None = "JSON",
    graph: str | None = "N_TRIPLES",
    max_rows: int = BIG,
    max_bytes: int = BIG,
    union: bool = True,
    default: tuple[str, ...] | None = None,
    named: tuple[str, ...] | None = None,
) -> QueryJob:
    return QueryJob(text, EX, default, named, union, solutions, graph, max_rows, max_bytes)


def solutions_of(reply: Reply, fmt: str) -> list[dict[str, str]]:
    assert reply.error is None, reply.message
    if fmt == "CSV":  # lossy: pyoxigraph does not parse it
        return list(csv.DictReader(io.StringIO(reply.body.decode(), newline="")))
    parsed = ox.parse_query_results(reply.body, format=getattr(ox.QueryResultsFormat, fmt))
    assert isinstance(parsed, ox.QuerySolutions)
    return [{str(v.value): t.value for v in parsed.variables if (t := s[v]) is not None}
            for s in parsed]  # fmt: skip


def triples_of(reply: Reply, fmt: str) -> set[ox.Triple]:
    assert reply.error is None, reply.message
    return set(ox.parse(io.BytesIO(reply.body), format=getattr(ox.RdfFormat, fmt)))


def assert_refused(reply: Reply, what: str, limit: int) -> None:
    assert reply.error == what
    assert reply.body == b""
    unit = "rows or triples" if what == "rows" else "bytes"
    assert f"more than {limit:,} {unit}" in reply.message or f"larger than {limit:,} {unit}" in (
        reply.message
    )
    assert "LIMIT" in reply.message


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_solutions_up_to_the_row_limit_are_answered_and_counted(target: ox.Store, fmt: str) -> None:
    reply = execute(target, query(SELECT, solutions=fmt, max_rows=4))

    assert (reply.family, reply.format, reply.count) == ("solutions", fmt, 4)
    rows = solutions_of(reply, fmt)
    assert sorted(row["label"] for row in rows) == sorted(LABELS.values())


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_one_solution_past_the_row_limit_is_refused(target: ox.Store, fmt: str) -> None:
    assert_refused(execute(target, query(SELECT, solutions=fmt, max_rows=3)), "rows", 3)
    assert_refused(execute(target, query(SELECT, solutions=fmt, max_rows=0)), "rows", 0)


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_no_solutions_are_zero_rows(target: ox.Store, fmt: str) -> None:
    reply = execute(target, query("SELECT ?s WHERE { ?s ?p 42 }", solutions=fmt, max_rows=0))
    assert reply.count == 0
    assert solutions_of(reply, fmt) == []


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_an_answer_exactly_at_the_byte_limit_is_sent_one_byte_more_is_refused(
    target: ox.Store, fmt: str
) -> None:
    whole = execute(target, query(SELECT, solutions=fmt)).body

    at_limit = execute(target, query(SELECT, solutions=fmt, max_bytes=len(whole)))
    assert at_limit.body == whole
    over = execute(target, query(SELECT, solutions=fmt, max_bytes=len(whole) - 1))
    assert_refused(over, "bytes", len(whole) - 1)


@pytest.mark.parametrize("fmt", GRAPHS)
def test_triples_up_to_the_row_limit_are_answered_one_more_is_refused(
    target: ox.Store, fmt: str
) -> None:
    reply = execute(target, query(CONSTRUCT, graph=fmt, max_rows=4))
    assert (reply.family, reply.format, reply.count) == ("graph", fmt, 4)
    assert {t.object.value for t in triples_of(reply, fmt)} == set(LABELS.values())

    assert_refused(execute(target, query(CONSTRUCT, graph=fmt, max_rows=3)), "rows", 3)


@pytest.mark.parametrize("fmt", GRAPHS)
def test_a_graph_exactly_at_the_byte_limit_is_sent_one_byte_more_is_refused(
    target: ox.Store, fmt: str
) -> None:
    whole = execute(target, query(CONSTRUCT, graph=fmt)).body

    assert execute(target, query(CONSTRUCT, graph=fmt, max_bytes=len(whole))).body == whole
    over = execute(target, query(CONSTRUCT, graph=fmt, max_bytes=len(whole) - 1))
    assert_refused(over, "bytes", len(whole) - 1)


def test_turtle_declares_only_the_prefixes_it_uses(target: ox.Store) -> None:
    typed = execute(target, query("CONSTRUCT WHERE { ?s a ?type }", graph="TURTLE")).body
    assert b"@prefix cg: <https://w3id.org/citygraph/ontology#>" in typed
    labels = execute(target, query(CONSTRUCT, graph="TURTLE")).body
    assert b"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in labels
    assert b"@prefix cg:" not in labels
    assert b"@prefix" not in execute(target, query(CONSTRUCT, graph="N_TRIPLES")).body


ID = "https://w3id.org/citygraph/id/"
# Prefixes of equal length (37 characters: rdfs, region, source), declared by pyoxigraph in an
# order of its own; a literal that mentions other prefixes; an IRI no prefixed name can write.
MENTIONS = [
    ox.Triple(ox.NamedNode(ID + "region/r"), LABEL, ox.Literal('see cg:City, "owl:" and\ncgv:x')),
    ox.Triple(
        ox.NamedNode(ID + "region/r"), ox.NamedNode(EX + "from"), ox.NamedNode(ID + "source/s")
    ),
    ox.Triple(ox.NamedNode(EX + "x"), ox.NamedNode(EX + "t"), ox.NamedNode(ID + "city/a\u00d7b")),
]


@pytest.mark.parametrize("fmt", ["TURTLE", "TRIG"])
def test_prefixes_named_in_a_literal_are_not_declared(fmt: str) -> None:
    # Declared: exactly the prefixes an IRI is written with, as pyoxigraph writes them when
    # given only those (the bytes before the byte limit counted the body sent).
    used = {name: ID + name + "/" for name in ("region", "source")}
    used["rdfs"] = "http://www.w3.org/2000/01/rdf-schema#"
    if fmt == "TURTLE":
        body, count = serialise_triples(MENTIONS, fmt, 3, BIG)
        expected = ox.serialize(MENTIONS, format=ox.RdfFormat.TURTLE, prefixes=used)
    else:
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(G1)) for t in MENTIONS]
        body, count = serialise_quads(quads, fmt, 3, BIG)
        expected = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=used)
    assert count == 3
    assert body == expected
    declared = [line.split()[1] for line in body.splitlines() if line.startswith(b"@prefix")]
    assert sorted(declared) == [b"rdfs:", b"region:", b"source:"]


CG_PARTNER = ox.NamedNode("https://w3id.org/citygraph/ontology#partner")
A, B = ox.NamedNode(ID + "city/a"), ox.NamedNode(ID + "city/b")
MENTION = ox.Triple(A, LABEL, ox.Literal("not a name: cg:partner"))
USE = ox.Triple(A, CG_PARTNER, B)
#: A label long enough that what follows it is beyond the first 256 bytes of the body.
LONG = ox.Triple(B, LABEL, ox.Literal("x" * 300))


@pytest.mark.parametrize(
    "triples",
    [
        pytest.param([MENTION, USE], id="mentioned-then-used"),
        pytest.param([USE, MENTION], id="used-then-mentioned"),
        pytest.param([MENTION, USE, LONG, MENTION], id="mentioned-used-mentioned"),
        pytest.param([LONG, MENTION, USE], id="far-into-the-body"),
        pytest.param(
            [ox.Triple(A, LABEL, ox.Literal("a cg: 1", datatype=ox.NamedNode(CG_PARTNER.value)))],
            id="on-one-line-after-a-mention",
        ),
    ],
)
def test_a_prefix_used_by_an_iri_is_declared_wherever_a_literal_mentions_it(
    triples: list[ox.Triple],
) -> None:
    # "cg:" inside a literal is not a use, but it does not hide a use before or after it, on
    # the same line or further on: the body is what pyoxigraph writes when given exactly the
    # prefixes its IRIs are written with (else it would not even parse).
    used = {"city": ID + "city/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
    used["cg"] = "https://w3id.org/citygraph/ontology#"

    body, count = serialise_triples(triples, "TURTLE", BIG, BIG)

    assert body == ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used)
    assert count == len(triples)


@pytest.mark.parametrize("fmt", ["RDF_XML", "JSON_LD", "N3", "N_TRIPLES"])
def test_graph_formats_without_prefix_pruning_are_pyoxigraphs_own(
    target: ox.Store, fmt: str
) -> None:
    # Only Turtle and TriG are written with prefixes (then kept to those used): the other
    # formats are written as pyoxigraph writes them, declaring no namespace nobody asked for.
    triples = [MENTION, USE, *MENTIONS]

    body, count = serialise_triples(triples, fmt, BIG, BIG)

    assert body == ox.serialize(triples, format=getattr(ox.RdfFormat, fmt))
    assert count == len(triples)


@pytest.mark.parametrize("fmt", ["N_QUADS", "TRIG"])
def test_the_whole_dataset_within_the_limits(target: ox.Store, fmt: str) -> None:
    reply = execute(target, DatasetJob(fmt, max_rows=5, max_bytes=BIG))
    assert (reply.family, reply.format, reply.count) == ("graph", fmt, 5)
    dataset = ox.Dataset(ox.parse(io.BytesIO(reply.body), format=getattr(ox.RdfFormat, fmt)))
    assert set(dataset) == set(QUADS)

    # TriG declares the prefixes it uses, and only those
    assert (b"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in reply.body) == (
        fmt == "TRIG"
    )
    assert b"@prefix skos:" not in reply.body
    assert_refused(execute(target, DatasetJob(fmt, max_rows=4, max_bytes=BIG)), "rows", 4)
    over = execute(target, DatasetJob(fmt, max_rows=5, max_bytes=len(reply.body) - 1))
    assert_refused(over, "bytes", len(reply.body) - 1)
    exact = execute(target, DatasetJob(fmt, max_rows=5, max_bytes=len(reply.body)))
    assert exact.body == reply.body


def test_a_graph_read_of_one_graph_the_default_graph_or_a_missing_one(target: ox.Store) -> None:
    one = execute(target, GraphJob(G2, "N_TRIPLES", max_rows=1, max_bytes=BIG))
    assert {t.object.value for t in triples_of(one, "N_TRIPLES")} == {"in g2"}
    assert (one.family, one.format, one.count) == ("graph", "N_TRIPLES", 1)
    assert_refused(execute(target, GraphJob(G1, "TURTLE", max_rows=2, max_bytes=BIG)), "rows", 2)

    default = execute(target, GraphJob(None, "N_TRIPLES", max_rows=1, max_bytes=BIG))
    (typed,) = triples_of(default, "N_TRIPLES")
    assert (typed.subject, typed.predicate, typed.object) == (
        ox.NamedNode(EX + "e"),
        RDF_TYPE,
        CG_CITY,
    )

    missing = execute(target, GraphJob(EX + "nothing", "N_TRIPLES", max_rows=1, max_bytes=BIG))
    assert missing.error == "not_found"
    assert f"<{EX}nothing>" in missing.message


def test_the_named_graphs_are_listed(target: ox.Store) -> None:
    assert execute(target, GraphNamesJob()).graph_names == (G1, G2)


def test_the_dataset_of_a_query(target: ox.Store) -> None:
    def labels(job: QueryJob) -> set[str]:
        return {row["label"] for row in solutions_of(execute(target, job), "JSON")}

    assert labels(query(SELECT)) == set(LABELS.values())  # the union of the graphs
    assert labels(query(SELECT, union=False)) == set()  # the default graph alone
    assert labels(query(SELECT, default=(G2,))) == {"in g2"}
    assert labels(query(SELECT, default=(G1, G2))) == set(LABELS.values())
    in_named = "SELECT ?label WHERE { GRAPH ?g { ?s ?p ?label } }"
    assert labels(query(in_named, named=(G2,))) == {"in g2"}
    assert labels(query(in_named, default=(G1,))) == set()  # no named graph given
    # a relative IRI resolves against the base
    assert labels(query("SELECT ?label WHERE { <d> ?p ?label }", default=(G2,))) == {"in g2"}


def test_a_boolean_and_what_no_acceptable_format_carries(target: ox.Store) -> None:
    yes = execute(target, query("ASK { ?s ?p ?o }", solutions="XML"))
    assert (yes.family, yes.format, yes.error) == ("solutions", "XML", None)
    assert b"<boolean>true</boolean>" in yes.body

    for text in ("ASK {}", SELECT):
        refused = execute(target, query(text, solutions=None))
        assert (refused.error, refused.family, refused.body) == ("not_acceptable", "solutions", b"")
    refused = execute(target, query(CONSTRUCT, graph=None))
    assert (refused.error, refused.family, refused.body) == ("not_acceptable", "graph", b"")


def test_a_syntax_error_and_a_bad_argument_are_replies_not_exceptions(target: ox.Store) -> None:
    syntax = execute(target, query("SELECT * WHERE { ?s ?p }"))
    assert syntax.error == "syntax"
    assert "1:" in syntax.message  # where, as the parser says it

    bad_graph = execute(target, GraphJob("not an IRI", "N_TRIPLES", max_rows=1, max_bytes=BIG))
    assert bad_graph.error == "argument"
    assert "IRI" in bad_graph.message

    # an evaluation that fails (a SERVICE call that cannot be made) is a reply too
    failed = execute(target, query("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"))
    assert failed.error == "evaluation"
    assert "port 9" in failed.message


def test_triples_parsed_from_elsewhere_within_the_limits() -> None:
    # What a remote store's answer goes through (engine/remote.py): triples, not a query's.
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in QUADS]

    body, count = serialise_triples(triples, "TURTLE", 5, BIG)
    assert count == 5
    parsed = ox.parse(io.BytesIO(body), format=ox.RdfFormat.TURTLE)
    assert {ox.Triple(q.subject, q.predicate, q.object) for q in parsed} == set(triples)
    with pytest.raises(LimitExceededError) as caught:
        serialise_triples(triples, "N_TRIPLES", 4, BIG)
    assert caught.value.what == "rows"


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_solutions_are_counted_exactly_when_no_value_looks_like_a_row_separator(
    target: ox.Store, fmt: str
) -> None:
    # IRIs only: JSON's count of row separators is exact here, and no second run is needed
    text = "SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    for rows in (4, 1):
        reply = execute(target, query(text + f" LIMIT {rows}", solutions=fmt, max_rows=4))
        assert reply.count == rows
        assert len(solutions_of(reply, fmt)) == rows


@pytest.fixture(scope="module")
def large() -> ox.Store:
    """3000 labels: answers long enough to be written in many pieces."""
    store = ox.Store()
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}n{i}"), LABEL, ox.Literal(f"label {i}"), ox.NamedNode(G1))
        for i in range(3000)
    )
    return store


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_a_long_answer_is_counted_and_measured_over_all_its_pieces(
    large: ox.Store, fmt: str
) -> None:
    text = "SELECT ?s WHERE { ?s ?p ?o }"  # IRIs only: no value holds a separator
    whole = execute(large, query(text, solutions=fmt, max_rows=3000))
    assert whole.count == 3000
    assert len(solutions_of(whole, fmt)) == 3000
    assert_refused(execute(large, query(text, solutions=fmt, max_rows=2999)), "rows", 2999)
    size = len(whole.body)
    assert execute(large, query(text, solutions=fmt, max_bytes=size)).body == whole.body
    assert_refused(
        execute(large, query(text, solutions=fmt, max_bytes=size - 1)), "bytes", size - 1
    )


def sent_and_larger(target: ox.Store, job: QueryJob | DatasetJob, larger: str) -> bytes:
    """The body of ``job`` within no limit, after checking that its ``larger`` form (the one it
    is converted from or to) is larger: the premise of the limit tests below."""
    sent = execute(target, job)
    assert sent.error is None, sent.message
    if isinstance(job, DatasetJob):
        other = execute(target, DatasetJob(larger, max_rows=BIG, max_bytes=BIG))
    elif job.solutions_format:
        other = execute(target, query(job.query, solutions=larger))
    else:
        other = execute(target, query(job.query, graph=larger))
    assert len(other.body) > len(sent.body)
    return sent.body


@pytest.mark.parametrize(
    ("fmt", "larger"),
    [("CSV", "TSV"), ("TURTLE", "N_TRIPLES"), ("TRIG", "N_QUADS")],
)
def test_the_byte_limit_counts_the_form_that_is_sent(
    target: ox.Store, fmt: str, larger: str
) -> None:
    # CSV, Turtle and TriG are smaller than TSV, N-Triples and N-Quads (no <> around IRIs, no
    # quotes, prefixes): an answer exactly at the limit in the form sent is answered, though its
    # larger form is past it (docs/endpoint.md: the limit is on the serialised result).
    if fmt == "CSV":
        job: QueryJob | DatasetJob = query(SELECT, solutions="CSV")
    elif fmt == "TURTLE":
        job = query(CONSTRUCT, graph="TURTLE")
    else:
        job = DatasetJob("TRIG", max_rows=BIG, max_bytes=BIG)
    body = sent_and_larger(target, job, larger)

    limit = len(body)
    at_limit = execute(target, replace(job, max_bytes=limit))
    assert (at_limit.error, at_limit.body) == (None, body)
    assert_refused(execute(target, replace(job, max_bytes=limit - 1)), "bytes", limit - 1)
    if isinstance(job, DatasetJob):
        larger_job: QueryJob | DatasetJob = DatasetJob(larger, max_rows=BIG, max_bytes=limit)
    elif fmt == "CSV":
        larger_job = replace(job, solutions_format=larger, max_bytes=limit)
    else:
        larger_job = replace(job, graph_format=larger, max_bytes=limit)
    assert_refused(execute(target, larger_job), "bytes", limit)


@pytest.mark.parametrize("fmt", SOLUTIONS)
def test_solutions_by_way_of_tsv_are_in_the_format_asked_for(target: ox.Store, fmt: str) -> None:
    # The path of a remote store's answers (engine/remote_answers.py) and of a JSON answer
    # recounted: counted as TSV, sent as asked, the bytes pyoxigraph writes in that format.
    def solutions() -> ox.QuerySolutions:
        result = target.query(SELECT + " ORDER BY ?s", use_default_graph_as_union=True)
        assert isinstance(result, ox.QuerySolutions)
        return result

    body, count = serialise_solutions_via_tsv(solutions(), query(SELECT, solutions=fmt))

    assert body == solutions().serialize(format=getattr(ox.QueryResultsFormat, fmt))
    assert count == len(LABELS)


@pytest.fixture(scope="module")
def many() -> ox.Store:
    """30,000 labelled things and one label on two lines: a TSV of about 1.3 MB."""
    store = ox.Store()
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}n{i}"), LABEL, ox.Literal(f"label, {i}"), ox.NamedNode(G1))
        for i in range(30_000)
    )
    store.add(
        ox.Quad(ox.NamedNode(EX + "multi"), LABEL, ox.Literal("two\r\nlines"), ox.NamedNode(G1))
    )
    return store


def test_csv_converted_as_it_streams_is_pyoxigraphs_csv_within_exact_limits(
    many: ox.Store,
) -> None:
    # The TSV arrives in many pieces and is converted to CSV in batches: the answer is the CSV
    # pyoxigraph writes in one go, rows are counted exactly (one value spans two lines) and the
    # byte limit is the CSV's, also when it is passed in the middle of the stream.
    text = "SELECT ?s ?label WHERE { ?s ?p ?label } ORDER BY ?s"
    solutions = many.query(text, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    expected = solutions.serialize(format=ox.QueryResultsFormat.CSV)
    assert expected is not None
    assert len(expected) > 3 * CONVERT_BATCH

    whole = execute(many, query(text, solutions="CSV", max_rows=30_001, max_bytes=len(expected)))
    assert (whole.error, whole.count) == (None, 30_001)
    assert whole.body == expected
    assert_refused(execute(many, query(text, solutions="CSV", max_rows=30_000)), "rows", 30_000)
    assert_refused(
        execute(many, query(text, solutions="CSV", max_bytes=len(expected) - 1)),
        "bytes",
        len(expected) - 1,
    )
    assert_refused(
        execute(many, query(text, solutions="CSV", max_bytes=CONVERT_BATCH)), "bytes", CONVERT_BATCH
    )


def test_csv_is_converted_right_wherever_the_tsv_stream_is_cut(many: ox.Store) -> None:
    # pyoxigraph happens to hand over whole lines; a stream cut inside a line (here every 8,191
    # bytes) must give the same CSV: only whole lines are converted in each batch.
    text = "SELECT ?s ?label WHERE { ?s ?p ?label } ORDER BY ?s"
    solutions = many.query(text, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    tsv = solutions.serialize(format=ox.QueryResultsFormat.TSV)
    assert tsv is not None
    csv_body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(
        format=ox.QueryResultsFormat.CSV
    )
    converter = _CsvFromTsv(BIG, BIG)

    for start in range(0, len(tsv), 8_191):
        converter.write(tsv[start : start + 8_191])

    assert converter.finish() == csv_body
