"""Finding things by name (issue 13 §1): an index over every label and alternative name.

The index is made once per data version (the data changes only at rebuild; see
:class:`~citygraph.engine.snapshots.Snapshot`), not by a scan per keystroke: every name,
and every word start inside a name, is a key in one sorted list, so a query is a binary search
for its prefix. Names in every language are indexed, so ``Peking``, ``Beijing`` and ``北京`` all
find Beijing; the worldwide layer is included when it is loaded (it is in the same store).

>>> import pyoxigraph as ox
>>> s = ox.Store()
>>> s.load('''@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
... <https://w3id.org/citygraph/id/city/cn-beijing> a <https://w3id.org/citygraph/ontology#City> ;
...   rdfs:label "Peking"@de, "Beijing"@en, "北京"@zh-Hans .
... <https://w3id.org/citygraph/id/city/de-berlin> rdfs:label "Berlin"@en ;
...   skos:altLabel "Ost-Berlin"@de .'''.encode(), format=ox.RdfFormat.TURTLE)
>>> index = SearchIndex.build(s, base="https://w3id.org/citygraph/")
>>> [hit.iri.rsplit("/", 1)[-1] for hit in index.search("pek")]
['cn-beijing']
>>> [hit.iri.rsplit("/", 1)[-1] for hit in index.search("北京")]
['cn-beijing']
>>> [hit.iri.rsplit("/", 1)[-1] for hit in index.search("berlin")]
['de-berlin']
>>> index.search("  ")
[]
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from citygraph.documents import RDF
from citygraph.names import NAME_PROPERTIES, normalise
from citygraph.namespaces import CG, PREFIXES

__all__ = ["Hit", "SearchIndex"]

#: Kinds of thing, most wanted first (places before the partnerships named after them).
_RANK: tuple[str, ...] = (
    CG + "City",
    CG + "Region",
    CG + "District",
    CG + "Country",
    CG + "Partnership",
    PREFIXES["org"] + "Organization",
    CG + "EventSeries",
    CG + "Event",
    CG + "Agreement",
    CG + "Source",
)

#: Longest query looked up (longer text is cut: no name is that long).
MAX_QUERY = 200

#: Index keys read at most per query: a one-letter prefix on the worldwide layer matches tens
#: of thousands; whole names sort first among equal prefixes, so the best are within the bound.
MAX_SCANNED = 2000

#: A word start inside a name: a letter or digit after anything else (space, dash, bracket).
_WORD_START = re.compile(r"(?<=\W)\w")


@dataclass(frozen=True)
class Hit:
    """One thing found: its IRI, its class (``""``: none of ours), and the name that matched."""

    iri: str
    kind: str
    matched: str
    matched_language: str


@dataclass(frozen=True)
class _Name:
    iri: str
    text: str
    language: str


class SearchIndex:
    """Every name of every thing under a base IRI, searchable by prefix of any word."""

    def __init__(self, names: Iterable[_Name], kinds: dict[str, str]) -> None:
        self._names = list(names)
        self._kinds = kinds
        keys: list[tuple[str, int, int]] = []
        for number, name in enumerate(self._names):
            text = normalise(name.text)
            keys.append((text, 0, number))
            for match in _WORD_START.finditer(text):
                keys.append((text[match.start() :], 1, number))
        keys.sort()
        self._keys = keys
        self._texts = [k[0] for k in keys]
        self._rank = [
            _RANK.index(kinds[n.iri]) if kinds.get(n.iri) in _RANK else len(_RANK)
            for n in self._names
        ]

    def __len__(self) -> int:
        return len(self._names)

    @classmethod
    def build(cls, target: ox.Store, *, base: str) -> SearchIndex:
        """The index of every name (:data:`NAME_PROPERTIES`) of IRIs under ``base`` in ``target``.

        Reads the store's indexes directly (one pattern per name property), in every graph.
        """
        names: list[_Name] = []
        rdf_type = ox.NamedNode(RDF + "type")
        # the kind of each thing: one index scan per class we rank (not one lookup per thing)
        kinds: dict[str, str] = {}
        for klass in reversed(_RANK):
            for quad in target.quads_for_pattern(None, rdf_type, ox.NamedNode(klass), None):
                if isinstance(quad.subject, ox.NamedNode):
                    kinds[quad.subject.value] = klass  # reversed: the best-ranked class wins
        for prop in NAME_PROPERTIES:
            for quad in target.quads_for_pattern(None, ox.NamedNode(prop), None, None):
                subject, value = quad.subject, quad.object
                if not isinstance(subject, ox.NamedNode) or not isinstance(value, ox.Literal):
                    continue
                if not subject.value.startswith(base + "id/"):
                    continue
                names.append(_Name(subject.value, value.value, (value.language or "").lower()))
        unique = {(n.iri, n.text, n.language): n for n in names}
        return cls(sorted(unique.values(), key=lambda n: (n.iri, n.language, n.text)), kinds)

    def search(self, query: str, *, limit: int = 20) -> list[Hit]:
        """Things with a name, or a word in a name, that starts with ``query``; best first.

        Whole-name matches come before word matches, then the kinds people look for most
        (places first), then shorter names. At most ``limit`` things, each once.
        """
        wanted = normalise(query[:MAX_QUERY])
        if not wanted:
            return []
        start = bisect.bisect_left(self._texts, wanted)
        found: dict[str, tuple[tuple[int, int, int, int, str], Hit]] = {}
        for position in range(start, min(start + MAX_SCANNED, len(self._keys))):
            text, word, number = self._keys[position]
            if not text.startswith(wanted):
                break
            name = self._names[number]
            exact = 0 if text == wanted and word == 0 else 1
            key = (exact, word, self._rank[number], len(name.text), name.iri)
            best = found.get(name.iri)
            if best is None or key < best[0]:
                kind = self._kinds.get(name.iri, "")
                found[name.iri] = (key, Hit(name.iri, kind, name.text, name.language))
        return [hit for _, hit in sorted(found.values(), key=lambda item: item[0])[:limit]]
