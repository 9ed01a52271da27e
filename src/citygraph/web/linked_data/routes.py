"""The linked-data routes: ``/id/…`` → 303 → ``/doc/…``, pages, vocabularies, dataset, dumps.

Handlers only read the request, ask :class:`~citygraph.web.linked_data.site.Site` and send its
:class:`~citygraph.web.answers.Answer` (through :func:`~citygraph.web.responses.to_response`,
like every route). They are ``def`` (not ``async def``): pyoxigraph
blocks, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, cast

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from citygraph import dataset, documents, indexes
from citygraph.engine.snapshots import Snapshot
from citygraph.web import i18n
from citygraph.web.answers import Answer
from citygraph.web.dependencies import local_base
from citygraph.web.etags import etag
from citygraph.web.linked_data import document_rdf
from citygraph.web.linked_data.listings import (
    BadParameterError,
    int_parameter,
    partnerships_page,
    places_page,
    search_results,
    sources_page,
)
from citygraph.web.linked_data.representations import (
    HTML,
    REPRESENTATIONS,
    Representation,
    by_name,
    negotiate_representation,
    split_extension,
)
from citygraph.web.linked_data.schema_org import site_description
from citygraph.web.linked_data.site import Reader, Site
from citygraph.web.negotiation import negotiate
from citygraph.web.responses import to_response

__all__ = ["get_site", "reader_for", "router"]

router = APIRouter()
READ = ["GET", "HEAD"]


def get_site(request: Request) -> Site:
    """The :class:`Site` installed on the app (see :func:`citygraph.web.linked_data.install`)."""
    return cast(Site, request.app.state.linked_data)


SiteDep = Annotated[Site, Depends(get_site)]


def reader_for(request: Request, site: Site) -> Reader:
    """Who asks: language (``?lang=``, ``Accept-Language``), this server's base, the path.

    Other pages that want the site's header, navigation and language switcher render with
    ``site.render("their.html", reader_for(request, site), ...)`` and a template that
    extends ``base.html``.
    """
    param = request.query_params.get("lang")
    language = i18n.choose_language(param, request.headers.get("accept-language"))
    local = local_base(request, site.settings)
    path = request.url.path.lstrip("/")
    if request.url.query:
        path += "?" + request.url.query
    return Reader(language, param is not None and param in i18n.LANGUAGES, local, path)


def _wants_html(request: Request) -> bool:
    return negotiate(request.headers.get("accept"), ["text/html", "text/plain"]) == "text/html"


def _not_acceptable(request: Request) -> Response:
    offered = ", ".join(r.media_type for r in REPRESENTATIONS)
    answer = Answer(
        406,
        f"406 Not Acceptable: this document is offered as {offered}\n".encode(),
        "text/plain; charset=utf-8",
        headers={"Vary": "Accept"},
    )
    return to_response(request, answer)


def _representation(request: Request, extension: str | None) -> Representation | None:
    if extension is not None:
        return by_name(extension)
    return negotiate_representation(request.headers.get("accept"))


def _iri(value: str) -> str | None:
    try:
        return ox.NamedNode(value).value
    except ValueError:
        return None


def _missing(request: Request, site: Site, reader: Reader, what: str, *, html: bool) -> Response:
    answer = site.not_found(reader, html=html or _wants_html(request), what=what)
    return to_response(request, answer, max_age=site.settings.cache_max_age)


# -- things -----------------------------------------------------------------------------------


@router.api_route("/id/{path:path}", methods=READ, name="ld_identifier")
def identifier(path: str, request: Request, site: SiteDep) -> Response:
    """303 See Other from a thing's IRI to the document about it (if the thing is known).

    ``/id/city/x.ttl`` (an IRI with a format extension pasted) goes to ``/doc/city/x.ttl``.
    """
    reader = reader_for(request, site)
    stem, _ = split_extension(path)
    snap = site.snapshot()
    known = None
    for candidate in dict.fromkeys((path, stem)):
        iri = _iri(site.settings.base_iri + "id/" + candidate) if candidate else None
        if iri is not None and documents.exists(snap.store, iri):
            known = candidate
            break
    if known is None:
        return _missing(request, site, reader, "/id/" + path, html=False)
    location = reader.local_base + "doc/" + path
    # A document takes one parameter, the language; anything else the request carried is not
    # echoed (an echo made a 300 kB Location header no client could read: found by make fuzz).
    lang = request.query_params.get("lang")
    if lang in i18n.LANGUAGES:
        location += "?lang=" + lang
    return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})


@router.api_route("/doc/{path:path}", methods=READ, name="ld_document")
def document(path: str, request: Request, site: SiteDep) -> Response:
    """The document about the thing ``/id/{path}``, as HTML or RDF."""
    return _thing(request, site, "id/", "doc/", path)


@router.api_route("/vocab/{path:path}", methods=READ, name="ld_vocab")
def vocabulary(path: str, request: Request, site: SiteDep) -> Response:
    """A concept scheme or concept (served at its own IRI); ``/vocab/`` lists the schemes."""
    if not path:
        return _schemes(request, site)
    return _thing(request, site, "vocab/", "vocab/", path)


def _thing(request: Request, site: Site, namespace: str, served: str, path: str) -> Response:
    reader = reader_for(request, site)
    stem, extension = split_extension(path)
    representation = _representation(request, extension)
    if representation is None:
        if extension is not None:
            return _missing(request, site, reader, "/" + served + path, html=False)
        return _not_acceptable(request)
    iri = _iri(site.settings.base_iri + namespace + stem) if stem else None
    answer = None
    if iri is not None:
        snap = site.snapshot()
        answer = site.document(
            snap,
            reader,
            iri=iri,
            triples=lambda: documents.describe(snap.store, iri),
            representation=representation,
            doc_path=served + stem,
        )
    if answer is None:
        html = representation is HTML and (extension is not None or _wants_html(request))
        return _missing(request, site, reader, "/" + served + path, html=html)
    return to_response(request, answer, max_age=site.settings.cache_max_age)


def _schemes(request: Request, site: Site) -> Response:
    reader = reader_for(request, site)
    snap = site.snapshot()
    labels = site.labels(snap)
    schemes = sorted(
        iri
        for iri in documents.list_things(snap.store, namespaces=[site.settings.base_iri + "vocab/"])
        if iri.count("/") == site.settings.base_iri.count("/") + 1
    )
    body = site.render(
        "schemes.html",
        reader,
        schemes=[(i18n.pick(labels.get(s, {}), reader.language, fallback=s), s) for s in schemes],
    )
    return _page(request, site, snap.version, reader, body)


# -- ontology, shapes, dataset ----------------------------------------------------------------


@router.api_route("/ontology", methods=READ, name="ld_ontology")
@router.api_route("/ontology.{extension}", methods=READ, name="ld_ontology_as")
def ontology(request: Request, site: SiteDep, extension: str | None = None) -> Response:
    """The ontology: HTML documentation with a ``#Term`` anchor per term, or RDF."""
    return _site_document(
        request,
        site,
        extension,
        path="ontology",
        iri=site.settings.base_iri + "ontology",
        triples=site.ontology_triples,
        context=site.ontology_context,
    )


