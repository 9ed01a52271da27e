"""What a change changes: the graph at a git revision (or in one store) against another.

The comparison is per *thing*: every IRI that is a subject on either side. A blank node is not
a thing of its own but part of the thing that points at it, written by its content
(``[ rdfs:label "x"@en ; … ]``), so that two parses, which label blank nodes differently, compare
equal when they say the same. For each thing the result says whether it was added, removed or
changed, and, per predicate, which values were added or removed (one removed and one added value
is a changed value: a corrected date, a status change).

>>> from rdflib import Graph
>>> old = Graph().parse(data="<http://e/p> <http://e/start> '1990' .", format="turtle")
>>> new = Graph().parse(data="<http://e/p> <http://e/start> '1994' .", format="turtle")
>>> [(c.node, c.kind, c.changed) for c in compare(old, new)]
[('http://e/p', 'changed', (('http://e/start', '"1990"', '"1994"'),))]
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal as TypingLiteral

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from citygraph.errors import CitygraphError, InputSyntaxError
from citygraph.namespaces import GRAPH_META, GRAPH_ONTOLOGY
from citygraph.shacl.graphs import load_graph
from citygraph.shacl.terms import term_text

__all__ = [
    "DiffError",
    "ThingChange",
    "changed_nodes",
    "changed_nodes_between",
    "compare",
    "graph_at_revision",
    "graph_of_files",
    "graph_of_store",
]

Kind = TypingLiteral["added", "removed", "changed"]


class DiffError(CitygraphError):
    """The comparison could not be made: not a git repository, an unknown revision…"""


@dataclass(frozen=True)
class ThingChange:
    """How one thing (an IRI) differs. Values are in N-Triples form (blank nodes by content).

    ``added`` and ``removed`` are ``(predicate, value)`` pairs; ``changed`` are
    ``(predicate, old value, new value)`` for a predicate that lost exactly one value and gained
    exactly one. ``types`` are the thing's ``rdf:type`` IRIs (new side first).
    """

    node: str
    kind: Kind
    types: tuple[str, ...]
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str, str], ...] = ()


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def compare(old: Graph, new: Graph) -> list[ThingChange]:
    """The things that differ between ``old`` and ``new``, sorted by kind then IRI."""
    before, after = _facts(old), _facts(new)
    changes = []
    for node in sorted(before.keys() | after.keys()):
        was, now = before.get(node, set()), after.get(node, set())
        if was == now:
            continue
        types = tuple(sorted({v for p, v in now or was if p == _RDF_TYPE}))
        kind: Kind = "added" if not was else "removed" if not now else "changed"
        added, removed, changed = _pair(now - was, was - now)
        changes.append(
            ThingChange(
                node=node,
                kind=kind,
                types=tuple(t[1:-1] for t in types),
                added=added,
                removed=removed,
                changed=changed,
            )
        )
    order = {"added": 0, "changed": 1, "removed": 2}
    return sorted(changes, key=lambda c: (order[c.kind], c.node))


_Pairs = tuple[tuple[str, str], ...]
_Changes = tuple[tuple[str, str, str], ...]


def _pair(
    added: set[tuple[str, str]], removed: set[tuple[str, str]]
) -> tuple[_Pairs, _Pairs, _Changes]:
    gained: dict[str, list[str]] = defaultdict(list)
    lost: dict[str, list[str]] = defaultdict(list)
    for predicate, value in added:
        gained[predicate].append(value)
    for predicate, value in removed:
        lost[predicate].append(value)
    changed = []
    for predicate in sorted(gained.keys() & lost.keys()):
        if len(gained[predicate]) == 1 and len(lost[predicate]) == 1:
            changed.append((predicate, lost.pop(predicate)[0], gained.pop(predicate)[0]))
    return (
        tuple(sorted((p, v) for p, values in gained.items() for v in values)),
        tuple(sorted((p, v) for p, values in lost.items() for v in values)),
        tuple(changed),
    )


def _facts(graph: Graph) -> dict[str, set[tuple[str, str]]]:
    """Each thing's ``(predicate, value)`` pairs, values with blank nodes written by content."""
    facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    memo: dict[BNode, str] = {}
    for subject, predicate, value in graph:
        if isinstance(subject, BNode):
            if any(True for _ in graph.subjects(None, subject)):
                continue  # part of the thing that points at it
            key = _content(graph, subject, memo, ())
        else:
            key = term_text(subject)
        facts[key].add((term_text(predicate), _value(graph, value, memo)))
    return facts


