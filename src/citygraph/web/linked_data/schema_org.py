"""Each page's schema.org description, embedded as JSON-LD (issue 13 §2).

Search engines and link previews read ``<script type="application/ld+json">``; the full RDF is
one link away (``/doc/….ttl``), so this is the small, well-known part: what the thing is, its
name and description in the page's language, its page, its identifiers elsewhere, and for a
place its coordinates, for an event its dates.

>>> from citygraph.documents import ThingGraph
>>> from citygraph.web.linked_data.pages import ThingView
>>> view = ThingView(iri="https://w3id.org/citygraph/id/city/x", kind="place", title="X",
...     title_lang="", type_links=[], comment="", comment_lang="", facts=[], point=("1", "2"))
>>> described = thing_description(view, ThingGraph(), page="https://example.org/doc/city/x")
>>> described["@type"], described["geo"]["latitude"]
('Place', 1.0)
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from citygraph.documents import ThingGraph
from citygraph.namespaces import CG
from citygraph.web.linked_data.pages import ThingView

__all__ = ["site_description", "thing_description"]

CONTEXT = "https://schema.org"

#: schema.org types of our classes (first match wins); anything else is a schema:Thing.
_TYPES: tuple[tuple[str, str], ...] = (
    (CG + "City", "City"),
    (CG + "Region", "AdministrativeArea"),
    (CG + "District", "AdministrativeArea"),
    (CG + "Country", "Country"),
    (CG + "EventSeries", "EventSeries"),
    (CG + "Event", "Event"),
    (CG + "Source", "CreativeWork"),
    (CG + "Agreement", "CreativeWork"),
)
_BY_KIND = {"organisation": "Organization", "place": "Place"}


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def thing_description(view: ThingView, graph: ThingGraph, *, page: str) -> dict[str, Any]:
    """The schema.org JSON-LD object of the page ``page`` about ``view.iri``."""
    types = graph.types(view.iri)
    schema_type = next((t for c, t in _TYPES if c in types), _BY_KIND.get(view.kind, "Thing"))
    described: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": schema_type,
        "@id": view.iri,
        "name": view.title,
        "url": page,
    }
    if view.comment:
        described["description"] = view.comment
    same = [i.href for i in view.identifiers]
    if same:
        described["sameAs"] = same
    if view.point is not None:
        described["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": _number(view.point[0]),
            "longitude": _number(view.point[1]),
        }
    for prop, name in ((CG + "startDate", "startDate"), (CG + "endDate", "endDate")):
        value = graph.first(view.iri, prop)
        if isinstance(value, ox.Literal) and schema_type in ("Event", "EventSeries"):
            described[name] = value.value
    if view.sources:
        described["isBasedOn"] = [s.href or s.iri for s in view.sources]
    return described


def site_description(*, site: str, name: str, description: str) -> dict[str, Any]:
    """The home page's schema.org ``WebSite`` with its search (a ``SearchAction``)."""
    return {
        "@context": CONTEXT,
        "@type": "WebSite",
        "name": name,
        "description": description,
        "url": site,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": site + "search?q={query}"},
            "query-input": "required name=query",
        },
    }