@router.api_route("/ontology/{version:path}", methods=READ, name="ld_ontology_version")
def ontology_version(version: str, request: Request, site: SiteDep) -> Response:
    """A version IRI of the ontology: 303 to the ontology (only the current one is served)."""
    reader = reader_for(request, site)
    return Response(status_code=303, headers={"Location": reader.local_base + "ontology"})


@router.api_route("/shapes", methods=READ, name="ld_shapes")
@router.api_route("/shapes.{extension}", methods=READ, name="ld_shapes_as")
def shapes(request: Request, site: SiteDep, extension: str | None = None) -> Response:
    """The SHACL shapes: HTML with a ``#Shape`` anchor per shape, or RDF."""
    reader = reader_for(request, site)
    representation = _representation(request, extension)
    snap = site.snapshot()
    triples = site.shapes_triples(snap)
    if triples is None or (representation is None and extension is not None):
        what = "/shapes" if extension is None else f"/shapes.{extension}"
        return _missing(request, site, reader, what, html=representation is HTML)
    if representation is None:
        return _not_acceptable(request)
    answer = site.document(
        snap,
        reader,
        iri=site.settings.base_iri + "shapes",
        triples=lambda: triples,
        representation=representation,
        doc_path="shapes",
        template="shapes.html",
        extra=lambda found: site.shapes_context(snap, reader, found),
    )
    if answer is None:
        return _missing(request, site, reader, "/shapes", html=representation is HTML)
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/dataset", methods=READ, name="ld_dataset")
@router.api_route("/dataset.{extension}", methods=READ, name="ld_dataset_as")
@router.api_route("/.well-known/void", methods=READ, name="ld_void")
def dataset_description(request: Request, site: SiteDep, extension: str | None = None) -> Response:
    """The DCAT + VoID description of the dataset (at its IRI and at ``/.well-known/void``)."""
    return _site_document(
        request,
        site,
        extension,
        path="dataset",
        iri=dataset.DATASET,
        triples=site.dataset_triples,
        context=site.dataset_context,
    )


