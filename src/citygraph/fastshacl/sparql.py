"""Compiling shapes into SPARQL: paths, value tests, shape conformance and whole-graph queries.

Every query here is evaluated once over all focus nodes of a shape (never once per focus node),
which is what makes validation of the worldwide graph fast: Oxigraph answers a join over 26,000
partnerships in milliseconds, where pySHACL runs one rdflib query per focus node.

The value tests mirror pySHACL 0.40 on rdflib 7 (the reference), not only the SHACL text:
``sh:datatype`` rejects ill-typed literals exactly where rdflib flags them (``xsd:date``,
the integer types, ``xsd:decimal``, ``xsd:boolean``) and accepts any lexical form for datatypes
rdflib does not check (``xsd:gYear``, ``xsd:language``, ``geo:wktLiteral``…);
``sh:languageIn`` matches the whole tag or its first subtag, case-insensitively.
Each test is written so that it never raises a SPARQL error (``COALESCE(…, false)``): an error
inside ``FILTER(!test)`` would otherwise drop the row and hide a violation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Final

import pyoxigraph as ox

from citygraph.fastshacl.loading import PRESERVED, SURROGATE
from citygraph.fastshacl.shapes import (
    RDF,
    SH,
    XSD,
    Alternative,
    Constraint,
    Inverse,
    Path,
    Repeat,
    Sequence,
    Shape,
    Target,
    Term,
    UnsupportedShapeError,
)

__all__ = [
    "FOCUS_LEVEL",
    "MAX_UNROLL",
    "VALUE_LEVEL",
    "Compiler",
    "literal",
    "sparql_path",
    "sparql_term",
]

#: Components whose test is about one value node at a time.
VALUE_LEVEL: Final = frozenset(
    {
        "Datatype",
        "Class",
        "NodeKind",
        "In",
        "Pattern",
        "LanguageIn",
        "MinLength",
        "MaxLength",
        "MinInclusive",
        "MaxInclusive",
        "MinExclusive",
        "MaxExclusive",
        "Node",
        "Not",
        "Or",
        "And",
        "Xone",
    }
)
#: Components of a property shape whose test is about all values of a focus node together.
FOCUS_LEVEL: Final = frozenset(
    {"MinCount", "MaxCount", "HasValue", "UniqueLang", "QualifiedValueShape"}
)


_INTEGER_BOUNDS: Final[dict[str, tuple[int | None, int | None]]] = {
    "integer": (None, None),
    "positiveInteger": (1, None),
    "nonNegativeInteger": (0, None),
    "negativeInteger": (None, -1),
    "nonPositiveInteger": (None, 0),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 2**8 - 1),
}
# Python's int() accepts surrounding whitespace, a sign and underscores between digits.
_INTEGER_LEXICAL: Final = r"^\s*[+-]?[0-9]+(_[0-9]+)*\s*$"
# Python's Decimal() (rdflib's converter for xsd:decimal).
_DECIMAL_LEXICAL: Final = (
    r"^\s*[+-]?(([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)"
    r"([eE][+-]?[0-9]+(_[0-9]+)*)?|inf|infinity|s?nan)\s*$"
)
#: Datatypes rdflib converts and pySHACL therefore checks, which this engine does not mirror.
_UNMIRRORED: Final = frozenset(
    XSD + name
    for name in (
        "dateTime",
        "time",
        "double",
        "float",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
        "base64Binary",
        "hexBinary",
    )
) | {RDF + "XMLLiteral", RDF + "HTML"}

_NODE_KINDS: Final = {
    SH + "IRI": "isIRI({v})",
    SH + "BlankNode": "isBlank({v})",
    SH + "Literal": "isLiteral({v})",
    SH + "BlankNodeOrIRI": "!isLiteral({v})",
    SH + "BlankNodeOrLiteral": "!isIRI({v})",
    SH + "IRIOrLiteral": "!isBlank({v})",
}
_COMPARISONS: Final = {
    "MinInclusive": ">=",
    "MaxInclusive": "<=",
    "MinExclusive": ">",
    "MaxExclusive": "<",
}
#: The largest count a nested sh:minCount/sh:maxCount is unrolled to (pairwise distinct values).
MAX_UNROLL: Final = 4


def literal(text: str) -> str:
    r"""A SPARQL string literal for ``text``.

    >>> print(literal('say "hi"'))
    "say \"hi\""
    """
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def sparql_path(path: Path) -> str:
    """A SHACL path in SPARQL property-path syntax.

    >>> sparql_path(Inverse(ox.NamedNode("http://example.org/p")))
    '^(<http://example.org/p>)'
    """
    if isinstance(path, ox.NamedNode):
        return str(path)
    if isinstance(path, Inverse):
        return f"^({sparql_path(path.path)})"
    if isinstance(path, Sequence):
        return "(" + "/".join(sparql_path(p) for p in path.paths) + ")"
    if isinstance(path, Alternative):
        return "(" + "|".join(sparql_path(p) for p in path.paths) + ")"
    if isinstance(path, Repeat):
        return f"({sparql_path(path.path)}){path.modifier}"
    raise TypeError(f"not a path: {path!r}")


def sparql_term(value: object, shape: Shape) -> str:
    """A constraint's term in SPARQL syntax; blank nodes cannot be written into a query."""
    term = _as_term(value)
    if isinstance(term, ox.BlankNode):
        raise UnsupportedShapeError(
            f"{shape.name}: blank nodes as constraint values are not supported"
        )
    return str(term)


