"""Rendering a graph comparison (:func:`citygraph.diff.compare`) for people, tools and PRs.

``text`` for a terminal, ``markdown`` for a pull-request comment, ``json`` for tools. Text and
Markdown are in the reader's language (en, de, zh-Hans): the words of this module, and the
names of classes and properties from the ontology's ``rdfs:label`` (:class:`Labels`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final
from typing import Literal as TypingLiteral

from rdflib import RDFS, Graph, URIRef
from rdflib.namespace import SKOS

from citygraph.diff import ThingChange
from citygraph.report import compact

__all__ = ["DiffFormat", "Labels", "render_diff"]

DiffFormat = TypingLiteral["text", "json", "markdown"]

_WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "added": "added",
        "removed": "removed",
        "changed": "changed",
        "summary": "{n} things differ: {a} added, {c} changed, {r} removed",
        "none": "no differences",
        "title": "What this change changes",
    },
    "de": {
        "added": "hinzugefügt",
        "removed": "entfernt",
        "changed": "geändert",
        "summary": "{n} Dinge unterscheiden sich: {a} hinzugefügt, {c} geändert, {r} entfernt",
        "none": "keine Unterschiede",
        "title": "Was diese Änderung ändert",
    },
    "zh-Hans": {
        "added": "新增",
        "removed": "删除",
        "changed": "修改",
        "summary": "共 {n} 项不同：新增 {a} 项，修改 {c} 项，删除 {r} 项",  # noqa: RUF001
        "none": "没有不同",
        "title": "此次修改改变了什么",
    },
}
_MARKS: Final = {"added": "+", "removed": "-", "changed": "~"}
#: Names of the properties from outside the ontology that every thing has.
_COMMON: Final[Mapping[str, Mapping[str, str]]] = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": {
        "en": "type",
        "de": "Typ",
        "zh-Hans": "类型",
    },
    "http://www.w3.org/2000/01/rdf-schema#label": {
        "en": "label",
        "de": "Bezeichnung",
        "zh-Hans": "标签",
    },
    "http://www.w3.org/ns/prov#wasDerivedFrom": {"en": "source", "de": "Quelle", "zh-Hans": "来源"},
}


class Labels:
    """Names of IRIs in a language, from ``rdfs:label``/``skos:prefLabel`` of a graph.

    >>> from rdflib import Graph
    >>> g = Graph().parse(data='<http://e/x> <http://www.w3.org/2000/01/rdf-schema#label> '
    ...     '"start date"@en, "Beginn"@de .', format="turtle")
    >>> Labels(g).name("http://e/x", "de")
    'Beginn'
    >>> Labels(g).name("http://e/y", "de")
    '<http://e/y>'
    """

    def __init__(self, graph: Graph | None = None) -> None:
        self._names: dict[str, dict[str, str]] = {k: dict(v) for k, v in _COMMON.items()}
        for predicate in (RDFS.label, SKOS.prefLabel):
            for subject, _, label in (graph or Graph()).triples((None, predicate, None)):
                language = getattr(label, "language", None) or "en"
                if isinstance(subject, URIRef):
                    self._names.setdefault(str(subject), {}).setdefault(language, str(label))

    def name(self, iri: str, lang: str) -> str:
        """The label of ``iri`` in ``lang`` (else English), else its prefixed name."""
        names = self._names.get(iri, {})
        return names.get(lang) or names.get("en") or compact(f"<{iri}>")

    def value(self, text: str, lang: str) -> str:
        """A value in N-Triples form for people: a named IRI by its label, else compacted."""
        if text.startswith("<") and text.endswith(">") and text[1:-1] in self._names:
            return self.name(text[1:-1], lang)
        return compact(text)


def render_diff(
    changes: Sequence[ThingChange],
    *,
    fmt: DiffFormat,
    lang: str,
    labels: Labels | None = None,
    base: str = "",
    target: str = "",
) -> str:
    """Render ``changes`` in ``fmt``; ``base`` and ``target`` name the two sides.

    Raises:
        ValueError: ``fmt`` is not ``text``, ``json`` or ``markdown``.

    >>> render_diff([], fmt="text", lang="de")
    'keine Unterschiede\\n'
    """
    names = labels or Labels()
    words = _WORDS.get(lang, _WORDS["en"])
    if fmt == "json":
        return _json(changes, base, target)
    if fmt == "text":
        return _text(changes, words, names, lang)
    if fmt == "markdown":
        return _markdown(changes, words, names, lang, base, target)
    raise ValueError(f"unknown diff format: {fmt!r}")


def _summary(changes: Sequence[ThingChange], words: Mapping[str, str]) -> str:
    if not changes:
        return words["none"]
    count = {kind: sum(1 for c in changes if c.kind == kind) for kind in _MARKS}
    return words["summary"].format(
        n=len(changes), a=count["added"], c=count["changed"], r=count["removed"]
    )


def _heading(change: ThingChange, names: Labels, lang: str) -> tuple[str, str]:
    types = ", ".join(names.name(t, lang) for t in change.types)
    return compact(_iri_text(change.node)), types


def _iri_text(node: str) -> str:
    return node if node.startswith("[") else f"<{node}>"


def _lines(change: ThingChange, names: Labels, lang: str) -> list[tuple[str, str, str]]:
    """``(mark, property name, value text)`` for each difference of one thing."""
    lines = [
        ("~", names.name(p, lang), f"{names.value(old, lang)} → {names.value(new, lang)}")
        for p, old, new in change.changed
    ]
    lines += [("+", names.name(p, lang), names.value(v, lang)) for p, v in change.added]
    lines += [("-", names.name(p, lang), names.value(v, lang)) for p, v in change.removed]
    return lines


def _text(
    changes: Sequence[ThingChange], words: Mapping[str, str], names: Labels, lang: str
) -> str:
    out = []
    for change in changes:
        node, types = _heading(change, names, lang)
        kind = words[change.kind]
        out.append(
            f"{_MARKS[change.kind]} {node}" + (f"  ({types})" if types else "") + f"  {kind}"
        )
        for mark, name, value in _lines(change, names, lang):
            out.append(f"    {mark} {name}: {value}")
    if out:
        out.append("")
    out.append(_summary(changes, words))
    return "\n".join(out) + "\n"


def _markdown(
    changes: Sequence[ThingChange],
    words: Mapping[str, str],
    names: Labels,
    lang: str,
    base: str,
    target: str,
) -> str:
    sides = f" ({base} → {target})" if base and target else ""
    out = [f"### {words['title']}{sides}", "", _summary(changes, words)]
    for change in changes:
        node, types = _heading(change, names, lang)
        kind = words[change.kind]
        suffix = f" ({types})" if types else ""
        out += ["", f"**{_MARKS[change.kind]} `{node}`**{suffix}: {kind}", ""]
        for mark, name, value in _lines(change, names, lang):
            out.append(f"- {mark} {name}: `{value}`")
    return "\n".join(out) + "\n"


def _json(changes: Sequence[ThingChange], base: str, target: str) -> str:
    items = [
        {
            "node": change.node,
            "change": change.kind,
            "types": list(change.types),
            "added": [{"predicate": p, "value": v} for p, v in change.added],
            "removed": [{"predicate": p, "value": v} for p, v in change.removed],
            "changed": [{"predicate": p, "from": a, "to": b} for p, a, b in change.changed],
        }
        for change in changes
    ]
    count = {kind: sum(1 for c in changes if c.kind == kind) for kind in _MARKS}
    document = {"base": base, "target": target, "summary": count, "things": items}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