def _site_document(
    request: Request,
    site: Site,
    extension: str | None,
    *,
    path: str,
    iri: str,
    triples: Callable[[Snapshot], list[ox.Triple]],
    context: Callable[[Snapshot, Reader, list[ox.Triple]], dict[str, Any]],
) -> Response:
    """A document the site itself describes (``/ontology``, ``/dataset``), page ``PATH.html``."""
    reader = reader_for(request, site)
    representation = _representation(request, extension)
    if representation is None:
        return (
            _not_acceptable(request)
            if extension is None
            else _missing(request, site, reader, f"/{path}.{extension}", html=False)
        )
    snap = site.snapshot()
    answer = site.document(
        snap,
        reader,
        iri=iri,
        triples=lambda: triples(snap),
        representation=representation,
        doc_path=path,
        template=f"{path}.html",
        extra=lambda found: context(snap, reader, found),
    )
    if answer is None:
        return _missing(request, site, reader, "/" + path, html=representation is HTML)
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/dumps/{name}", methods=READ, name="ld_dump")
def dump(name: str, request: Request, site: SiteDep) -> Response:
    """A gzip dump of the data graphs, generated from the store once per data version."""
    fmt = dataset.DumpFormat.from_file_name(name)
    if fmt is None:
        return _missing(request, site, reader_for(request, site), "/dumps/" + name, html=False)
    snap = site.snapshot()
    answer = Answer(
        body=site.dump(snap, fmt),
        content_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{fmt.file_name}"'},
        etag=etag(snap.version, "dump", fmt.file_name),
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/sitemap.xml", methods=READ, name="ld_sitemap")
def sitemap(request: Request, site: SiteDep) -> Response:
    """A sitemap of the pages and of every thing's document (at most 50,000 URLs)."""
    reader = reader_for(request, site)
    snap = site.snapshot()
    base = site.settings.base_iri
    links = reader.links(site.settings)
    urls = [
        reader.local_base + p
        for p in (
            "",
            "partnerships",
            "places",
            "sources",
            "ontology",
            "shapes",
            "dataset",
            "vocab/",
        )
    ]
    for iri in documents.list_things(snap.store, namespaces=[base + "id/", base + "vocab/"]):
        href = links.href(iri)
        if href is not None:
            urls.append(href)
    body = site.render("sitemap.xml", reader, urls=urls[:50_000])
    answer = Answer(
        body=body,
        content_type="application/xml",
        etag=etag(snap.version, "sitemap", reader.local_base),
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)


# -- index pages ------------------------------------------------------------------------------


def _page(request: Request, site: Site, version: str, reader: Reader, body: bytes) -> Response:
    answer = Answer(
        body=body,
        content_type=HTML.content_type,
        headers={"Vary": "Accept-Language"},
        etag=etag(version, reader.path, reader.language, reader.local_base),
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/", methods=READ, name="ld_home")
def home(request: Request, site: SiteDep) -> Response:
    """The home page: what citygraph is, counts, and where to go."""
    reader = reader_for(request, site)
    snap = site.snapshot()
    per_graph = snap.cached("coverage", lambda: indexes.coverage(snap.store))
    layers = [
        (i18n.ui("layer_" + graph.rsplit("/", 1)[-1], reader.language), counts)
        for graph, counts in per_graph.items()
    ]
    description = site_description(
        site=reader.local_base, name="citygraph", description=i18n.ui("tagline", reader.language)
    )
    labels = site.labels(snap)
    links = reader.links(site.settings)
    examples = []
    for path in ("id/city/de-berlin", "id/partnership/cn-beijing--de-berlin"):
        iri = site.settings.base_iri + path
        text, tag = i18n.pick_tagged(labels.get(iri, {}), reader.language, fallback=path)
        examples.append((links.href(iri), text, i18n.differs(tag, reader.language)))
    body = site.render(
        "home.html", reader, layers=layers, schema_org=description, examples=examples
    )
    return _page(request, site, snap.version, reader, body)


@router.api_route("/partnerships", methods=READ, name="ld_partnerships")
def partnerships(request: Request, site: SiteDep) -> Response:
    """All partnerships, filtered by query parameters (a plain GET form: no JavaScript)."""
    return _listing(request, site, "partnerships.html", partnerships_page)


@router.api_route("/places", methods=READ, name="ld_places")
def places(request: Request, site: SiteDep) -> Response:
    """All partner places, optionally of one country."""
    return _listing(request, site, "places.html", places_page)


def _listing(
    request: Request,
    site: Site,
    template: str,
    build_page: Callable[..., dict[str, Any]],
) -> Response:
    """An index page built from the query parameters; 400 when one is not what it takes."""
    reader = reader_for(request, site)
    snap = site.snapshot()
    try:
        context = build_page(site, snap, reader, request.query_params)
    except BadParameterError as error:
        answer = site.error(reader, 400, str(error), html=_wants_html(request))
        return to_response(request, answer, max_age=0)
    body = site.render(template, reader, **context)
    return _page(request, site, snap.version, reader, body)


@router.api_route("/sources", methods=READ, name="ld_sources")
def sources(request: Request, site: SiteDep) -> Response:
    """All source documents, with how many nodes of the graph cite each."""
    reader = reader_for(request, site)
    snap = site.snapshot()
    body = site.render("sources.html", reader, **sources_page(site, snap, reader))
    return _page(request, site, snap.version, reader, body)


@router.api_route("/search", methods=READ, name="ld_search")
def search(request: Request, site: SiteDep) -> Response:
    """Things by name in any language: HTML, or JSON (``Accept: application/json`` or
    ``?format=json``: ``{"query", "results": [{"iri", "href", "label", "kind", …}]}``).

    ``?limit=`` (1-50, default 20) bounds the results; the search box's suggestions use 8.
    """
    reader = reader_for(request, site)
    params = request.query_params
    query = params.get("q", "")
    fmt = params.get("format", "")
    as_json = fmt == "json" or (
        not fmt
        and negotiate(request.headers.get("accept"), ["text/html", "application/json"])
        == "application/json"
    )
    try:
        asked = int_parameter(params, "limit")
        limit = 20 if asked is None else min(50, max(1, asked))
    except BadParameterError as error:
        return to_response(
            request, site.error(reader, 400, str(error), html=not as_json), max_age=0
        )
    if fmt not in ("", "json", "html"):
        message = f"format must be json or html, not {fmt[:40]!r}"
        return to_response(request, site.error(reader, 400, message, html=False), max_age=0)
    snap = site.snapshot()
    results = search_results(site, snap, reader, query, limit=limit) if query.strip() else []
    if as_json:
        body = json.dumps({"query": query, "results": results}, ensure_ascii=False).encode()
        answer = Answer(
            body=body,
            content_type="application/json",
            headers={"Vary": "Accept, Accept-Language"},
            etag=etag(snap.version, reader.path, reader.language, reader.local_base, "json"),
        )
        return to_response(request, answer, max_age=site.settings.cache_max_age)
    search_box = site.search_box(reader, value=query)
    body = site.render("search.html", reader, query=query, results=results, search_box=search_box)
    return _page(request, site, snap.version, reader, body)


@router.api_route("/context.jsonld", methods=READ, name="ld_context")
def jsonld_context(request: Request, site: SiteDep) -> Response:
    """The JSON-LD ``@context`` the documents' JSON-LD is compacted with (their prefixes)."""
    body = json.dumps(document_rdf.context(), indent=1).encode("utf-8")
    answer = Answer(
        body=body, content_type="application/ld+json", etag=etag("context", body.decode("utf-8"))
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/favicon.ico", methods=READ, name="ld_favicon")
def favicon(request: Request, site: SiteDep) -> Response:
    """The site's icon (browsers ask for ``/favicon.ico`` whatever the page says)."""
    body = site.favicon()
    answer = Answer(
        body=body, content_type="image/vnd.microsoft.icon", etag=etag("favicon", body.hex())
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)


@router.api_route("/static/css/citygraph.css", methods=READ, name="ld_css")
def stylesheet(request: Request, site: SiteDep) -> Response:
    """The one style sheet."""
    body = site.css()
    answer = Answer(
        body=body, content_type="text/css; charset=utf-8", etag=etag("css", body.decode("utf-8"))
    )
    return to_response(request, answer, max_age=site.settings.cache_max_age)
