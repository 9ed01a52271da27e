"""Where a node is written: the file, line and column of subjects and triples in Turtle files.

rdflib and pyoxigraph give no positions for the triples they parse, so this module reads the
Turtle token stream itself (https://www.w3.org/TR/turtle/#sec-grammar) and remembers where each
subject, predicate and object starts. It does not check the syntax: the files have already been
parsed by rdflib, which reports syntax errors with their own line and column.

Blank nodes get new labels in every parse, so a blank node of the parsed graph is matched to the
``[`` (or ``_:label``) that wrote it by what it is linked to: the nodes that point at it and the
predicates and values it has.

>>> import tempfile
>>> from rdflib import Graph, URIRef
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder) / "p.ttl"
...     _ = path.write_text("@prefix ex: <http://example.org/> .\\n\\nex:p1\\n  ex:k 1 .\\n")
...     graph = Graph().parse(path)
...     where = SourceMap.read([path]).locator(graph).node(URIRef("http://example.org/p1"))
>>> (where.path.name, where.line, where.column)
('p.ttl', 3, 1)
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urljoin

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

__all__ = ["Locator", "Position", "SourceMap"]


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file: its path, 1-based line and 1-based column (in characters)."""

    path: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


_TOKEN: Final = re.compile(
    r"""
    (?P<skip>\s+|\#[^\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<directive>@prefix\b|@base\b)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<caret>\^\^)
  | (?P<number>[+-]?(?:\d+\.\d*[eE][+-]?\d+|\.?\d+[eE][+-]?\d+|\d*\.\d+|\d+))
  | (?P<blank>_:[\w](?:[\w.-]*[\w-])?)
  | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:(?:[\w:%-]|\\.)(?:(?:[\w.:%-]|\\.)*(?:[\w:%-]|\\.))?)?)
  | (?P<word>[A-Za-z]+)
  | (?P<punct>[.;,\[\]()])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE: Final = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_ESCAPES: Final = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    offset: int


def _tokens(text: str) -> Iterator[_Token]:
    offset = 0
    while offset < len(text):
        match = _TOKEN.match(text, offset)
        if match is None or match.lastgroup is None:
            return  # not Turtle from here on; rdflib has reported it already
        if match.lastgroup != "skip":
            yield _Token(match.lastgroup, match.group(), offset)
        offset = match.end()


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, text)


@dataclass
class _Edges:
    """What one file says: first position of each subject and of each triple's parts."""

    subjects: dict[Node, Position] = field(default_factory=dict)
    objects: dict[Node, Position] = field(default_factory=dict)
    # (subject, predicate) -> [(object, predicate's position, object's position)]
    triples: dict[tuple[Node, Node], list[tuple[Node, Position, Position]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    blanks: dict[BNode, int] = field(default_factory=dict)  # in the order written


class _Reader:
    """A recursive-descent reader of Turtle's triples section, remembering positions."""

    def __init__(self, path: Path, text: str, edges: _Edges) -> None:
        self.path = path
        self.tokens = list(_tokens(text))
        self.index = 0
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.prefixes: dict[str, str] = {}
        self.base = path.resolve().as_uri()
        self.edges = edges
        self.blank_labels: dict[str, BNode] = {}

    def position(self, token: _Token) -> Position:
        line = bisect.bisect_right(self.lines, token.offset)
        return Position(self.path, line, token.offset - self.lines[line - 1] + 1)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def read(self) -> None:
        while (token := self.peek()) is not None:
            start = self.index
            if token.kind == "directive" or token.text.upper() in ("PREFIX", "BASE"):
                self.directive()
            else:
                self.statement()
            if self.index == start:  # never loop on something this reader does not know
                self.index += 1

    def directive(self) -> None:
        keyword = self.take().text.lstrip("@").lower()
        if keyword == "prefix":
            name = self.take().text
            self.prefixes[name[:-1]] = self.iri(self.take().text)
        else:
            self.base = self.iri(self.take().text)
        if (token := self.peek()) is not None and token.text == ".":
            self.index += 1

    def iri(self, text: str) -> str:
        return urljoin(self.base, _unescape(text[1:-1]))

    def statement(self) -> None:
        token = self.peek()
        if token is None:
            return
        subject = self.term()
        if subject is None:
            return
        self.edges.subjects.setdefault(subject, self.position(token))
        if (after := self.peek()) is not None and after.text != ".":
            self.predicate_objects(subject)
        if (end := self.peek()) is not None and end.text == ".":
            self.index += 1

    def predicate_objects(self, subject: Node) -> None:
        while (token := self.peek()) is not None and token.text not in (".", "]"):
            if token.text == ";":
                self.index += 1
                continue
            predicate_token = token
            predicate = self.term()
            if predicate is None:
                return
            while True:
                object_token = self.peek()
                if object_token is None:
                    return
                value = self.term()
                if value is None:
                    return
                where = self.position(object_token)
                self.edges.objects.setdefault(value, where)
                self.edges.triples[(subject, predicate)].append(
                    (value, self.position(predicate_token), where)
                )
                if (comma := self.peek()) is not None and comma.text == ",":
                    self.index += 1
                    continue
                break

    def term(self) -> Node | None:
        token = self.take()
        kind, text = token.kind, token.text
        if kind == "iri":
            return URIRef(self.iri(text))
        if kind == "pname":
            prefix, _, local = text.partition(":")
            if prefix not in self.prefixes:
                return None
            return URIRef(self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local))
        if kind == "blank":
            return self.blank_labels.setdefault(text, self.new_blank())
        if text == "[":
            return self.anonymous(token)
        if text == "(":
            return self.collection(token)
        if kind == "word":
            if text == "a":
                return RDF.type
            if text in ("true", "false"):
                return Literal(text, datatype=XSD.boolean)
            return None
        if kind == "number":
            datatype = (
                XSD.double if "e" in text.lower() else XSD.decimal if "." in text else XSD.integer
            )
            return Literal(text, datatype=datatype)
        if kind == "string":
            return self.literal(text)
        return None

    def new_blank(self) -> BNode:
        blank = BNode()
        self.edges.blanks[blank] = len(self.edges.blanks)
        return blank

    def anonymous(self, opening: _Token) -> BNode:
        blank = self.new_blank()
        self.edges.subjects.setdefault(blank, self.position(opening))
        self.predicate_objects(blank)
        if (closing := self.peek()) is not None and closing.text == "]":
            self.index += 1
        return blank

    def collection(self, opening: _Token) -> Node:
        cells: list[tuple[BNode, _Token]] = []
        while (token := self.peek()) is not None and token.text != ")":
            cell = self.new_blank()
            self.edges.subjects.setdefault(cell, self.position(token))
            item = self.term()
            if item is None:
                break
            where = self.position(token)
            self.edges.objects.setdefault(item, where)
            self.edges.triples[(cell, RDF.first)].append((item, where, where))
            cells.append((cell, token))
        if (closing := self.peek()) is not None and closing.text == ")":
            self.index += 1
        for (cell, _), (following, token) in itertools.pairwise(cells):
            where = self.position(token)
            self.edges.triples[(cell, RDF.rest)].append((following, where, where))
        if not cells:
            return RDF.nil
        self.edges.subjects[cells[0][0]] = self.position(opening)
        return cells[0][0]

    def literal(self, text: str) -> Literal:
        quote = 3 if text[:3] in ('"""', "'''") else 1
        value = _unescape(text[quote:-quote])
        following = self.peek()
        if following is not None and following.kind == "lang":
            self.index += 1
            return Literal(value, lang=following.text[1:])
        if following is not None and following.kind == "caret":
            self.index += 1
            datatype = self.term()
            if isinstance(datatype, URIRef):
                return Literal(value, datatype=datatype)
        return Literal(value)


class SourceMap:
    """The positions of subjects and triples in a set of Turtle files, in file order."""

    def __init__(self, files: Sequence[_Edges]) -> None:
        self._files = list(files)

    @classmethod
    def read(cls, paths: Sequence[Path]) -> SourceMap:
        """Read the Turtle files among ``paths`` (others, such as ``.nt``, are skipped).

        Raises:
            OSError: a file cannot be read.
        """
        files = []
        for path in paths:
            if path.suffix.lower() != ".ttl":
                continue
            edges = _Edges()
            _Reader(path, path.read_text(encoding="utf-8"), edges).read()
            files.append(edges)
        return cls(files)

    def locator(self, graph: Graph) -> Locator:
        """A locator for the terms of ``graph`` (the graph parsed from the same files)."""
        return Locator(self._files, graph)


class Locator:
    """Finds where a node of a parsed graph, or one of its triples, is written."""

    def __init__(self, files: Sequence[_Edges], graph: Graph) -> None:
        self._files = files
        self._graph = graph
        self._blanks: dict[BNode, tuple[_Edges, BNode] | None] = {}
        self._index: dict[_Link, list[tuple[_Edges, BNode]]] | None = None

    def node(self, term: Node) -> Position | None:
        """Where ``term`` is first written as a subject, else as an object; None if nowhere."""
        for edges, local in self._local(term):
            if local in edges.subjects:
                return edges.subjects[local]
        for edges, local in self._local(term):
            if local in edges.objects:
                return edges.objects[local]
        if isinstance(term, BNode):
            # A blank node nested in others: where the node that points at it is written.
            for referrer in self._graph.subjects(None, term):
                if referrer != term and (where := self.node(referrer)) is not None:
                    return where
        return None

    def triple(self, subject: Node, predicate: Node, value: Node | None) -> Position | None:
        """Where ``subject predicate value`` is written (the value's position), else where
        ``subject`` has ``predicate`` (the predicate's position), else where ``subject`` is."""
        first: Position | None = None
        for edges, local in self._local(subject):
            for found, predicate_at, value_at in edges.triples.get((local, predicate), []):
                if value is not None and self._same(edges, found, value):
                    return value_at
                first = first or predicate_at
        return first or self.node(subject)

    def _local(self, term: Node) -> Iterator[tuple[_Edges, Node]]:
        if isinstance(term, BNode):
            match = self._match_blank(term)
            if match is not None:
                yield match
            return
        for edges in self._files:
            yield edges, term

    def _same(self, edges: _Edges, local: Node, term: Node) -> bool:
        if isinstance(term, BNode):
            return self._match_blank(term) == (edges, local)
        return local == term

    def _match_blank(self, blank: BNode) -> tuple[_Edges, BNode] | None:
        """The written blank node that shares the most named links with ``blank``."""
        if blank in self._blanks:
            return self._blanks[blank]
        if self._index is None:
            self._index = _blank_index(self._files)
        hits: dict[tuple[int, BNode], int] = defaultdict(int)
        written: dict[tuple[int, BNode], tuple[_Edges, BNode]] = {}
        for link in _links(self._graph, blank):
            for edges, local in self._index.get(link, []):
                hits[(id(edges), local)] += 1
                written[(id(edges), local)] = (edges, local)
        best = max(hits, key=lambda key: (hits[key], -_order(written[key])), default=None)
        self._blanks[blank] = None if best is None else written[best]
        return self._blanks[blank]


_Link = tuple[str, Node, Node]


def _links(graph: Graph, blank: BNode) -> Iterator[_Link]:
    """What identifies a blank node: the named nodes pointing at it and its named values."""
    for predicate, value in graph.predicate_objects(blank):
        if not isinstance(value, BNode):
            yield ("out", predicate, value)
    for subject, predicate in graph.subject_predicates(blank):
        if not isinstance(subject, BNode):
            yield ("in", subject, predicate)


def _blank_index(files: Sequence[_Edges]) -> dict[_Link, list[tuple[_Edges, BNode]]]:
    index: dict[_Link, list[tuple[_Edges, BNode]]] = defaultdict(list)
    for edges in files:
        for (subject, predicate), objects in edges.triples.items():
            for value, _, _ in objects:
                if isinstance(subject, BNode) and not isinstance(value, BNode):
                    index[("out", predicate, value)].append((edges, subject))
                if isinstance(value, BNode) and not isinstance(subject, BNode):
                    index[("in", subject, predicate)].append((edges, value))
    return index


def _order(written: tuple[_Edges, BNode]) -> int:
    edges, local = written
    return edges.blanks[local]
