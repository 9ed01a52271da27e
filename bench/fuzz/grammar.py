"""A small SPARQL grammar: random queries and updates that stress how the server reads them.

What it aims at (issue 9): comments ended by CR, LF or CRLF; strings, long strings, IRIs and
escapes holding ``#``, ``SERVICE``, ``FROM`` or ``LOAD``; nesting, shallow and very deep;
``SERVICE``, ``FROM`` and ``LOAD`` naming the fuzzer's canary listener, visible or hidden behind
a comment that only a reader ending comments at LF would miss.

Updates come in two kinds. :meth:`Sparql.confined_update` writes only into the fuzzer's own
graphs (:data:`FUZZ_GRAPHS`), so the fuzzer may send it with the right token and revert it at the
end; :meth:`Sparql.any_update` may touch anything and is only ever sent without the right token.
"""

from __future__ import annotations

import random

__all__ = ["CITY", "FUZZ_GRAPHS", "FUZZ_NS", "Sparql", "deep_nesting", "deep_update"]

CITY = "https://w3id.org/citygraph/id/city/"
FUZZ_NS = "urn:x-citygraph-fuzz:"
#: The only graphs an update sent with the right token may write.
FUZZ_GRAPHS = (FUZZ_NS + "graph/a", FUZZ_NS + "graph/b")

PREFIXES = (
    "PREFIX cg: <https://w3id.org/citygraph/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
EOLS = ("\n", "\r", "\r\n")
PREDICATES = (
    "rdfs:label",
    "cg:partner",
    "cg:twinnedWith",
    "a",
    "?p",
    "<http://www.w3.org/2002/07/owl#sameAs>",
)
PATHS = (
    "cg:partner/cg:partner",
    "^cg:partner",
    "cg:twinnedWith+",
    "!rdfs:label",
    "(a|rdfs:label)?",
)
KEYS = ("de-berlin", "cn-beijing", "fr-paris", "de-hamburg", "zz-nowhere")
LANGS = ("en", "de", "zh-Hans", "fr")
NOISE = ("SERVICE", "FROM", "LOAD", "#", "}", "{", "'", '"', "\\", "GRAPH", "é", "北京", "\u0000")
#: Joins that keep every query process busy; they count, so their memory stays small.
EXPENSIVE = (
    "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . FILTER(STR(?c) = STR(?i) && ?a != ?g && ?d = ?x) }",
    "SELECT ?l ?m { ?a rdfs:label ?l . ?b rdfs:label ?m } ORDER BY DESC(STR(?l)) ?m LIMIT 1",
)


def deep_nesting(rng: random.Random, depth: int) -> str:
    """A query nested ``depth`` levels deep in one of the ways that overflow a recursive parser.

    Closed or not: an unclosed one must be refused as cleanly as a closed one.
    """
    kind = rng.choice(("group", "paren", "not", "path", "optional"))
    closed = rng.random() < 0.5
    if kind == "group":
        body = "{" * depth + " ?s ?p ?o " + ("}" * depth if closed else "")
        return f"SELECT * WHERE {body}"
    if kind == "paren":
        body = "(" * depth + "1" + (")" * depth if closed else "")
        return f"SELECT * {{ FILTER {body} }}"
    if kind == "not":
        return "ASK { FILTER(" + "!" * depth + "true) }"
    if kind == "path":
        path = "(" * depth + "rdfs:label" + (")" * depth if closed else "")
        return f"{PREFIXES}ASK {{ ?s {path} ?o }}"
    body = "OPTIONAL { ?s ?p ?o " * depth + ("}" * depth if closed else "")
    return f"SELECT * {{ {body} }}"


def deep_update(rng: random.Random, depth: int, graph: str) -> str:
    """An update into ``graph`` whose WHERE clause is nested ``depth`` levels deep."""
    closed = rng.random() < 0.5
    where = rng.choice(
        (
            "{" * depth + " ?s ?p ?o " + ("}" * depth if closed else ""),
            "FILTER " + "(" * depth + "1" + (")" * depth if closed else ""),
            "FILTER(" + "!" * depth + "true)",
            "?s " + "(" * depth + "<urn:p>" + (")" * depth if closed else "") + " ?o",
        )
    )
    return f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ {where} }}"


