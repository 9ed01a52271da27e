"""Canonical IRIs and this server's own addresses.

The data always uses the canonical base (``Settings.base_iri``, ``https://w3id.org/citygraph/``);
a server answering at another address (``http://127.0.0.1:8000/``) maps that base to its own for
every link it shows, so pages can be followed locally and in production alike. The RDF documents
keep the canonical IRIs.

>>> links = Links("https://w3id.org/citygraph/", "http://127.0.0.1:8000/")
>>> links.href("https://w3id.org/citygraph/id/city/de-berlin")
'http://127.0.0.1:8000/doc/city/de-berlin'
>>> links.href("https://w3id.org/citygraph/ontology#City")
'http://127.0.0.1:8000/ontology#City'
>>> links.href("https://w3id.org/citygraph/graph/curated") is None
True
>>> links.href("http://www.wikidata.org/entity/Q64")
'http://www.wikidata.org/entity/Q64'
>>> Links("https://w3id.org/citygraph/", "/", language="de").href(
...     "https://w3id.org/citygraph/vocab/theme/sport")
'/vocab/theme/sport?lang=de'
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["SERVED_PREFIXES", "Links"]

#: Paths under the base that this server answers (anything else under the base is not linked).
SERVED_PREFIXES: tuple[str, ...] = (
    "id/",
    "doc/",
    "vocab/",
    "ontology",
    "shapes",
    "dataset",
    "dumps/",
    "sparql",
)


@dataclass(frozen=True)
class Links:
    """Turns canonical IRIs into links on this server (``local`` ends with ``/``).

    ``language`` is carried along as ``?lang=`` when the reader chose it with the parameter.
    """

    canonical: str
    local: str
    language: str | None = None

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` should point; ``None`` if this server does not answer it."""
        if not iri.startswith(self.canonical):
            return iri if iri.startswith(("http://", "https://")) else None
        rest = iri[len(self.canonical) :]
        if not rest.startswith(SERVED_PREFIXES):
            return None
        if rest.startswith("id/"):
            rest = "doc/" + rest[3:]
        path, hash_, fragment = rest.partition("#")
        return self.local + self._with_lang(path) + hash_ + fragment

    def path(self, path: str) -> str:
        """A link to one of this server's own pages (``path`` without leading ``/``)."""
        return self.local + self._with_lang(path)

    def _with_lang(self, path: str) -> str:
        if not self.language:
            return path
        return path + ("&" if "?" in path else "?") + "lang=" + quote(self.language)

    def canonical_iri(self, path: str) -> str:
        """The canonical IRI for a path on this server (``id/city/de-berlin``)."""
        return self.canonical + path