def _value(graph: Graph, value: Node, memo: dict[BNode, str]) -> str:
    if isinstance(value, BNode):
        return _content(graph, value, memo, ())
    if isinstance(value, URIRef):
        return f"<{value}>"
    return term_text(value)


def _content(graph: Graph, blank: BNode, memo: dict[BNode, str], seen: tuple[BNode, ...]) -> str:
    if blank in memo:
        return memo[blank]
    if blank in seen:
        return "[ … ]"  # a cycle of blank nodes: say so rather than recurse forever
    parts = []
    for predicate, value in graph.predicate_objects(blank):
        text = (
            _content(graph, value, memo, (*seen, blank))
            if isinstance(value, BNode)
            else _value(graph, value, memo)
        )
        parts.append(f"<{predicate}> {text}")
    memo[blank] = "[ " + " ; ".join(sorted(parts)) + " ]" if parts else "[]"
    return memo[blank]


# --- the two sides --------------------------------------------------------------------------


def graph_of_files(paths: Sequence[Path]) -> Graph:
    """The working tree's side: the Turtle and N-Triples files under ``paths``.

    Raises:
        InputSyntaxError: a file does not parse.
    """
    return load_graph([p for p in paths if p.exists()])


def graph_at_revision(paths: Sequence[Path], revision: str) -> Graph:
    """The files under ``paths`` as they were at git ``revision`` (absent then: nothing).

    Raises:
        DiffError: not in a git repository, ``revision`` is not a commit, or a path exists
            neither now nor at ``revision``.
        InputSyntaxError: a file at ``revision`` does not parse (named as ``REV:path``).
    """
    if not paths:
        return Graph()
    where = paths[0].resolve()
    top = Path(_git(where if where.is_dir() else where.parent, "rev-parse", "--show-toplevel"))
    _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    graph = Graph()
    for path in paths:
        relative = path.resolve().relative_to(top).as_posix()
        listed = _git(top, "ls-tree", "-r", "--name-only", revision, "--", relative)
        if not listed and not path.exists():
            raise DiffError(f"{path}: no such file or directory, here or at {revision}")
        for name in listed.splitlines():
            if not name.endswith((".ttl", ".nt")):
                continue
            text = _git(top, "show", f"{revision}:{name}")
            _parse(graph, text, name, revision, top)
    return graph


def changed_nodes(paths: Sequence[Path], revision: str) -> tuple[list[Path], set[str]]:
    """The RDF files under ``paths`` that differ from git ``revision`` (changed, added, deleted
    or untracked), and the IRIs that are subjects in them then or now.

    Raises:
        DiffError: not in a git repository, or ``revision`` is not a commit.
        InputSyntaxError: a changed file does not parse, now or at ``revision``.
    """
    if not paths:
        return [], set()
    where = paths[0].resolve()
    top = Path(_git(where if where.is_dir() else where.parent, "rev-parse", "--show-toplevel"))
    _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    # paths outside this repository (the installed shapes, say) cannot have changed in it
    relative = [
        p.resolve().relative_to(top).as_posix() for p in paths if p.resolve().is_relative_to(top)
    ]
    if not relative:
        return [], set()
    names = _git(top, "diff", "--name-only", revision, "--", *relative).splitlines()
    names += _git(top, "ls-files", "--others", "--exclude-standard", "--", *relative).splitlines()
    files = sorted({top / n for n in names if n.endswith((".ttl", ".nt"))})
    graphs = (graph_at_revision(files, revision), graph_of_files(files))
    subjects = {str(s) for graph in graphs for s in graph.subjects() if isinstance(s, URIRef)}
    return files, subjects


#: Blank nodes are followed this many steps back to the IRIs that refer to them.
_BLANK_DEPTH = 8


