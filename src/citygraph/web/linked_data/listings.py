"""The index pages: all partnerships (filterable), all places, all sources.

Filters are plain query parameters of a GET form (``/partnerships?country=cn&status=active``),
so they work without JavaScript and every filtered view has its own address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from citygraph import indexes
from citygraph.engine.snapshots import Snapshot
from citygraph.web.i18n import differs, fallback_mark, pick_tagged
from citygraph.web.linked_data.pages import Link
from citygraph.web.linked_data.site import Reader, Site
from citygraph.web.problems import BadRequestError

__all__ = [
    "PAGE_SIZE",
    "BadParameterError",
    "int_parameter",
    "partnerships_page",
    "places_page",
    "search_results",
    "sources_page",
]

PAGE_SIZE = 100
#: Above this many places the place filter is a text field instead of a list.
MAX_PLACE_OPTIONS = 400


@dataclass(frozen=True)
class Option:
    """One choice of a filter: its value, its label, whether it is chosen."""

    value: str
    text: str
    selected: bool


class _Namer:
    def __init__(self, site: Site, snap: Snapshot, reader: Reader) -> None:
        self.labels = site.labels(snap)
        self.language = reader.language
        self.links = reader.links(site.settings)

    def name(self, iri: str) -> str:
        return self.tagged(iri)[0]

    def marked(self, iri: str) -> str:
        """The name, followed by its language when that is not the reader's."""
        text, tag = self.tagged(iri)
        return text + fallback_mark(tag, self.language)

    def tagged(self, iri: str) -> tuple[str, str]:
        labels = self.labels.get(iri, {})
        text, tag = pick_tagged(labels, self.language, fallback=iri.rsplit("/", 1)[-1])
        return text, differs(tag, self.language)

    def link(self, iri: str) -> Link:
        if not iri:
            return Link("")
        text, lang = self.tagged(iri)
        return Link(text, self.links.href(iri), iri, lang)


#: A year or page number: ASCII digits only (``str.isdigit`` also accepts "²", which ``int``
#: refuses), and few of them (``int`` refuses more than 4,300 digits; no page or year needs 10).
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


