"""What the endpoint reads before evaluating: form, dataset clause, SERVICE, LOAD."""

from __future__ import annotations

import random

import pytest

from citygraph.web.sparql_text import (
    Token,
    add_using,
    analyse,
    decode_escapes,
    tokenize,
    tokenize_sparse,
)

BASE = "https://w3id.org/citygraph/"
E = "http://e/"
OPS = frozenset("{}()[]|&+-*/!^=<>")


@pytest.mark.parametrize(
    ("text", "form", "is_update"),
    [
        pytest.param("SELECT * {}", "SELECT", False, id="select"),
        pytest.param(
            "prefix a: <http://a/> base <http://b/> ask {}", "ASK", False, id="prolog-ask"
        ),
        pytest.param("# SELECT\nCONSTRUCT WHERE {}", "CONSTRUCT", False, id="comment-first"),
        pytest.param("DESCRIBE <x>", "DESCRIBE", False, id="describe"),
        pytest.param(
            "PREFIX select: <http://s/> INSERT DATA {}", "INSERT", True, id="prefix-named-select"
        ),
        pytest.param("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH", True, id="with"),
        pytest.param("nonsense", None, False, id="unknown"),
    ],
)
def test_form(text: str, form: str | None, is_update: bool) -> None:
    analysis = analyse(text, base_iri=BASE)
    assert (analysis.form, analysis.is_update) == (form, is_update)


@pytest.mark.parametrize(
    ("text", "services"),
    [
        pytest.param("SELECT * { SERVICE <http://e/sparql> {} }", ("http://e/sparql",), id="iri"),
        pytest.param(
            "SELECT * { service silent <http://e/> {} }", ("http://e/",), id="silent-lower"
        ),
        pytest.param(
            "PREFIX e: <http://e/> SELECT * { SERVICE e:sparql {} }",
            ("http://e/sparql",),
            id="pname",
        ),
        pytest.param("SELECT * { SERVICE ?x {} }", (None,), id="variable"),
        pytest.param("SELECT * { SERVICE <sparql> {} }", (BASE + "sparql",), id="relative"),
        pytest.param(
            "BASE <http://o/> SELECT * { SERVICE <sparql> {} }", ("http://o/sparql",), id="base"
        ),
        pytest.param(
            "SELECT * { \\u0053ERVICE <http://e/> {} }", ("http://e/",), id="codepoint-escape"
        ),
        pytest.param(
            "SELECT * { SERV\\u0049CE <http://e/> {} }", ("http://e/",), id="escape-inside"
        ),
        pytest.param("SELECT * { ?s ?p 'SERVICE <http://e/>' }", (), id="in-string"),
        pytest.param('SELECT * { ?s ?p """a\nSERVICE""" }', (), id="in-long-string"),
        pytest.param("SELECT * { # SERVICE <http://e/>\n ?s ?p ?o }", (), id="in-comment"),
        pytest.param("SELECT * { ?s <http://x/SERVICE> ?o }", (), id="in-iri"),
        pytest.param("PREFIX ex: <http://x/> SELECT * { ?s ex:SERVICE ?o }", (), id="local-name"),
        pytest.param("SELECT ?SERVICE { ?SERVICE ?p ?o }", (), id="variable-name"),
        pytest.param('SELECT * { ?s ?p "x"@service }', (), id="language-tag"),
        pytest.param("SELECT * { SERVICE }", (None,), id="dangling"),
    ],
)
def test_services(text: str, services: tuple[str | None, ...]) -> None:
    assert analyse(text, base_iri=BASE).services == services