class Compiler:
    """Turns shapes into SPARQL expressions and queries, with fresh variable names.

    ``files`` says the data was loaded by :func:`~citygraph.fastshacl.loading.load_files`
    (integer subtypes under surrogate datatypes); otherwise it is a built store, where they
    have become ``xsd:integer``.
    """

    def __init__(self, *, files: bool, subclasses: Callable[[ox.NamedNode], list[str]]) -> None:
        self._counter = itertools.count()
        self.files = files
        self.subclasses = subclasses
        self._stack: list[Shape] = []

    def instance_of(self, x: str, classes: Iterable[ox.NamedNode]) -> str:
        """A pattern matching when ``x`` is a SHACL instance of one of ``classes``.

        ``rdf:type/rdfs:subClassOf*`` (https://www.w3.org/TR/shacl/#dfn-shacl-instance), with
        the subclasses found once in the data graph instead of a property path per row.
        """
        closure = sorted({sub for c in classes for sub in self.subclasses(c)})
        if len(closure) == 1:
            return f"{x} <{RDF}type> {closure[0]} ."
        t = self.var()
        if x == "?this":  # a focus pattern: Oxigraph starts from the listed classes
            return f"VALUES {t} {{ {' '.join(closure)} }} {x} <{RDF}type> {t} ."
        # a test of one bound value: only its own types are read
        return f"{x} <{RDF}type> {t} . FILTER ({t} IN ({', '.join(closure)}))"

    def term(self, value: object, shape: Shape) -> str:
        """A constraint's term in SPARQL syntax, as the data store holds it."""
        term = _as_term(value)
        if self.files and isinstance(term, ox.Literal) and term.datatype.value in PRESERVED:
            term = ox.Literal(term.value, datatype=ox.NamedNode(SURROGATE + term.datatype.value))
        return sparql_term(term, shape)

    def original(self, v: str) -> str:
        """An expression giving the term in ``v`` with its surrogate datatype undone."""
        if not self.files:
            return v
        prefix = literal(SURROGATE)
        return (
            f"IF(STRSTARTS(STR(DATATYPE({v})), {prefix}), "
            f"STRDT(STR({v}), IRI(STRAFTER(STR(DATATYPE({v})), {prefix}))), {v})"
        )

    def var(self) -> str:
        """A variable name no other part of the query uses."""
        return f"?_v{next(self._counter)}"

    # --- tests on one value ----------------------------------------------------------------

    def value_test(self, constraint: Constraint, v: str, shape: Shape) -> str:
        """A SPARQL expression, true when the term in ``v`` passes ``constraint``; never errs."""
        component, value = constraint.component, constraint.value
        if component == "Datatype":
            return self._datatype(value, v, shape)
        if component == "Class":
            cls = _as_term(value)
            if not isinstance(cls, ox.NamedNode):
                raise UnsupportedShapeError(f"{shape.name}: sh:class must be an IRI")
            return f"EXISTS {{ {self.instance_of(v, [cls])} }}"
        if component == "NodeKind":
            kind = _as_term(value)
            if not isinstance(kind, ox.NamedNode) or kind.value not in _NODE_KINDS:
                raise UnsupportedShapeError(f"{shape.name}: sh:nodeKind {kind} is not a node kind")
            return _NODE_KINDS[kind.value].format(v=v)
        if component == "In":
            options = [f"sameTerm({v}, {self.term(t, shape)})" for t in _as_terms(value)]
            return "(" + (" || ".join(options) or "false") + ")"
        if component == "HasValue":  # on a node shape: the focus node itself
            return f"sameTerm({v}, {self.term(value, shape)})"
        if component == "Pattern":
            pattern = _as_term(value)
            flags = "".join(f for f in constraint.flags.lower() if f in "im")
            return (
                f"COALESCE(!isBlank({v}) && REGEX(STR({v}), {literal(str(pattern.value))}, "
                f"{literal(flags)}), false)"
            )
        if component == "LanguageIn":
            tags = sorted({str(_as_lit(t, shape).value).lower() for t in _as_terms(value)})
            if "*" in tags:
                return f'COALESCE(isLiteral({v}) && LANG({v}) != "", false)'
            listed = ", ".join(literal(t) for t in tags)
            return (
                f'COALESCE(isLiteral({v}) && LANG({v}) != "" && (LCASE(LANG({v})) IN ({listed})'
                f' || LCASE(STRBEFORE(CONCAT(LANG({v}), "-"), "-")) IN ({listed})), false)'
            )
        if component in {"MinLength", "MaxLength"}:
            op = ">=" if component == "MinLength" else "<="
            return f"COALESCE(!isBlank({v}) && STRLEN(STR({v})) {op} {int(str(value))}, false)"
        if component in _COMPARISONS:
            bound = _as_lit(_as_term(value), shape)
            compared = self.original(v)
            return (
                f"COALESCE(isLiteral({v}) && {compared} {_COMPARISONS[component]} {bound}, false)"
            )
        if component == "Node":
            return self.conforms(_as_shape(value), v)
        if component == "Not":
            return f"!({self.conforms(_as_shape(value), v)})"
        if component in {"Or", "And"}:
            members = [self.conforms(s, v) for s in _as_shapes(value)]
            joiner = " || " if component == "Or" else " && "
            empty = "false" if component == "Or" else "true"
            return "(" + (joiner.join(members) or empty) + ")"
        if component == "Xone":
            members = [f"IF({self.conforms(s, v)}, 1, 0)" for s in _as_shapes(value)]
            return "((" + (" + ".join(members) or "0") + ") = 1)"
        raise UnsupportedShapeError(
            f"{shape.name}: sh:{component[0].lower()}{component[1:]} is not supported here"
        )

    def _datatype(self, value: object, v: str, shape: Shape) -> str:
        datatype = _as_term(value)
        if not isinstance(datatype, ox.NamedNode):
            raise UnsupportedShapeError(f"{shape.name}: sh:datatype must be an IRI")
        iri = datatype.value
        if iri == RDF + "langString":
            return f'COALESCE(isLiteral({v}) && LANG({v}) != "", false)'
        if iri in _UNMIRRORED:
            raise UnsupportedShapeError(
                f"{shape.name}: sh:datatype <{iri}> is not supported by citygraph.fastshacl "
                "(pySHACL checks its lexical forms with rdflib; this engine does not mirror that)"
            )
        local = iri.removeprefix(XSD) if iri.startswith(XSD) else ""
        if self.files and iri in PRESERVED:
            same = f"isLiteral({v}) && sameTerm(DATATYPE({v}), <{SURROGATE}{iri}>)"
        elif iri in PRESERVED and local in _INTEGER_BOUNDS:
            # A built store keeps no integer subtypes: any xsd:integer in range passes.
            same = (
                f"isLiteral({v}) && (sameTerm(DATATYPE({v}), {datatype}) || "
                f"sameTerm(DATATYPE({v}), <{XSD}integer>))"
            )
        else:
            same = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {datatype})"
        if local == "date":
            # rdflib parses with date.fromisoformat: a four-digit year, a valid day.
            check = (
                f'REGEX(STR({v}), "^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}") && '
                f"sameTerm(DATATYPE(<{XSD}date>(STR({v}))), <{XSD}date>)"
            )
        elif local in _INTEGER_BOUNDS:
            low, high = _INTEGER_BOUNDS[local]
            number = f'<{XSD}integer>(REPLACE(STR({v}), "[\\\\s_]", ""))'
            check = f"REGEX(STR({v}), {literal(_INTEGER_LEXICAL)})"
            if low is not None:
                check += f" && {number} >= {low}"
            if high is not None:
                check += f" && {number} <= {high}"
        elif local == "decimal":
            check = f'REGEX(STR({v}), {literal(_DECIMAL_LEXICAL)}, "i")'
        elif local == "boolean":
            check = f'STR({v}) IN ("true", "false", "1", "0")'
        else:
            return f"COALESCE({same}, false)"
        return f"COALESCE({same} && {check}, false)"

    # --- conformance of a term to a whole shape -----------------------------------------------

    def conforms(self, shape: Shape, x: str) -> str:
        """A SPARQL expression, true when the term in ``x`` conforms to ``shape``."""
        if shape.deactivated:
            return "true"
        if shape in self._stack:
            raise UnsupportedShapeError(
                f"{shape.name}: recursive shapes are not supported by citygraph.fastshacl"
            )
        self._stack.append(shape)
        try:
            return self._conforms(shape, x)
        finally:
            self._stack.pop()

    def _conforms(self, shape: Shape, x: str) -> str:
        if shape.sparql:
            raise UnsupportedShapeError(
                f"{shape.name}: SPARQL constraints in a shape used by sh:node, sh:or… are not "
                "supported by citygraph.fastshacl"
            )
        parts: list[str] = []
        if shape.path is None:
            parts += [self.value_test(c, x, shape) for c in shape.constraints]
            parts += [self.conforms(p, x) for p in shape.properties]
        else:
            path = sparql_path(shape.path)
            tests = [c for c in shape.constraints if c.component in VALUE_LEVEL]
            v = self.var()
            value_tests = [self.value_test(c, v, shape) for c in tests]
            value_tests += [self.conforms(p, v) for p in shape.properties]
            if value_tests:
                failing = " && ".join(value_tests)
                parts.append(f"NOT EXISTS {{ {x} {path} {v} . FILTER (!({failing})) }}")
            for constraint in shape.constraints:
                if constraint.component in FOCUS_LEVEL:
                    parts.append(self.focus_test(constraint, x, path, shape))
        return "(" + (" && ".join(parts) or "true") + ")"

    def focus_test(self, constraint: Constraint, x: str, path: str, shape: Shape) -> str:
        """A SPARQL expression, true when the values of ``x`` along ``path`` pass
        ``constraint`` (``sh:hasValue``, ``sh:uniqueLang``, or ``sh:minCount``/``sh:maxCount``
        up to :data:`MAX_UNROLL` values, as pairwise distinct values)."""
        component, value = constraint.component, constraint.value
        if component == "HasValue":
            return f"EXISTS {{ {x} {path} {self.term(value, shape)} }}"
        if component in {"MinCount", "MaxCount"}:
            count = int(str(value))
            needed = count if component == "MinCount" else count + 1
            if needed == 0:
                return "true" if component == "MinCount" else f"NOT EXISTS {{ {x} {path} [] }}"
            if needed > MAX_UNROLL:
                raise UnsupportedShapeError(
                    f"{shape.name}: sh:{component[0].lower()}{component[1:]} {count} in a nested "
                    "shape is not supported"
                )
            pattern = self._distinct_values(x, path, needed)
            return f"EXISTS {pattern}" if component == "MinCount" else f"NOT EXISTS {pattern}"
        if component == "UniqueLang":
            if value is not True:
                return "true"
            a, b = self.var(), self.var()
            return (
                f"NOT EXISTS {{ {x} {path} {a}, {b} . FILTER (!sameTerm({a}, {b}) && "
                f'isLiteral({a}) && isLiteral({b}) && LANG({a}) != "" && '
                f"LCASE(LANG({a})) = LCASE(LANG({b}))) }}"
            )
        raise UnsupportedShapeError(
            f"{shape.name}: sh:{component[0].lower()}{component[1:]} in a nested shape is not "
            "supported by citygraph.fastshacl"
        )

    def _distinct_values(self, x: str, path: str, n: int) -> str:
        names = [self.var() for _ in range(n)]
        triples = " . ".join(f"{x} {path} {name}" for name in names)
        different = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        where = f" FILTER ({' && '.join(different)})" if different else ""
        return f"{{ {triples} .{where} }}"

    # --- focus nodes -------------------------------------------------------------------------

    def focus(self, target: Target, extra: Iterable[Term] = ()) -> str:
        """A group pattern binding ``?this`` to each focus node of ``target``.

        A node may be bound more than once (an instance of two target classes): the queries
        built on it use DISTINCT or GROUP BY. SPARQL targets are not compiled: their focus
        nodes are passed as ``extra`` (found once, by running the target's own query).
        """
        branches: list[str] = []
        nodes = [*target.nodes, *extra]
        if nodes:
            if any(isinstance(n, ox.BlankNode) for n in nodes):
                raise UnsupportedShapeError(
                    "blank-node focus nodes from a SPARQL target or sh:targetNode are not supported"
                )
            branches.append("VALUES ?this { " + " ".join(str(n) for n in nodes) + " }")
        branches += [
            f"{{ SELECT DISTINCT ?this WHERE {{ ?this {p} [] }} }}" for p in target.subjects_of
        ]
        branches += [
            f"{{ SELECT DISTINCT ?this WHERE {{ [] {p} ?this }} }}" for p in target.objects_of
        ]
        if target.classes:
            branches.append(self.instance_of("?this", target.classes))
        if not branches:
            return "FILTER (false)"
        if len(branches) == 1:
            return branches[0]
        return " UNION ".join(f"{{ {b} }}" for b in branches)


def _as_term(value: object) -> Term:
    if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal):
        return value
    raise TypeError(f"not a term: {value!r}")


def _as_terms(value: object) -> tuple[Term, ...]:
    if isinstance(value, tuple):
        return tuple(_as_term(v) for v in value)
    raise TypeError(f"not a list of terms: {value!r}")


def _as_lit(term: Term, shape: Shape) -> ox.Literal:
    if isinstance(term, ox.Literal):
        return term
    raise UnsupportedShapeError(f"{shape.name}: expected a literal, got {term}")


def _as_shape(value: object) -> Shape:
    if isinstance(value, Shape):
        return value
    raise TypeError(f"not a shape: {value!r}")


def _as_shapes(value: object) -> tuple[Shape, ...]:
    if isinstance(value, tuple):
        return tuple(_as_shape(v) for v in value)
    raise TypeError(f"not a list of shapes: {value!r}")
