"""The browser side of issue 4 (§3 query UI, §4 map and timeline) and the files it needs.

Routes (see :func:`create_router`):

- ``GET /sparql-ui``: YASGUI pointed at our own ``/sparql``, every ``queries/*.rq`` a ready tab;
  :func:`render_query_ui` is the same page for the endpoint's HTML answer to a browser GET of
  ``/sparql`` without a query.
- ``GET /map``: a world map of the partnerships with filters (city, country, type, status,
  period); ``GET /timeline/{key}``: a place's partnerships over time (``key`` as in the place's
  IRI: ``de-berlin``).
- ``/assets/…``: ``web/static/`` — our scripts in ``js/`` and the npm packages' dist files that
  ``scripts/frontend.sh`` copies into ``vendor/`` (no CDN: everything works offline).

The pages are plain HTML; their scripts read the data through the public SPARQL endpoint, as any
client would, so the server does no querying here. Without JavaScript a ``<noscript>`` note links
to the server-rendered pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from citygraph import documents
from citygraph.namespaces import BASE, PREFIXES
from citygraph.project import Project
from citygraph.query import read_query_file
from citygraph.web import i18n
from citygraph.web.answers import Answer
from citygraph.web.dependencies import SettingsDep, local_base
from citygraph.web.i18n import choose_language, fallback_mark, html_lang, texts, ui
from citygraph.web.linked_data.routes import get_site
from citygraph.web.problems import NotFoundError
from citygraph.web.responses import to_response
from citygraph.web.templating import STATIC, environment

__all__ = ["create_router", "example_queries", "language_links", "render_query_ui"]


#: A place key as in ``city:de-berlin``; checked (whole, with ``fullmatch``: ``$`` would also
#: match before a final newline) before it goes into a page (and a query).
_KEY = re.compile(r"[a-z]{2}-[a-z0-9]+(?:-[a-z0-9]+)*")

#: Kinds of place a partner can be (docs/model.md, classes); the timeline tries each.
_PLACE_KINDS = ("city", "region", "district")

#: Methods of every page here (HEAD for link checkers).
READ = ["GET", "HEAD"]


#: Groups of the example menu: (group key, file-name words that put a file in it); first match
#: wins, anything else is "other". By file name, because queries/ headers name no group.
_EXAMPLE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("group_sources", ("sources", "facts", "without")),
    ("group_events", ("events", "round", "agreements", "institutions", "timeline")),
    ("group_places", ("berlin", "wuppertal", "german", "places", "partners")),
    ("group_partnerships", ("partnerships", "oldest")),
)


def _group_of(file_name: str) -> str:
    words = set(file_name.removesuffix(".rq").split("-"))
    return next((key for key, names in _EXAMPLE_GROUPS if words & set(names)), "group_other")


def _without_test_headers(text: str, summary: str) -> str:
    """A query file's text for people: its summary as a comment, without the ``#+`` headers
    (``expect:`` and ``tags:`` are for the tests)."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    return f"# {summary}\n{body.lstrip()}" if summary else body.lstrip()


def example_queries(directory: Path | None = None) -> list[dict[str, str]]:
    """The example queries offered in the query UI: one per ``*.rq`` file, sorted by file name.

    Each is ``{"file", "name", "description", "group", "query"}``; the name is the file's
    ``#+ summary:``, the group a key of the interface texts (``group_places`` …), the query the
    file's text without its ``#+`` headers. A missing directory (an installed package without
    the checkout) gives no examples.
    """
    folder = Project.find().queries if directory is None else directory
    if not folder.is_dir():
        return []
    examples = []
    for path in sorted(folder.glob("*.rq")):
        query = read_query_file(path)
        examples.append(
            {
                "file": path.name,
                "name": query.summary,
                "description": query.header.get("description", ""),
                "group": _group_of(path.name),
                "query": _without_test_headers(query.text, query.summary),
            }
        )
    return examples


def language_links(request: Request) -> list[dict[str, str]]:
    """The current page in each language (:func:`citygraph.web.i18n.language_links`)."""
    url = request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return i18n.language_links(url)


def _noscript_links(site: str, language: str) -> list[dict[str, str]]:
    """The server-rendered pages (linked_data/) that show the same data without JavaScript."""
    return [
        {"href": f"{site}{path}?lang={language}", "text": ui(path, language)}
        for path in ("partnerships", "places", "sources")
    ]


def _render(template: str, *, language: str, site: str, **context: Any) -> str:
    config = {
        "site": site,
        "endpoint": site + "sparql",
        "lang": language,
        "text": texts(language),
        **context.pop("config", {}),
    }
    page = environment().get_template(template)
    return page.render(
        lang=language,
        html_lang=html_lang(language),
        site=site,
        t=texts(language),
        config_json=_script_json(config),
        noscript_links=_noscript_links(site, language),
        search_box={
            "action": site + "search",
            "label": ui("search", language),
            "placeholder": ui("search_placeholder", language),
            "id": "q",
            "lang": language,
            "value": "",
        },
        **context,
    )


