"""Running the compiled queries on a pyoxigraph store and turning rows into results.

For each shape with a target: its focus nodes are a pattern (class, subject-of, object-of
targets) or, for SHACL-AF SPARQL targets, the answer of the target query, run once. Then the
property shapes of a node shape with an IRI path share two queries over all focus nodes at once
(each would otherwise rescan the target class): one for all their value tests (a flag per shape
and constraint says which failed), one for their ``sh:minCount``/``sh:maxCount``. Other paths,
large counts, ``sh:hasValue``, ``sh:uniqueLang`` and qualified counts get a query each. A
SHACL-SPARQL constraint is run once with ``$this`` unbound (or bound by a VALUES clause to the
focus nodes, when there are at most :data:`BIND_FOCUS_LIMIT` of them, and not at all when there
are none) and its rows are kept for the focus nodes of its shape (pySHACL instead runs it once
per focus node with ``$this`` pre-bound; the two agree whenever ``$this`` is bound by the
query's own graph pattern; a query that does not project ``$this`` gets it added to its
projection).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence, Set
from typing import Final

import pyoxigraph as ox

from citygraph.fastshacl.results import Converter, Raw
from citygraph.fastshacl.shapes import (
    RDFS,
    SH,
    Constraint,
    Shape,
    ShapesGraph,
    SparqlConstraint,
    Term,
    UnsupportedShapeError,
)
from citygraph.fastshacl.sparql import (
    FOCUS_LEVEL,
    MAX_UNROLL,
    VALUE_LEVEL,
    Compiler,
    sparql_path,
)
from citygraph.shacl.model import ShapesError, ValidationReport

__all__ = ["run"]

_SPARQL_COMPONENT: Final = SH + "SPARQLConstraintComponent"
_SELECT: Final = re.compile(r"\bSELECT\s+((DISTINCT|REDUCED)\s+)?", re.IGNORECASE)
#: Up to this many focus nodes (all IRIs), a SHACL-SPARQL constraint runs with ``$this`` bound to
#: them instead of over the whole graph: a SPARQL target that picks a few candidates then saves
#: the constraint's whole-graph join (docs/performance.md, build).
BIND_FOCUS_LIMIT: Final = 1_000


class _Runner:
    def __init__(
        self, store: ox.Store, *, files: bool, union: bool, only: str | None = None
    ) -> None:
        self.store = store
        self.files = files
        self.union = union
        self.only = only  # a VALUES clause restricting ?this (--changed-only), or None
        self._subclasses: dict[ox.NamedNode, list[str]] = {}

    def subclasses(self, cls: ox.NamedNode) -> list[str]:
        """``cls`` and its subclasses in the data graph (``rdfs:subClassOf*``), as SPARQL."""
        found = self._subclasses.get(cls)
        if found is None:
            query = f"SELECT DISTINCT ?sub WHERE {{ ?sub <{RDFS}subClassOf>* {cls} }}"
            found = sorted(str(row["sub"]) for row in self.select(query))
            found = [f for f in found if not f.startswith("_:")] or [str(cls)]
            if str(cls) not in found:
                found.append(str(cls))
            self._subclasses[cls] = found
        return found

    def select(self, query: str) -> ox.QuerySolutions:
        """Run a SELECT; a query Oxigraph rejects is a problem of the shapes."""
        try:
            solutions = self.store.query(query, use_default_graph_as_union=self.union)
        except (SyntaxError, OSError) as error:
            raise ShapesError(f"cannot evaluate a shape as SPARQL: {error}\n{query}") from error
        if not isinstance(solutions, ox.QuerySolutions):
            raise ShapesError(f"not a SELECT query:\n{query}")
        return solutions

    # --- one targeted shape --------------------------------------------------------------------

    def shape(self, shape: Shape) -> Iterator[Raw]:
        if shape.deactivated:
            return
        compiler = Compiler(files=self.files, subclasses=self.subclasses)
        extra: list[Term] = []
        for target_query in shape.target.sparql:
            solutions = self.select(self.restricted(target_query))
            if "this" not in {v.value for v in solutions.variables}:
                raise ShapesError(f"{shape.name}: a SPARQL target must select ?this")
            extra += [row["this"] for row in solutions if row["this"] is not None]
        focus = compiler.focus(shape.target, dict.fromkeys(extra))
        if self.only is not None:
            # as a subquery: Oxigraph then starts from these nodes (a VALUES clause beside the
            # class pattern was joined after it, slower than no restriction at all)
            focus = f"{{ SELECT DISTINCT ?this WHERE {{ {self.only} {focus} }} }}"
        if shape.path is None:
            yield from self.node_constraints(shape, focus, compiler)
            properties = [p for p in shape.properties if not p.deactivated]
            grouped = [p for p in properties if _groupable(p)]
            yield from self.grouped_values(grouped, focus, compiler)
            yield from self.grouped_counts(grouped, focus, compiler)
            for prop in properties:
                yield from self.property_shape(prop, focus, compiler, grouped=prop in grouped)
        else:
            yield from self.property_shape(shape, focus, compiler)
        if shape.sparql:
            focus_nodes = {row["this"] for row in self.select(f"SELECT ?this WHERE {{ {focus} }}")}
            for constraint in shape.sparql:
                yield from self.sparql(shape, constraint, focus_nodes)

    def node_constraints(self, shape: Shape, focus: str, compiler: Compiler) -> Iterator[Raw]:
        tests = shape.constraints
        if not tests:
            return
        flags = [f"?_f{i}" for i in range(len(tests))]
        binds = " ".join(
            f"BIND (!({compiler.value_test(c, '?this', shape)}) AS {f})"
            for c, f in zip(tests, flags, strict=True)
        )
        query = (
            f"SELECT DISTINCT ?this {' '.join(flags)} WHERE {{ {focus} {binds} "
            f"FILTER ({' || '.join(flags)}) }}"
        )
        for row in self.select(query):
            for constraint, flag in zip(tests, flags, strict=True):
                if _true(row[flag[1:]]):
                    # pySHACL reports sh:hasValue without a value, like on a property shape
                    value = None if constraint.component == "HasValue" else row["this"]
                    yield self.raw(shape, constraint, row["this"], value, with_path=False)

    def grouped_values(
        self, shapes: Sequence[Shape], focus: str, compiler: Compiler
    ) -> Iterator[Raw]:
        """The value tests of the property shapes ``shapes`` of one node shape (IRI paths) in
        one query: a pass over the focus nodes and their values instead of one per shape (each
        would rescan the target class), a flag per shape and constraint."""
        tests = [(s, c) for s in shapes for c in s.constraints if c.component in VALUE_LEVEL]
        if not tests:
            return
        predicates = sorted({str(s.path) for s, _ in tests})
        flags = [f"?_f{i}" for i in range(len(tests))]
        binds = " ".join(
            f"BIND (IF(sameTerm(?_p, {s.path}), !({compiler.value_test(c, '?value', s)}), false)"
            f" AS {f})"
            for (s, c), f in zip(tests, flags, strict=True)
        )
        query = (
            f"SELECT DISTINCT ?this ?_p ?value {' '.join(flags)} WHERE {{ {focus} "
            f"?this ?_p ?value . FILTER (?_p IN ({', '.join(predicates)})) {binds} "
            f"FILTER ({' || '.join(flags)}) }}"
        )
        for row in self.select(query):
            for (shape, constraint), flag in zip(tests, flags, strict=True):
                if _true(row[flag[1:]]):
                    yield self.raw(shape, constraint, row["this"], row["value"])

    def grouped_counts(
        self, shapes: Sequence[Shape], focus: str, compiler: Compiler
    ) -> Iterator[Raw]:
        """The ``sh:minCount``/``sh:maxCount`` of the property shapes ``shapes`` of one node
        shape in one query over its focus nodes (each an ``EXISTS`` on a few distinct values)."""
        checks = [
            (s, c, f"!({compiler.focus_test(c, '?this', sparql_path(s.path), s)})")
            for s in shapes
            if s.path is not None and _unrolled_counts(s)
            for c in s.constraints
            if c.component in {"MinCount", "MaxCount"}
            and not (c.component == "MinCount" and int(str(c.value)) == 0)
        ]
        if not checks:
            return
        flags = [f"?_c{i}" for i in range(len(checks))]
        binds = " ".join(
            f"BIND ({test} AS {f})" for (_, _, test), f in zip(checks, flags, strict=True)
        )
        query = (
            f"SELECT DISTINCT ?this {' '.join(flags)} WHERE {{ {focus} {binds} "
            f"FILTER ({' || '.join(flags)}) }}"
        )
        for row in self.select(query):
            for (shape, constraint, _), flag in zip(checks, flags, strict=True):
                if _true(row[flag[1:]]):
                    yield self.raw(shape, constraint, row["this"], None)

    def property_shape(
        self, shape: Shape, focus: str, compiler: Compiler, *, grouped: bool = False
    ) -> Iterator[Raw]:
        """The constraints of one property shape; with ``grouped``, without those that
        :meth:`grouped_values` and :meth:`grouped_counts` checked."""
        if shape.properties:
            raise ShapesError(
                f"{shape.name}: sh:property on a property shape is not supported by "
                "citygraph.fastshacl"
            )
        assert shape.path is not None
        path = sparql_path(shape.path)
        values = [c for c in shape.constraints if c.component in VALUE_LEVEL]
        if values and not grouped:
            flags = [f"?_f{i}" for i in range(len(values))]
            binds = " ".join(
                f"BIND (!({compiler.value_test(c, '?value', shape)}) AS {f})"
                for c, f in zip(values, flags, strict=True)
            )
            query = (
                f"SELECT DISTINCT ?this ?value {' '.join(flags)} WHERE {{ {focus} "
                f"?this {path} ?value . {binds} FILTER ({' || '.join(flags)}) }}"
            )
            for row in self.select(query):
                for constraint, flag in zip(values, flags, strict=True):
                    if _true(row[flag[1:]]):
                        yield self.raw(shape, constraint, row["this"], row["value"])
        focus_level = [c for c in shape.constraints if c.component in FOCUS_LEVEL]
        counts = [c for c in focus_level if c.component in {"MinCount", "MaxCount"}]
        if counts and not (grouped and _unrolled_counts(shape)):
            yield from self.counts(shape, counts, focus, path)
        for constraint in focus_level:
            if constraint.component == "HasValue":
                value = compiler.term(constraint.value, shape)
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {focus} "
                    f"FILTER NOT EXISTS {{ ?this {path} {value} }} }}"
                )
                for row in self.select(query):
                    yield self.raw(shape, constraint, row["this"], None)
            elif constraint.component == "UniqueLang" and constraint.value is True:
                query = (
                    f"SELECT ?this ?lang WHERE {{ {focus} ?this {path} ?value . "
                    f'FILTER (isLiteral(?value) && LANG(?value) != "") '
                    f"BIND (LCASE(LANG(?value)) AS ?lang) }} GROUP BY ?this ?lang "
                    f"HAVING (COUNT(DISTINCT ?value) > 1)"
                )
                for row in self.select(query):
                    yield self.raw(shape, constraint, row["this"], None)
            elif constraint.component == "QualifiedValueShape":
                yield from self.qualified(shape, constraint, focus, path, compiler)

    def counts(
        self, shape: Shape, counts: list[Constraint], focus: str, path: str
    ) -> Iterator[Raw]:
        low = max((int(str(c.value)) for c in counts if c.component == "MinCount"), default=0)
        highs = [int(str(c.value)) for c in counts if c.component == "MaxCount"]
        high = min(highs) if highs else None
        if 0 < low <= 3 and high is None:
            # Fewer than n distinct values: no n pairwise different values (cheaper than counting).
            names = [f"?_n{i}" for i in range(low)]
            different = " && ".join(
                f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)
            )
            where = f" FILTER ({different})" if different else ""
            query = (
                f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} "
                f"{', '.join(names)} .{where} }} }}"
            )
            for row in self.select(query):
                for constraint in counts:
                    yield self.raw(shape, constraint, row["this"], None)
            return
        conditions = []
        if low > 0:
            conditions.append(f"COUNT(DISTINCT ?value) < {low}")
        if high is not None:
            conditions.append(f"COUNT(DISTINCT ?value) > {high}")
        if not conditions:
            return
        pattern = f"OPTIONAL {{ ?this {path} ?value }}" if low > 0 else f"?this {path} ?value ."
        query = (
            f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} {pattern} }} "
            f"GROUP BY ?this HAVING ({' || '.join(conditions)})"
        )
        for row in self.select(query):
            n = int(_value(row["n"]))
            for constraint in counts:
                bound = int(str(constraint.value))
                failed = n < bound if constraint.component == "MinCount" else n > bound
                if failed:
                    yield self.raw(shape, constraint, row["this"], None)

    def qualified(
        self, shape: Shape, constraint: Constraint, focus: str, path: str, compiler: Compiler
    ) -> Iterator[Raw]:
        assert isinstance(constraint.value, tuple)
        value_shape, low, high = constraint.value
        conditions = []
        if low is not None:
            conditions.append(f"COUNT(DISTINCT ?value) < {low}")
        if high is not None:
            conditions.append(f"COUNT(DISTINCT ?value) > {high}")
        if not conditions:
            return
        test = compiler.conforms(value_shape, "?value")
        query = (
            f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} "
            f"OPTIONAL {{ ?this {path} ?value FILTER ({test}) }} }} "
            f"GROUP BY ?this HAVING ({' || '.join(conditions)})"
        )
        for row in self.select(query):
            n = int(_value(row["n"]))
            if low is not None and n < low:
                yield self.raw(shape, constraint, row["this"], None, component="QualifiedMinCount")
            if high is not None and n > high:
                yield self.raw(shape, constraint, row["this"], None, component="QualifiedMaxCount")

    def restricted(self, query: str, only: str | None = None) -> str:
        """``query`` with ``?this`` bound to the --changed-only nodes (or to ``only``, a VALUES
        clause) at the start of its outer group (the rows a filter on ``?this`` would keep,
        without evaluating the others)."""
        only = only or self.only
        select = _SELECT.search(query)
        if only is None or select is None:
            return query
        opening = query.find("{", select.end())
        if opening < 0:
            return query
        return f"{query[: opening + 1]} {only} {query[opening + 1 :]}"

    def sparql(
        self, shape: Shape, constraint: SparqlConstraint, focus_nodes: set[Term | None]
    ) -> Iterator[Raw]:
        if not focus_nodes:
            return  # no focus node, no result: the whole-graph query need not run
        bound = None
        if len(focus_nodes) <= BIND_FOCUS_LIMIT and all(
            isinstance(n, ox.NamedNode) for n in focus_nodes
        ):
            bound = "VALUES ?this { " + " ".join(sorted(str(n) for n in focus_nodes)) + " }"
        query = self.restricted(constraint.select, bound)
        if shape.path is not None:
            query = query.replace("$PATH", sparql_path(shape.path))
        solutions = self.select(query)
        names = {v.value for v in solutions.variables}
        if "this" not in names:
            # pySHACL pre-binds $this, so it need not be projected; here the query runs once
            # for all focus nodes, so $this is added to the projection to know whose row it is.
            query = _SELECT.sub(lambda m: f"{m.group(0)}?this ", query, count=1)
            try:
                solutions = self.select(query)
            except ShapesError as error:
                raise UnsupportedShapeError(
                    f"{shape.name}: SPARQL constraint {constraint.node} cannot be run for all "
                    f"focus nodes at once with $this added to its projection: {error}"
                ) from error
            names = {v.value for v in solutions.variables}
        if "failure" in names:
            raise ShapesError(f"{constraint.node}: ?failure in SPARQL constraints is not supported")
        rows = ((row["this"], row) for row in solutions if row["this"] in focus_nodes)
        seen: set[tuple[object, ...]] = set()
        for focus, row in rows:
            key = (focus, *(row[name] for name in sorted(names)))
            if key in seen:
                continue
            seen.add(key)
            value = row["value"] if "value" in names else None
            path = row["path"] if "path" in names else None
            if value is None and shape.path is None:
                value = focus
            yield Raw(
                focus=focus,
                shape=shape,
                component=_SPARQL_COMPONENT,
                severity=shape.severity,
                value=value,
                with_path=shape.path is not None or path is not None,
                constraint=constraint,
                path_override=path,
            )

    def raw(
        self,
        shape: Shape,
        constraint: Constraint,
        focus: Term | None,
        value: Term | None,
        *,
        with_path: bool = True,
        component: str | None = None,
    ) -> Raw:
        if focus is None:
            raise ShapesError(f"{shape.name}: a query returned no focus node")
        return Raw(
            focus=focus,
            shape=shape,
            component=f"{SH}{component or constraint.component}ConstraintComponent",
            severity=shape.severity,
            value=value,
            with_path=with_path and shape.path is not None,
        )


def _groupable(shape: Shape) -> bool:
    """Whether a property shape's value tests and counts can share its node shape's queries."""
    return isinstance(shape.path, ox.NamedNode) and not shape.properties


def _unrolled_counts(shape: Shape) -> bool:
    """Whether every count of ``shape`` is small enough for an ``EXISTS`` on distinct values."""
    return all(
        int(str(c.value)) + (c.component == "MaxCount") <= MAX_UNROLL
        for c in shape.constraints
        if c.component in {"MinCount", "MaxCount"}
    )


def _true(term: Term | None) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


def _value(term: Term | None) -> str:
    if isinstance(term, ox.Literal):
        return term.value
    raise ShapesError(f"expected a literal, got {term}")


def run(
    store: ox.Store,
    shapes: ShapesGraph,
    *,
    files: bool,
    union: bool,
    focus: Set[str] | None = None,
) -> ValidationReport:
    """Validate the data in ``store`` against ``shapes`` (only the IRIs ``focus``, if given).

    The data is the default graph of ``store`` or, with ``union``, the union of all its graphs
    (a built store keeps every layer in its own named graph). ``files`` says the store was filled by
    :func:`~citygraph.fastshacl.loading.load_files`, with surrogate datatypes for the integer
    subtypes; otherwise (a built store) ``sh:datatype xsd:positiveInteger`` and the like accept
    an ``xsd:integer`` in range, since the store no longer knows which subtype was written.

    Raises:
        ShapesError: a shape compiles to a query Oxigraph rejects.
    """
    if focus is not None and not focus:
        return ValidationReport(results=())
    only = None
    if focus is not None:
        only = "VALUES ?this { " + " ".join(str(ox.NamedNode(n)) for n in sorted(focus)) + " }"
    raws = [
        raw
        for shape in shapes.targeted
        for raw in _Runner(store, files=files, union=union, only=only).shape(shape)
    ]
    converter = Converter()
    return ValidationReport.of(converter.result(raw) for raw in raws)