@pytest.mark.parametrize(
    ("text", "dataset", "load"),
    [
        pytest.param("SELECT * FROM <g> {}", True, False, id="from"),
        pytest.param("SELECT * FROM NAMED <g> {}", True, False, id="from-named"),
        pytest.param("SELECT * { ?s <http://x/FROM> ?o }", False, False, id="from-in-iri"),
        pytest.param("LOAD <http://e/data.ttl>", False, True, id="load"),
        pytest.param("INSERT DATA { <a> <b> 'LOAD' }", False, False, id="load-in-string"),
        pytest.param("DELETE {} USING <g> WHERE {}", True, False, id="using"),
    ],
)
def test_dataset_clause_and_load(text: str, dataset: bool, load: bool) -> None:
    analysis = analyse(text, base_iri=BASE)
    assert (analysis.has_dataset_clause, analysis.has_load) == (dataset, load)


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        pytest.param(
            "INSERT { ?s a <c> } WHERE { ?s ?p ?o }",
            "INSERT { ?s a <c> } USING <http://g> USING NAMED <http://n> WHERE { ?s ?p ?o }",
            id="insert-where",
        ),
        pytest.param(
            "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }; "
            "INSERT DATA { <a> <b> <c> }",
            "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } USING <http://g> USING NAMED <http://n> "
            "WHERE { ?s ?p ?o }; INSERT DATA { <a> <b> <c> }",
            id="modify-then-data",
        ),
        pytest.param(
            "DELETE WHERE { ?s ?p ?o }", "DELETE WHERE { ?s ?p ?o }", id="delete-where-untouched"
        ),
        pytest.param(
            "INSERT { ?s <p> 'WHERE' } WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p ?o } }",
            "INSERT { ?s <p> 'WHERE' } USING <http://g> USING NAMED <http://n> "
            "WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p ?o } }",
            id="nested",
        ),
        pytest.param(
            "INSERT { ?s a <c> } WHERE { { SELECT ?s WHERE { ?s ?p ?o } } }",
            "INSERT { ?s a <c> } USING <http://g> USING NAMED <http://n> "
            "WHERE { { SELECT ?s WHERE { ?s ?p ?o } } }",
            id="subquery",
        ),
        pytest.param(
            "INSERT { GRAPH <g> { ?s a <c> } } WHERE { ?s ?p ?o }",
            "INSERT { GRAPH <g> { ?s a <c> } } USING <http://g> USING NAMED <http://n> "
            "WHERE { ?s ?p ?o }",
            id="graph-in-template",
        ),
        pytest.param(
            "delete # the shorthand\n where { ?s ?p ?o }",
            "delete # the shorthand\n where { ?s ?p ?o }",
            id="delete-where-lower-case-and-comment",
        ),
        pytest.param(
            "DELETE DATA { <a> <b> <c> } ; DELETE WHERE { ?s ?p ?o } ; "
            "INSERT { ?s a <c> } where { ?s ?p ?o }",
            "DELETE DATA { <a> <b> <c> } ; DELETE WHERE { ?s ?p ?o } ; "
            "INSERT { ?s a <c> } USING <http://g> USING NAMED <http://n> where { ?s ?p ?o }",
            id="data-then-shorthand-then-modify",
        ),
    ],
)
def test_add_using(update: str, expected: str) -> None:
    assert add_using(update, ["http://g"], ["http://n"]) == expected


@pytest.mark.parametrize(
    ("text", "services", "dataset", "load"),
    [
        # issue 9 §1: SPARQL ends a comment at CR as well as LF
        pytest.param("SELECT * { #x\rSERVICE <http://e/> {} }", (E,), False, False, id="cr"),
        pytest.param("SELECT * { #x\r\nSERVICE <http://e/> {} }", (E,), False, False, id="crlf"),
        pytest.param("SELECT * #x\rFROM <g> {}", (), True, False, id="cr-from"),
        pytest.param("INSERT DATA {} ; #x\rLOAD <http://e/x>", (), False, True, id="cr-load"),
        # pyoxigraph does not decode escapes, the grammar does: either reading's SERVICE counts
        pytest.param(
            'SELECT * { #\\u000A"""\nSERVICE <http://e/> {} ?s ?p """x""" }',
            (E,),
            False,
            False,
            id="escape-opens-a-string-in-one-reading",
        ),
        pytest.param("SELECT * #\\u000AFROM <g>\n{}", (), False, False, id="escaped-lf-from"),
    ],
)
def test_comments_end_where_the_engine_ends_them(
    text: str, services: tuple[str, ...], dataset: bool, load: bool
) -> None:
    analysis = analyse(text, base_iri=BASE)
    assert (analysis.services, analysis.has_dataset_clause, analysis.has_load) == (
        services,
        dataset,
        load,
    )


PIECES = [
    "SELECT", "UNION", "DATA", "{", "}", "(", ")", "[", "]", "|", "&", "+", "-", "*", "/", "!",
    "^", "=", "<", ">", "<http://x/a-b>", "?v", "$w", "ex:a-b", "ex:\\'x", ":", "@en-GB", "'s'",
    '"t"', '"""l\n{"""', "'''m(\r'''", "#c{\n", "#c(\r", "\\", '"', "'", "1.5e-3", ";", ",",
    ".", " ", "\n", "\r", "\t", "_:b", "a",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(20))
def test_sparse_tokens_keep_every_word_bracket_and_operator(seed: int) -> None:
    """tokenize_sparse (the nesting gate's fast walk) must yield exactly the words and the
    bracket/operator characters that tokenize yields, at the same offsets."""
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(400))

    def significant(tokens: list[Token]) -> list[Token]:
        return [t for t in tokens if t.kind == "word" or (t.kind == "other" and t.text in OPS)]

    assert significant(list(tokenize_sparse(text))) == significant(list(tokenize(text)))


# -- found by mutation testing (docs/testing.md): cases no test above told apart -------------


@pytest.mark.parametrize(
    ("escaped", "decoded"),
    [
        pytest.param("\\U00000053", "S", id="long-escape-alone"),
        pytest.param("a\\u0053\\U00000045b", "aSEb", id="short-and-long"),
        pytest.param("\\U0010FFFF", "\U0010ffff", id="highest-codepoint"),
        pytest.param("\\U00110000", "\\U00110000", id="beyond-unicode-kept"),
        pytest.param("\\UFFFFFFFF x", "\\UFFFFFFFF x", id="far-beyond-unicode-kept"),
    ],
)
def test_decode_escapes(escaped: str, decoded: str) -> None:
    assert decode_escapes(escaped) == decoded