def changed_nodes_between(old: ox.Store, new: ox.Store) -> tuple[set[str], set[str]] | None:
    """What an HTTP write validates (:func:`citygraph.engine.writes.transaction`) after a change
    from store ``old`` to store ``new``: the IRIs whose own description changed (the subjects)
    and the IRIs that only gained or lost an edge into them (the IRI objects), or None:
    everything (the ontology changed, or a class hierarchy, or a blank node no IRI refers to).

    Both are read from every quad added or removed in any graph but graph:meta (graph:derived
    included, so derived links count), a blank subject standing for the IRIs that refer to it.
    :func:`citygraph.fastshacl.validate_store` validates the subjects with the IRIs that refer
    to them (``focus``, as ``citygraph validate --changed-only``), the objects alone
    (``focus_alone``: an edge into an IRI matters to its own shapes, ``sh:inversePath`` or
    ``sh:targetObjectsOf``, not to those of what refers to it; a class or a source many
    things cite would otherwise bring all of them). Each graph is compared as its N-Triples dump
    (the stores share blank node labels: ``new`` is a checkpoint of ``old``); an unchanged graph
    costs two dumps and one comparison.
    """
    meta = ox.NamedNode(GRAPH_META)
    graphs: set[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = {ox.DefaultGraph()}
    graphs |= set(old.named_graphs()) | set(new.named_graphs())
    changed: list[tuple[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, bytes]] = []
    for graph in graphs - {meta}:
        before = _dump(old, graph)
        after = _dump(new, graph)
        if before != after:
            differing = set(before.splitlines()) ^ set(after.splitlines())
            changed.append((graph, b"\n".join(sorted(differing))))
    nodes: set[str] = set()
    objects: set[str] = set()
    for graph, lines in changed:
        if graph == ox.NamedNode(GRAPH_ONTOLOGY):
            return None  # classes and their hierarchy: what every shape targets
        for triple in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES):
            if triple.predicate == _SUBCLASS_OF:
                return None
            subject, value = triple.subject, triple.object
            if isinstance(value, ox.NamedNode):
                objects.add(value.value)
            if isinstance(subject, ox.NamedNode):
                nodes.add(subject.value)
            elif isinstance(subject, ox.BlankNode):
                owners = _owners(subject, (old, new))
                if owners is None:
                    return None
                nodes |= owners
    return nodes, objects - nodes


_SUBCLASS_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


def _dump(target: ox.Store, graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bytes:
    return target.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b""


def _owners(blank: ox.BlankNode, stores: Sequence[ox.Store]) -> set[str] | None:
    """The IRIs that refer to ``blank`` (through other blank nodes) in any of ``stores``, or
    None if there are none within :data:`_BLANK_DEPTH` steps."""
    owners: set[str] = set()
    frontier, seen = {blank}, {blank}
    for _ in range(_BLANK_DEPTH):
        referrers = {
            quad.subject
            for target in stores
            for node in frontier
            for quad in target.quads_for_pattern(None, None, node, None)
        }
        owners |= {s.value for s in referrers if isinstance(s, ox.NamedNode)}
        frontier = {s for s in referrers if isinstance(s, ox.BlankNode)} - seen
        seen |= frontier
        if not frontier:
            return owners or None
    return None


def _parse(graph: Graph, text: str, name: str, revision: str, top: Path) -> None:
    fmt = "turtle" if name.endswith(".ttl") else "nt"
    try:
        # the same base as the working tree's parse, so relative IRIs compare equal
        graph.parse(data=text, format=fmt, publicID=(top / name).as_uri())
    except (BadSyntax, ParserError) as error:
        where = Path(f"{revision}:{name}")
        raise InputSyntaxError(str(error).splitlines()[0], path=where) from None


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
        )
    except FileNotFoundError as error:
        raise DiffError("git is not installed") from error
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        if args[:2] == ("rev-parse", "--verify"):
            reason = f"unknown revision {args[-1].removesuffix('^{commit}')!r}"
        raise DiffError(f"git {args[0]}: {reason}")
    return done.stdout.strip() if args[0] == "rev-parse" else done.stdout


def graph_of_store(root: Path) -> Graph:
    """Every triple of the current build of the store at ``root`` (all graphs together).

    Raises:
        StoreNotFoundError: there is no built store at ``root``.
    """
    from citygraph import store

    target, _ = store.open_current(root)
    graph = Graph()
    for quad in target.quads_for_pattern(None, None, None, None):
        graph.add((_rdflib(quad.subject), _rdflib(quad.predicate), _rdflib(quad.object)))
    return graph


def _rdflib(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return RdfLiteral(term.value, lang=term.language)
        return RdfLiteral(term.value, datatype=URIRef(term.datatype.value))
    raise DiffError(f"unsupported term in the store: {term!r}")
