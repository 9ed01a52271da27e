"""The "Identifiers" block of a page: the thing in Wikidata, GeoNames, DBpedia … (issue 13 §2).

``owl:sameAs`` and ``skos:exactMatch`` links are identifiers in other registries, not facts to
read as "same as: wd:Q64"; each is shown with the registry's name and the identifier in it.

>>> identify("http://www.wikidata.org/entity/Q64")
Identifier(registry='Wikidata', code='Q64', href='https://www.wikidata.org/wiki/Q64')
>>> identify("https://sws.geonames.org/2950159/")
Identifier(registry='GeoNames', code='2950159', href='https://www.geonames.org/2950159')
>>> identify("https://example.org/x").registry
''
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citygraph.namespaces import PREFIXES

__all__ = ["IDENTIFIER_PROPERTIES", "Identifier", "identify"]

#: Properties whose values are the thing's identifiers in other registries.
IDENTIFIER_PROPERTIES: tuple[str, ...] = (
    PREFIXES["owl"] + "sameAs",
    PREFIXES["skos"] + "exactMatch",
)

#: Registries: (name, IRI pattern with the code as group 1, page of the code).
_REGISTRIES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "Wikidata",
        re.compile(r"https?://www\.wikidata\.org/entity/(Q\d+)"),
        "https://www.wikidata.org/wiki/{}",
    ),
    ("GeoNames", re.compile(r"https?://sws\.geonames\.org/(\d+)/?"), "https://www.geonames.org/{}"),
    ("DBpedia", re.compile(r"https?://dbpedia\.org/resource/(.+)"), "https://dbpedia.org/page/{}"),
    ("VIAF", re.compile(r"https?://viaf\.org/viaf/(\d+)"), "https://viaf.org/viaf/{}"),
    ("GND", re.compile(r"https?://d-nb\.info/gnd/([0-9X-]+)"), "https://d-nb.info/gnd/{}"),
    (
        "OpenStreetMap",
        re.compile(r"https?://www\.openstreetmap\.org/(relation/\d+)"),
        "https://www.openstreetmap.org/{}",
    ),
)


@dataclass(frozen=True)
class Identifier:
    """One identifier: the registry's name (``""``: unknown), the code in it, and its page."""

    registry: str
    code: str
    href: str


def identify(iri: str) -> Identifier:
    """The registry and code of ``iri`` (an unknown registry keeps the whole IRI as code)."""
    for name, pattern, page in _REGISTRIES:
        match = pattern.fullmatch(iri)
        if match:
            return Identifier(name, match.group(1), page.format(match.group(1)))
    return Identifier("", iri, iri)