@pytest.mark.parametrize(
    ("text", "form", "is_update", "services", "load"),
    [
        # only the long form of the escape: still decoded, the SERVICE is seen
        pytest.param(
            "SELECT * { \\U00000053ERVICE <http://e/> {} }",
            "SELECT",
            False,
            (E,),
            False,
            id="long-escape-service",
        ),
        pytest.param(
            "SELECT * { SERV\\u0049CE <sparql> {} }",
            "SELECT",
            False,
            (BASE + "sparql",),
            False,
            id="escaped-service-relative-iri",
        ),
        # the form only the decoding reading finds
        pytest.param("\\u0053ELECT * {}", "SELECT", False, (), False, id="escaped-form"),
        pytest.param("\\u0049NSERT DATA {}", "INSERT", True, (), False, id="escaped-update"),
        pytest.param(
            "INSERT DATA { <a> <b> '\\u0041' }", "INSERT", True, (), False, id="update-with-escape"
        ),
        pytest.param("\\u004COAD <http://e/x>", "LOAD", True, (), True, id="escaped-load"),
    ],
)
def test_escapes_keep_form_update_service_and_load(
    text: str, form: str, is_update: bool, services: tuple[str, ...], load: bool
) -> None:
    analysis = analyse(text, base_iri=BASE)
    assert (analysis.form, analysis.is_update, analysis.services, analysis.has_load) == (
        form,
        is_update,
        services,
        load,
    )


@pytest.mark.parametrize(
    ("text", "services"),
    [
        pytest.param(
            "BASE <sub/> SELECT * { SERVICE <sparql> {} }",
            (BASE + "sub/sparql",),
            id="relative-base",
        ),
        pytest.param(
            "BASE <http://o/a/> SELECT * { SERVICE <sparql> {} }",
            ("http://o/a/sparql",),
            id="base-with-path",
        ),
        pytest.param(
            "PREFIX geo: <http://e/> SELECT * { SERVICE geo:sparql {} }",
            (E + "sparql",),
            id="long-prefix",
        ),
        pytest.param(
            "PREFIX e: <rel/> SELECT * { SERVICE e:sparql {} }",
            (BASE + "rel/sparql",),
            id="relative-prefix-iri",
        ),
        pytest.param(
            "PREFIX e: <http://e/> SELECT * { ?s e: <http://x/> . SERVICE e:sparql {} }",
            (E + "sparql",),
            id="pname-then-iri-is-no-prefix",
        ),
        pytest.param(
            "PREFIX e: ?x SELECT * { SERVICE e:sparql {} }", (None,), id="prefix-without-iri"
        ),
        pytest.param(
            "PREFIX e: <http://e/> SELECT * { SERVICE e:a:b {} }",
            (E + "a:b",),
            id="colon-in-local-name",
        ),
        pytest.param("SELECT * { SERVICE x:sparql {} }", (None,), id="undeclared-prefix"),
        pytest.param(
            "PREFIX e: <http://e/> SELECT * { SERVICE e:a\\-b {} }",
            (None,),
            id="escaped-local-name",
        ),
        pytest.param(
            "PREFIX e: <http://e/> SELECT * { SERVICE e:a%20b {} }",
            (None,),
            id="percent-in-local-name",
        ),
        pytest.param("SELECT * { SERVICE", (None,), id="ends-after-service"),
        pytest.param("SELECT * { SERVICE SILENT", (None,), id="ends-after-silent"),
    ],
)
def test_service_endpoints_resolve_as_the_engine_would(
    text: str, services: tuple[str | None, ...]
) -> None:
    assert analyse(text, base_iri=BASE).services == services


def test_a_prolog_cut_short_is_no_error() -> None:
    assert analyse("PREFIX e:", base_iri=BASE).form is None


def test_with_is_a_dataset_clause() -> None:
    text = "WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert analyse(text, base_iri=BASE).has_dataset_clause


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        pytest.param(
            "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
            "DELETE { ?s ?p ?o } USING <http://g> USING <http://h> USING NAMED <http://n> "
            "USING NAMED <http://m> WHERE { ?s ?p ?o }",
            id="delete-only",
        ),
        pytest.param(
            "INSERT { ?s <p> 1 ; <q> 2 } WHERE { ?s ?p ?o }",
            "INSERT { ?s <p> 1 ; <q> 2 } USING <http://g> USING <http://h> "
            "USING NAMED <http://n> USING NAMED <http://m> WHERE { ?s ?p ?o }",
            id="semicolon-in-template",
        ),
        pytest.param(
            "INSERT { ?s <p> 1 } WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p ?o } } ; "
            "INSERT { ?s <q> 1 } WHERE { ?s ?p ?o }",
            "INSERT { ?s <p> 1 } USING <http://g> USING <http://h> USING NAMED <http://n> "
            "USING NAMED <http://m> WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p ?o } } ; "
            "INSERT { ?s <q> 1 } USING <http://g> USING <http://h> USING NAMED <http://n> "
            "USING NAMED <http://m> WHERE { ?s ?p ?o }",
            id="nested-then-another",
        ),
    ],
)
def test_add_using_with_two_graphs_each(update: str, expected: str) -> None:
    assert add_using(update, ["http://g", "http://h"], ["http://n", "http://m"]) == expected