def _script_json(value: Mapping[str, Any]) -> str:
    # Safe inside <script type="application/json">: no "</" can close the element.
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def render_query_ui(
    *,
    endpoint: str,
    description_link: str,
    language: str = "en",
    languages: list[dict[str, str]] | None = None,
    base_iri: str = BASE,
) -> str:
    """The YASGUI page for the endpoint at ``endpoint`` (an absolute URL ending in ``sparql``).

    The same keyword arguments as the endpoint's ``render_query_page`` hook, so a browser's GET
    of ``/sparql`` without a query can answer with it; ``languages`` are the language-switch
    links (none without a request to take them from); ``base_iri`` is the data's base, whose
    ``id/`` IRIs in results link to this server's ``doc/`` pages.

    >>> page = render_query_ui(endpoint="http://127.0.0.1:8000/sparql", description_link="")
    >>> 'src="http://127.0.0.1:8000/assets/vendor/yasgui.min.js"' in page
    True

    Raises:
        OSError: a file in ``queries/`` cannot be read.
    """
    site = endpoint.removesuffix("sparql")
    examples = example_queries()
    groups: dict[str, list[dict[str, str]]] = {}
    for e in examples:
        groups.setdefault(e["group"], []).append(e)
    order = [key for key, _ in _EXAMPLE_GROUPS] + ["group_other"]
    return _render(
        "frontend/query.html",
        language=language,
        site=site,
        title=ui("query_title", language),
        languages=languages or [],
        examples=[
            {**e, "href": endpoint + "?" + urlencode({"query": e["query"]})} for e in examples
        ],
        groups=[(ui(key, language), groups[key]) for key in order if key in groups],
        example_mark=fallback_mark("en", language),
        endpoint=endpoint,
        description_link=description_link,
        config={
            "endpoint": endpoint,
            "examples": examples,
            "baseIri": base_iri,
            "prefixes": _prefixes(base_iri),
        },
    )


def _prefixes(base_iri: str) -> dict[str, str]:
    """The prefix map of the data (:data:`citygraph.namespaces.PREFIXES`) for data whose base is
    ``base_iri``: what the query UI compacts result IRIs with.

    >>> _prefixes("http://example.org/")["city"]
    'http://example.org/id/city/'
    """
    return {
        name: base_iri + iri.removeprefix(BASE) if iri.startswith(BASE) else iri
        for name, iri in PREFIXES.items()
    }


def create_router() -> APIRouter:
    """The routes of the query UI, the map, the timelines and ``/assets/``."""
    router = APIRouter()

    @router.api_route("/sparql-ui", methods=READ, name="sparql_ui", response_class=HTMLResponse)
    def sparql_ui(request: Request, settings: SettingsDep, lang: str | None = None) -> Response:
        """YASGUI against this server's ``/sparql``, with the example queries as tabs."""
        language = choose_language(lang, request.headers.get("accept-language"))
        site = local_base(request, settings)
        page = render_query_ui(
            endpoint=site + "sparql",
            description_link=site + "sparql?format=turtle",
            language=language,
            languages=language_links(request),
            base_iri=settings.base_iri,
        )
        return _html(request, page)

    @router.api_route("/map", methods=READ, name="map", response_class=HTMLResponse)
    def world_map(request: Request, settings: SettingsDep, lang: str | None = None) -> Response:
        """The world map; filters come from the query string (``?city=de-berlin&from=1990``)."""
        language = choose_language(lang, request.headers.get("accept-language"))
        site = local_base(request, settings)
        filters = {
            name: request.query_params.get(name, "")
            for name in ("city", "country", "type", "status", "from", "to")
        }
        page = _render(
            "frontend/map.html",
            language=language,
            site=site,
            title=ui("map_title", language),
            languages=language_links(request),
            filters=filters,
            config={"baseIri": settings.base_iri, "filters": filters},
        )
        return _html(request, page)

    @router.api_route("/timeline/{key}", methods=READ, name="timeline", response_class=HTMLResponse)
    def timeline(
        request: Request, key: str, settings: SettingsDep, lang: str | None = None
    ) -> Response:
        """A place's partnerships on a time axis; 404 (the site's error page) for a key no
        place has."""
        # The key matches _KEY, so these IRIs are safe to write into the script's query.
        candidates = [f"{settings.base_iri}id/{kind}/{key}" for kind in _PLACE_KINDS]
        if not _KEY.fullmatch(key) or not _any_exists(request, candidates):
            message = f"no place has the key {key[:60]!r}"
            raise NotFoundError(message)
        language = choose_language(lang, request.headers.get("accept-language"))
        site = local_base(request, settings)
        page = _render(
            "frontend/timeline.html",
            language=language,
            site=site,
            title=ui("timeline_title", language),
            languages=language_links(request),
            key=key,
            place_page=f"{site}doc/city/{key}",
            config={"baseIri": settings.base_iri, "key": key, "places": candidates},
        )
        return _html(request, page)

    # check_dir=False: the app starts even before scripts/frontend.sh has copied vendor/.
    router.mount("/assets", StaticFiles(directory=STATIC, check_dir=False), name="assets")
    return router


def _any_exists(request: Request, iris: list[str]) -> bool:
    """Whether the store knows any of ``iris`` (through the linked-data site's snapshot)."""
    snap = get_site(request).snapshot()
    return any(documents.exists(snap.store, iri) for iri in iris)


def _html(request: Request, page: str) -> Response:
    answer = Answer(
        body=page.encode("utf-8"),
        content_type="text/html; charset=utf-8",
        headers={"Vary": "Accept-Language"},
    )
    return to_response(request, answer)
