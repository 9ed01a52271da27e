"""Names as a search compares them: one normalisation, and the search keys a build derives.

A name search ("which places are called something with *dussel*?") must ignore case, accents
and spacing. Computing that per label at query time (``LCASE(STR(?label))`` over every label of
every place) is what made the label search one of the heavy queries (docs/performance.md), and
SPARQL cannot fold accents at all. So the build derives, once, one ``cg:searchKey`` per place and
distinct name (docs/model.md), made by :func:`normalise`, the same function the site's search
index uses (:mod:`citygraph.web.linked_data.search`): a query then compares plain lower-case
strings, ``?place cg:searchKey ?key FILTER (CONTAINS(?key, "dussel"))``, or looks one up
exactly, ``?place cg:searchKey "dusseldorf"``.

>>> import pyoxigraph as ox
>>> s = ox.Store()
>>> s.load('''@prefix cg: <https://w3id.org/citygraph/ontology#> .
... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... <https://w3id.org/citygraph/id/city/de-dusseldorf> a cg:City ;
...   rdfs:label "Düsseldorf"@de, "Düsseldorf"@en, "杜塞尔多夫"@zh-Hans .
... <https://w3id.org/citygraph/id/org/x> rdfs:label "Not a place"@en .'''.encode(),
...   format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://w3id.org/citygraph/graph/curated"))
>>> sorted(q.object.value for q in search_keys(s, ox.NamedNode("urn:derived")))
['dusseldorf', '杜塞尔多夫']
"""

from __future__ import annotations

import unicodedata

import pyoxigraph as ox

from citygraph.documents import LABEL_PROPERTIES, RDF
from citygraph.namespaces import CG, PREFIXES

__all__ = ["NAME_PROPERTIES", "PLACE_CLASSES", "SEARCH_KEY", "normalise", "search_keys"]

#: Properties whose values are names of a thing: its labels, then its alternative names.
NAME_PROPERTIES: tuple[str, ...] = (
    *LABEL_PROPERTIES,
    PREFIXES["skos"] + "altLabel",
    PREFIXES["schema"] + "alternateName",
)

#: The kinds of place that get search keys (the partners of partnerships).
PLACE_CLASSES: tuple[str, ...] = (CG + "City", CG + "Region", CG + "District")

#: The derived property: a place's name as a search compares it (docs/model.md).
SEARCH_KEY = CG + "searchKey"


def normalise(text: str) -> str:
    """``text`` as a search compares it: NFKC, case-folded, without accents, spaces collapsed.

    >>> normalise("  Düsseldorf ") == normalise("dusseldorf")
    True
    >>> normalise("Saint-Étienne"), normalise("BERLIN"), normalise("北京")
    ('saint-etienne', 'berlin', '北京')
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFKC", bare).split())


def search_keys(target: ox.Store, graph: ox.NamedNode) -> list[ox.Quad]:
    """The ``cg:searchKey`` quads (in ``graph``) of every place in ``target``: one per place and
    distinct :func:`normalise`-d name (:data:`NAME_PROPERTIES`, any language, any graph), as
    plain strings, in a stable order. Names that normalise to nothing give no key."""
    rdf_type = ox.NamedNode(RDF + "type")
    places: set[str] = set()
    for klass in PLACE_CLASSES:
        for quad in target.quads_for_pattern(None, rdf_type, ox.NamedNode(klass), None):
            if isinstance(quad.subject, ox.NamedNode):
                places.add(quad.subject.value)
    keys: set[tuple[str, str]] = set()
    for prop in NAME_PROPERTIES:
        for quad in target.quads_for_pattern(None, ox.NamedNode(prop), None, None):
            subject, value = quad.subject, quad.object
            if (
                isinstance(subject, ox.NamedNode)
                and subject.value in places
                and isinstance(value, ox.Literal)
            ):
                key = normalise(value.value)
                if key:
                    keys.add((subject.value, key))
    predicate = ox.NamedNode(SEARCH_KEY)
    return [
        ox.Quad(ox.NamedNode(place), predicate, ox.Literal(key), graph)
        for place, key in sorted(keys)
    ]
