"""The requests the fuzzer sends: valid ones from the grammar and the site, and their mutations.

A :class:`Case` is raw: the method, the target as sent on the request line (already
percent-encoded, so odd escapes reach the server as written), headers and body bytes. The right
token goes only with writes confined to the fuzzer's graphs (see :mod:`bench.fuzz.grammar`).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes

from bench.fuzz.grammar import FUZZ_GRAPHS, FUZZ_NS, Sparql, deep_nesting, deep_update
from bench.fuzz.mutate import mutate_bytes, odd_number, odd_path_segment
from bench.fuzz.routes import Route, fill

__all__ = ["Case", "Generator", "rdf_bodies"]

STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")
ACCEPTS = (
    None,
    "*/*",
    "text/html",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
    "application/json;q=0.5, text/csv;q=0.9",
    "text/*;q=0, */*;q=0",
    "image/png",
    "text/turtle;q=abc",
    ";;;,,,",
    "a" * 9000,
    "application/x-" + "é" * 3,
)
QUERY_TYPES = ("application/x-www-form-urlencoded", "application/sparql-query")
UPDATE_TYPES = ("application/x-www-form-urlencoded", "application/sparql-update")
CHARSETS: tuple[str, ...] = ("", "; charset=utf-8", "; charset=UTF-8", "; charset=latin-1")
CHARSETS += ("; charset=utf-16", "; charset=", '; charset="utf-8"', "; boundary=x", ";;")
PARAM_NAMES: tuple[str, ...] = ("page", "lang", "format", "from", "to", "country", "year")
PARAM_NAMES += ("graph", "default", "query", "output", "q", "kind", "x")
FORMATS: tuple[str, ...] = ("json", "xml", "csv", "tsv", "turtle", "nt", "jsonld", "rdfxml")
FORMATS += ("trig", "nquads", "text/tab-separated-values", "html", "", "zz")
FORMATS += ("application/sparql-results+json",)
LANGS = ("de", "en", "zh", "zh-Hans", "fr", "", "x" * 300, "de%0A")


def rdf_bodies() -> dict[str, bytes]:
    """A small graph of fuzz triples in every RDF syntax pyoxigraph writes, by media type."""
    import pyoxigraph as ox

    subject = ox.NamedNode(FUZZ_NS + "s#1")
    triples = [
        ox.Triple(subject, ox.NamedNode(FUZZ_NS + "p"), ox.Literal("# not a comment\r\n}")),
        ox.Triple(subject, ox.NamedNode(FUZZ_NS + "q"), ox.Literal("北京", language="zh")),
        ox.Triple(subject, ox.NamedNode(FUZZ_NS + "q"), ox.BlankNode()),
    ]
    bodies: dict[str, bytes] = {}
    for fmt in (
        ox.RdfFormat.TURTLE,
        ox.RdfFormat.N_TRIPLES,
        ox.RdfFormat.RDF_XML,
        ox.RdfFormat.JSON_LD,
        ox.RdfFormat.N3,
    ):
        bodies[fmt.media_type] = ox.serialize(triples, format=fmt) or b""
    quads = [
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(FUZZ_GRAPHS[0])) for t in triples
    ]
    for fmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
        bodies[fmt.media_type] = ox.serialize(quads, format=fmt) or b""
    return bodies


@dataclass
class Case:
    """One request, exactly as it goes on the wire (less ``Host`` and ``Content-Length``)."""

    kind: str
    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: It carries the right token (a write confined to the fuzz graphs).
    authorised: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "method": self.method,
            "target": self.target,
            "headers": self.headers,
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "authorised": self.authorised,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Case:
        headers = [(str(k), str(v)) for k, v in data["headers"]]  # type: ignore[attr-defined]
        return cls(
            kind=str(data["kind"]),
            method=str(data["method"]),
            target=str(data["target"]),
            headers=headers,
            body=base64.b64decode(str(data["body_base64"])),
            authorised=bool(data["authorised"]),
        )

    def curl(self, base: str) -> str:
        """A shell line that repeats the request (the body through a here-string of bytes)."""
        parts = ["curl -sS -o /dev/null -w '%{http_code}\\n' -X", _sh(self.method)]
        for name, value in self.headers:
            parts += ["-H", _sh(f"{name}: {value}")]
        if self.body:
            parts += ["--data-binary", "@-"]
        line = " ".join([*parts, _sh(base + self.target)])
        if self.body:
            line = f"printf %b {_sh(_printf_escape(self.body))} | " + line
        return line


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _printf_escape(data: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02x}" for b in data)


def _query_string(pairs: list[tuple[bytes, bytes]]) -> str:
    return "&".join(
        quote_from_bytes(k, safe="") + "=" + quote_from_bytes(v, safe="") for k, v in pairs
    )


class Generator:
    """Makes :class:`Case` objects from a seeded random source."""

    def __init__(
        self,
        rng: random.Random,
        *,
        routes: list[Route],
        links: list[str],
        token: str,
        canary: str,
        bodies: dict[str, bytes],
    ) -> None:
        self.rng = rng
        self.routes = routes
        self.links = links
        self.token = token
        self.sparql = Sparql(rng, canary)
        self.bodies = bodies
        #: Query parameter names the site's own links use (page, lang, country…).
        self.link_params = sorted(
            {p.partition("=")[0] for link in links for p in link.partition("?")[2].split("&") if p}
        )

    # -- headers ----------------------------------------------------------------------------

    def accept(self, headers: list[tuple[str, str]]) -> None:
        value = self.rng.choice(ACCEPTS)
        if value is not None:
            headers.append(("Accept", value.encode("utf-8").decode("latin-1")))

    def authorization(self, *, right: bool) -> list[tuple[str, str]]:
        """The right token, or one of the ways of not having it."""
        if right:
            return [("Authorization", f"Bearer {self.token}")]
        value = self.rng.choice(
            (
                None,
                "Bearer wrong",
                "Bearer",
                "Bearer ",
                f"Basic {self.token}",
                f"Bearer {self.token}x",
                f"Bearer {self.token[:-1]}",
                f"bearer  {self.token}\u00e9".encode().decode("latin-1"),
                "Bearer " + "A" * 10000,
            )
        )
        return [] if value is None else [("Authorization", value)]

    def method(self, allowed: frozenset[str]) -> str:
        roll = self.rng.random()
        if roll < 0.6 and allowed:
            return self.rng.choice(sorted(allowed))
        if roll < 0.85:
            return self.rng.choice(STANDARD_METHODS)
        # invented methods: each one a distinct token, as a scanner would send
        return self.rng.choice(("M", "FOO", "PROPFIND", "X-", "get")) + str(
            self.rng.randrange(10**6)
        )

    # -- the kinds of request ---------------------------------------------------------------

    def sweep(self) -> list[Case]:
        """Every route with every standard method and an invented one, then each GET route with
        odd values in every numeric parameter (``%C2%B2``, 5,000 digits) and in ``lang`` and
        ``format``: the requests a random draw could miss, sent first."""
        cases = []
        for route in self.routes:
            values = {name: self.path_value(name, valid_only=True) for name in route.params}
            path = fill(route.template, values)
            for method in (*STANDARD_METHODS, "FOO1"):
                cases.append(Case("sweep", method, path))
            if "GET" in route.methods:
                for odd in ("%C2%B2", "9" * 5000):
                    query = "&".join(f"{n}={odd}" for n in ("page", "from", "to", "year"))
                    cases.append(Case("sweep", "GET", f"{path}?{query}"))
                cases.append(Case("sweep", "GET", f"{path}?lang=x%0Ay&format=zz%00"))
        return cases

    def next(self) -> Case:
        rng = self.rng
        roll = rng.random()
        if roll < 0.22:
            return self.query()
        if roll < 0.32:
            return self.update()
        if roll < 0.34:
            return self.nesting()
        if roll < 0.48:
            return self.graph_store()
        if roll < 0.8:
            return self.route()
        if roll < 0.995:
            return self.mutated()
        return self.expensive()

    def query(self, text: str | None = None, kind: str = "query") -> Case:
        rng = self.rng
        text = text if text is not None else self.sparql.query()
        headers: list[tuple[str, str]] = []
        self.accept(headers)
        extra: list[tuple[bytes, bytes]] = []
        if rng.random() < 0.2:
            extra.append((b"format", rng.choice(FORMATS).encode()))
        if rng.random() < 0.1:
            name = rng.choice((b"default-graph-uri", b"named-graph-uri"))
            extra.append((name, rng.choice((FUZZ_GRAPHS[0], "not an iri", "urn:x#y")).encode()))
        how = rng.randrange(3)
        if how == 0:
            target = "/sparql?" + _query_string([(b"query", text.encode()), *extra])
            return Case(kind, rng.choice(("GET", "GET", "HEAD")), target, headers)
        if how == 1:
            headers.append(("Content-Type", QUERY_TYPES[0] + rng.choice(CHARSETS)))
            body = _query_string([(b"query", text.encode()), *extra]).encode()
            return Case(kind, "POST", "/sparql", headers, body)
        headers.append(("Content-Type", QUERY_TYPES[1] + rng.choice(CHARSETS)))
        return Case(kind, "POST", "/sparql?" + _query_string(extra), headers, text.encode())

    def update(self, text: str | None = None, kind: str = "update") -> Case:
        rng = self.rng
        right = text is None and rng.random() < 0.05
        if text is None:
            text = self.sparql.confined_update() if right else self.sparql.any_update()
        headers = self.authorization(right=right)
        if rng.random() < 0.5:
            headers.append(("Content-Type", UPDATE_TYPES[0] + rng.choice(CHARSETS[:3])))
            body = _query_string([(b"update", text.encode())]).encode()
        else:
            headers.append(("Content-Type", UPDATE_TYPES[1] + rng.choice(CHARSETS[:3])))
            body = text.encode()
        return Case(kind, "POST", "/sparql", headers, body, authorised=right)

    def nesting(self) -> Case:
        """Thousands of levels of nesting, as a query, an update or a Graph Store body."""
        rng = self.rng
        depth = rng.choice((5000, 20000, 60000))
        text = deep_nesting(rng, depth)
        where = rng.randrange(3)
        if where == 0:
            return self.query(text, kind="nesting-query")
        if where == 1:
            # Sent with the right token: a nested update must be refused before it runs.
            case = self.update(deep_update(rng, depth, FUZZ_GRAPHS[0]), kind="nesting-update")
            kept = [(k, v) for k, v in case.headers if k != "Authorization"]
            case.headers = [*self.authorization(right=True), *kept]
            case.authorised = True
            return case
        opener, closer = rng.choice((("(", ")"), ("[ <urn:x:p> ", "]")))
        body = f"<{FUZZ_NS}s> <{FUZZ_NS}p> " + opener * depth + "1" + closer * depth + " ."
        headers = [*self.authorization(right=True), ("Content-Type", "text/turtle")]
        target = "/store?" + _query_string([(b"graph", FUZZ_GRAPHS[0].encode())])
        return Case(
            "nesting-graph-store", rng.choice(("PUT", "POST")), target, headers, body.encode(), True
        )

    def graph_store(self) -> Case:
        rng = self.rng
        graph = rng.choice(
            (*FUZZ_GRAPHS, "https://w3id.org/citygraph/graph/curated", "not an iri", "urn:x#%0A")
        )
        pairs = [(b"graph", graph.encode())] if rng.random() < 0.7 else [(b"default", b"")]
        if rng.random() < 0.2:
            pairs = rng.choice(([], [(b"graph", b"a"), (b"default", b"")], [*pairs, *pairs]))
        if rng.random() < 0.2:
            pairs.append((b"format", rng.choice(FORMATS).encode()))
        target = "/store?" + _query_string(pairs)
        method = rng.choice(("GET", "GET", "HEAD", "PUT", "POST", "DELETE"))
        headers: list[tuple[str, str]] = []
        if method in ("GET", "HEAD"):
            self.accept(headers)
            return Case("graph-store-read", method, target, headers)
        confined = pairs == [(b"graph", FUZZ_GRAPHS[0].encode())] or pairs == [
            (b"graph", FUZZ_GRAPHS[1].encode())
        ]
        right = confined and rng.random() < 0.15
        headers += self.authorization(right=right)
        media, body = rng.choice(sorted(self.bodies.items()))
        if rng.random() < 0.3:
            body = mutate_bytes(rng, body)
        if rng.random() < 0.15:
            media = rng.choice(
                ("text/plain", "", "application/sparql-update", "text/turtle; charset=latin-1")
            )
        if method != "DELETE" or rng.random() < 0.2:
            headers.append(("Content-Type", media))
        else:
            body = b""
        return Case("graph-store-write", method, target, headers, body, authorised=right)

    def route(self) -> Case:
        """Any route of the app (or a link found on the site), any method, odd parameters."""
        rng = self.rng
        if self.links and rng.random() < 0.35:
            target = rng.choice(self.links)
            allowed = frozenset(("GET", "HEAD"))
        else:
            route = rng.choice(self.routes)
            values = {name: self.path_value(name) for name in route.params}
            target = fill(route.template, values)
            allowed = route.methods
        path, _, query = target.partition("?")
        # The parameters a link carries (page=2, lang=de…) get odd values half of the time.
        pairs = [
            f"{name}={self.param_value(name) if rng.random() < 0.5 else value}"
            for name, _, value in (p.partition("=") for p in query.split("&") if p)
        ]
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            name = rng.choice((*PARAM_NAMES, *self.link_params))
            pairs.append(f"{name}={self.param_value(name)}")
        target = path + ("?" + "&".join(pairs) if pairs else "")
        headers: list[tuple[str, str]] = []
        self.accept(headers)
        if rng.random() < 0.2:
            headers.append(("Accept-Language", rng.choice(("de", "zh-Hans;q=0.9", "*", "x" * 500))))
        if rng.random() < 0.1:
            headers.append(("If-None-Match", rng.choice(('"x"', "*", "W/" + '"a"' * 100))))
        method = self.method(allowed)
        body = b""
        if method not in ("GET", "HEAD") and rng.random() < 0.5:
            body = mutate_bytes(rng, b"query=ASK%7B%7D")
            headers.append(("Content-Type", rng.choice(QUERY_TYPES)))
        return Case("route", method, target, headers, body)

    def param_value(self, name: str) -> str:
        """An odd value for the query parameter ``name``, percent-encoded except for ``%``."""
        rng = self.rng
        if name in ("page", "from", "to", "year"):
            value = odd_number(rng)
        elif name == "lang":
            value = rng.choice(LANGS)
        elif name == "format":
            value = rng.choice(FORMATS)
        else:
            value = rng.choice(("", "de", "%", "a" * 5000, "\u00b2", "%C2%B2", "x%0Ay"))
        # Escapes written as they are: %C2%B2 must reach the server as those six characters.
        return quote(value, safe="%")

    def path_value(self, name: str, *, valid_only: bool = False) -> str:
        rng = self.rng
        valid = rng.choice(
            {
                "key": ("de-berlin", "cn-beijing", "zz"),
                "extension": ("ttl", "nt", "jsonld", "rdf", "html", "trig", "xml"),
                "name": ("citygraph.nq.gz", "citygraph.trig", "x"),
                "version": ("0.1.0", "latest", "0.1.0/ontology.ttl"),
                "path": ("city/de-berlin", "partnership/cn-beijing--de-berlin", "js/common.js"),
            }.get(name, ("x",))
        )
        return valid if valid_only or rng.random() < 0.6 else odd_path_segment(rng, valid)

    def mutated(self) -> Case:
        """A valid request of another kind with its body or query string mutated."""
        rng = self.rng
        base = rng.choice((self.query, self.route, self.query))()
        if base.body:
            base.body = mutate_bytes(rng, base.body)
        elif "?" in base.target:
            path, _, query = base.target.partition("?")
            mutated = mutate_bytes(rng, query.encode("latin-1"))
            # Keep the request line valid HTTP; everything else is fair game.
            base.target = path + "?" + quote_from_bytes(mutated, safe="=&%+")
        base.kind = "mutated-" + base.kind
        base.authorised = False
        return base

    def expensive(self) -> Case:
        return self.query(self.sparql.expensive(), kind="expensive")