class Sparql:
    """Generates query and update text; ``canary`` is an IRI no request may ever reach."""

    def __init__(self, rng: random.Random, canary: str) -> None:
        self.rng = rng
        self.canary = canary

    # -- lexical pieces ---------------------------------------------------------------------

    def comment(self, text: str = "") -> str:
        """A comment ended by CR, LF or CRLF, whose text may look like code."""
        inner = text or self.rng.choice(("", " x", " }", " SERVICE <x>", " FROM <x>", " #"))
        return "#" + inner + self.rng.choice(EOLS)

    def space(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return " "
        if roll < 0.8:
            return self.rng.choice(("\t", "\n", "\r", "\r\n", "  "))
        return " " + self.comment()

    def string(self) -> str:
        """A string literal, short or long, holding the characters a comment reader trips on."""
        rng = self.rng
        text = "".join(rng.choice(NOISE) if rng.random() < 0.4 else "ab" for _ in range(3))
        quote = rng.choice(("'", '"', "'''", '"""'))
        if len(quote) == 1:
            text = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
            text = text.replace("\n", "\\n").replace("\r", "\\r")
        else:
            text = text.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
        text += rng.choice(("", "\\u0023", "\\t", " # ", " SERVICE <" + self.canary + "> "))
        literal = quote + text + quote
        return literal + rng.choice(("", "", "@" + rng.choice(LANGS), "^^<urn:x#dt>"))

    def iri(self) -> str:
        rng = self.rng
        return rng.choice(
            (
                f"<{CITY}{rng.choice(KEYS)}>",
                f"<{CITY}{rng.choice(KEYS)}#here>",
                "<urn:x-a#b%23c>",
                "<http://example.org/#SERVICE>",
                f"<{FUZZ_NS}s{rng.randrange(5)}>",
                "<id/city/de-berlin>",
            )
        )

    def term(self) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return "?" + self.rng.choice("sopxyz")
        if roll < 0.7:
            return self.iri()
        if roll < 0.9:
            return self.string()
        return str(self.rng.choice((1, -0, 3.5, "1e3", "true", "2026-01-01")))

    # -- patterns ---------------------------------------------------------------------------

    def triple(self) -> str:
        rng = self.rng
        subject = rng.choice(("?s", "?x", self.iri()))
        predicate = rng.choice(PREDICATES if rng.random() < 0.8 else PATHS)
        return f"{subject} {predicate} {self.term()}"

    def service(self) -> str:
        """A SERVICE to the canary: plain, SILENT, or hidden behind a CR-ended comment."""
        rng = self.rng
        silent = rng.choice(("", "SILENT "))
        call = f"SERVICE {silent}<{self.canary}> {{ ?x ?y ?z }}"
        hiding = rng.choice(("", "#x\r", "#x\r\n", "# '\r", '"#" . ', "<urn:a#b> ?q ?r . "))
        return hiding + call

    def group(self, depth: int) -> str:
        rng = self.rng
        parts = []
        for _ in range(rng.randint(1, 3)):
            roll = rng.random()
            if depth <= 0 or roll < 0.4:
                parts.append(self.triple())
            elif roll < 0.5:
                parts.append(f"OPTIONAL {self.group(depth - 1)}")
            elif roll < 0.58:
                parts.append(f"{self.group(depth - 1)} UNION {self.group(depth - 1)}")
            elif roll < 0.64:
                parts.append(f"MINUS {self.group(depth - 1)}")
            elif roll < 0.7:
                parts.append(f"GRAPH ?g {self.group(depth - 1)}")
            elif roll < 0.77:
                parts.append(f"FILTER({self.expression(depth)})")
            elif roll < 0.82:
                parts.append(f"BIND({self.expression(depth)} AS ?b{rng.randrange(9)})")
            elif roll < 0.86:
                parts.append(f"VALUES ?x {{ {self.iri()} {self.term()} UNDEF }}")
            elif roll < 0.91:
                parts.append(f"{{ SELECT * {self.group(depth - 1)} LIMIT 3 }}")
            else:
                parts.append(self.service())
        joined = (" ." + self.space()).join(parts)
        return "{" + self.space() + joined + self.space() + "}"

    def expression(self, depth: int) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.4:
            return rng.choice(("?x", "1", "true", self.string(), "BOUND(?s)", "?x != ?s"))
        inner = self.expression(depth - 1)
        return rng.choice(
            (
                f"!({inner})",
                f"({inner}) && ({self.expression(depth - 1)})",
                f"REGEX(STR(?o), {self.string()})",
                f"CONTAINS(STR({inner}), '#')",
                f"EXISTS {self.group(depth - 1)}",
                f"STRLEN(STR({inner})) > 1",
            )
        )

    # -- whole requests ---------------------------------------------------------------------

    def dataset(self) -> str:
        rng = self.rng
        clauses = []
        for _ in range(rng.choice((0, 0, 1, 2))):
            target = rng.choice(
                (self.canary, FUZZ_GRAPHS[0], "https://w3id.org/citygraph/graph/curated")
            )
            hide = rng.choice(("", "#x\r", "#x\r\n"))
            clauses.append(f"{hide}FROM {rng.choice(('', 'NAMED '))}<{target}>")
        return self.space().join(clauses)

    def query(self, depth: int = 3) -> str:
        """A query of any form, with comments, strings, nesting, FROM and SERVICE."""
        rng = self.rng
        where = self.group(rng.randint(0, depth))
        head = rng.choice(
            (
                "SELECT *",
                "SELECT DISTINCT ?s ?o",
                "SELECT (COUNT(*) AS ?n)",
                "ASK",
                "CONSTRUCT { ?s ?p ?o }",
                "DESCRIBE ?s",
                "CONSTRUCT",
            )
        )
        if head == "CONSTRUCT":
            where = "{ ?s rdfs:label ?o }"
        tail = rng.choice(("", " LIMIT 5", " ORDER BY ?s LIMIT 10 OFFSET 2", " LIMIT 0"))
        prologue = PREFIXES if rng.random() < 0.8 else ""
        if rng.random() < 0.3:
            prologue = self.comment() + prologue
        pieces = [prologue + head, self.dataset(), "WHERE" if rng.random() < 0.5 else "", where]
        return self.space().join(p for p in pieces if p) + tail

    def expensive(self) -> str:
        """A query that keeps a query process busy until the timeout."""
        return PREFIXES + self.rng.choice(EXPENSIVE)

    def confined_update(self) -> str:
        """An update that writes only into :data:`FUZZ_GRAPHS` (it may read anything)."""
        rng = self.rng
        graph, other = rng.sample(FUZZ_GRAPHS, 2)
        silent = rng.choice(("", "SILENT "))
        data = f"<{FUZZ_NS}s{rng.randrange(5)}> <{FUZZ_NS}p> {self.string()}"
        operations = (
            f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}",
            f"DELETE DATA {{ GRAPH <{graph}> {{ {data} }} }}",
            f"INSERT {{ GRAPH <{graph}> {{ ?s <{FUZZ_NS}p> ?o }} }} WHERE {self.group(1)}",
            f"DELETE WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            f"WITH <{graph}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
            f"CREATE {silent}GRAPH <{graph}>",
            f"CLEAR {silent}GRAPH <{graph}>",
            f"DROP {silent}GRAPH <{graph}>",
            f"COPY {silent}<{graph}> TO <{other}>",
            f"MOVE {silent}<{graph}> TO <{other}>",
            f"ADD {silent}<{graph}> TO <{other}>",
            # Hidden from a reader that ends comments at LF only; must still be refused.
            f"{self.comment('x')}LOAD <{self.canary}> INTO GRAPH <{graph}>",
            f"#x\rLOAD SILENT <{self.canary}> INTO GRAPH <{graph}>",
            f"INSERT {{ GRAPH <{graph}> {{ ?x ?y ?z }} }} WHERE {{ #x\r{self.service()} }}",
        )
        chosen = [rng.choice(operations) for _ in range(rng.choice((1, 1, 2)))]
        return PREFIXES + (" ;" + self.space()).join(chosen)

    def any_update(self) -> str:
        """An update that may change anything: only sent without the right token."""
        rng = self.rng
        return rng.choice(
            (
                "DROP ALL",
                "CLEAR DEFAULT",
                "DELETE WHERE { ?s ?p ?o }",
                f"INSERT DATA {{ {self.triple().replace('?', 'urn:x')} }}",
                f"LOAD <{self.canary}>",
                "DROP GRAPH <https://w3id.org/citygraph/graph/curated>",
                self.confined_update(),
            )
        )