class BadParameterError(BadRequestError):
    """A query parameter of an index page that is not what the page takes (answered with 400).

    A :class:`~citygraph.web.problems.BadRequestError`, the web layer's one error type for HTTP
    problems: the pages catch it to answer with the site's error page, and one that escapes is
    still a 400, never a 500.
    """

    def __init__(self, name: str, value: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        super().__init__(f"{name} must be a whole number of at most 9 digits, not {shown!r}")
        self.name = name


def int_parameter(params: Mapping[str, str], name: str) -> int | None:
    """The whole number in parameter ``name`` (``None`` when absent or empty).

    >>> int_parameter({"page": " 2 "}, "page"), int_parameter({}, "page")
    (2, None)

    Raises:
        BadParameterError: the value is not ASCII digits (with an optional minus), or too long.
    """
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise BadParameterError(name, value)
    return int(text)


def _options(values: set[str], prefix: str, chosen: str, namer: _Namer) -> list[Option]:
    # A name in another language is marked in the text: an <option> can carry no other markup.
    options = [
        Option(v[len(prefix) :], namer.marked(v), v[len(prefix) :] == chosen)
        for v in values
        if v.startswith(prefix)
    ]
    return sorted(options, key=lambda o: o.text.lower())


def _pager(
    reader: Reader, path: str, params: Mapping[str, str], page: int, total: int, size: int
) -> dict[str, Any]:
    pages = max(1, -(-total // size))
    kept = {k: v for k, v in params.items() if k != "page" and v}

    def url(number: int) -> str:
        query = dict(kept, page=str(number)) if number > 1 else kept
        return reader.local_base + path + ("?" + urlencode(query) if query else "")

    return {
        "page": page,
        "pages": pages,
        "previous": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
    }


def partnerships_page(
    site: Site, snap: Snapshot, reader: Reader, params: Mapping[str, str]
) -> dict[str, Any]:
    """The context of ``/partnerships``.

    Raises:
        BadParameterError: a year (``from``, ``to``) or the page is not a whole number.
    """
    base = site.settings.base_iri
    since = int_parameter(params, "from")
    until = int_parameter(params, "to")
    page = max(1, int_parameter(params, "page") or 1)
    chosen = {k: (params.get(k) or "").strip() for k in ("place", "country", "type", "status")}

    def iri(key: str, prefix: str) -> str | None:
        return prefix + chosen[key] if chosen[key] else None

    everything = snap.cached("partnerships", lambda: indexes.list_partnerships(snap.store))
    rows = indexes.filter_partnerships(
        everything,
        place=iri("place", base + "id/"),
        country=iri("country", base + "id/country/"),
        partnership_type=iri("type", base + "vocab/partnership-type/"),
        status=iri("status", base + "vocab/status/"),
        since=since,
        until=until,
    )
    namer = _Namer(site, snap, reader)
    places = {p for r in everything for p in r.partners}
    start = (page - 1) * PAGE_SIZE
    shown = [
        {
            "partnership": namer.link(r.iri),
            "partners": [namer.link(p) for p in r.partners],
            "type": namer.link(r.type),
            "status": namer.link(r.status),
            "start": r.start,
            "end": r.end,
        }
        for r in rows[start : start + PAGE_SIZE]
    ]
    return {
        "rows": shown,
        "total": len(rows),
        "chosen": chosen,
        "since": "" if since is None else str(since),
        "until": "" if until is None else str(until),
        "place_options": (
            _options(places, base + "id/", chosen["place"], namer)
            if len(places) <= MAX_PLACE_OPTIONS
            else None
        ),
        "country_options": _options(
            {c for r in everything for c in r.countries},
            base + "id/country/",
            chosen["country"],
            namer,
        ),
        "type_options": _options(
            {r.type for r in everything}, base + "vocab/partnership-type/", chosen["type"], namer
        ),
        "status_options": _options(
            {r.status for r in everything}, base + "vocab/status/", chosen["status"], namer
        ),
        **_pager(reader, "partnerships", params, page, len(rows), PAGE_SIZE),
    }


def places_page(
    site: Site, snap: Snapshot, reader: Reader, params: Mapping[str, str]
) -> dict[str, Any]:
    """The context of ``/places``.

    Raises:
        BadParameterError: the page is not a whole number.
    """
    base = site.settings.base_iri
    page = max(1, int_parameter(params, "page") or 1)
    country = (params.get("country") or "").strip()
    everything = snap.cached("places", lambda: indexes.list_places(snap.store))
    rows = [r for r in everything if not country or r.country == base + "id/country/" + country]
    namer = _Namer(site, snap, reader)
    size = PAGE_SIZE * 2
    start = (page - 1) * size
    shown = [
        {
            "place": namer.link(r.iri),
            "kind": namer.link(r.kind),
            "country": namer.link(r.country),
            "partnerships": r.partnerships,
            "events": r.events,
            "organisations": r.organisations,
            "agreements": r.agreements,
        }
        for r in rows[start : start + size]
    ]
    return {
        "rows": [r for r in shown if r["partnerships"]],
        "others": [r for r in shown if not r["partnerships"]],
        "total": len(rows),
        "country_options": _options(
            {r.country for r in everything}, base + "id/country/", country, namer
        ),
        **_pager(reader, "places", params, page, len(rows), size),
    }


def sources_page(site: Site, snap: Snapshot, reader: Reader) -> dict[str, Any]:
    """The context of ``/sources``."""
    namer = _Namer(site, snap, reader)
    rows = snap.cached("sources", lambda: indexes.list_sources(snap.store))
    return {
        "rows": [
            {
                "source": namer.link(r.iri),
                "publisher": r.publisher,
                "language": r.language,
                "url": r.url,
                "facts": r.facts,
            }
            for r in rows
        ],
        "total": len(rows),
    }


def search_results(
    site: Site, snap: Snapshot, reader: Reader, query: str, *, limit: int = 20
) -> list[dict[str, str]]:
    """What ``/search?q=`` finds, named in the reader's language (for HTML and JSON alike).

    Each result is ``{"iri", "href", "label", "lang", "kind", "kind_label", "matched",
    "matched_lang"}`` (``lang``: the label's language when it is not the reader's);
    ``matched`` is the name that matched when it is not the label shown (``Peking`` for
    Beijing in English).
    """
    index = site.search_index(snap)
    namer = _Namer(site, snap, reader)
    results = []
    for hit in index.search(query, limit=limit):
        link = namer.link(hit.iri)
        results.append(
            {
                "iri": hit.iri,
                "href": link.href or hit.iri,
                "label": link.text,
                "lang": link.lang,
                "kind": hit.kind,
                "kind_label": namer.name(hit.kind) if hit.kind else "",
                "matched": "" if hit.matched == link.text else hit.matched,
                "matched_lang": differs(hit.matched_language, reader.language),
            }
        )
    return results
