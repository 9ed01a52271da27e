"""The request-independent half of the linked-data pages: store, templates, caches, answers.

:class:`Site` turns a parsed request (a :class:`Reader`) into an :class:`Answer` (status, body,
headers); :mod:`citygraph.web.linked_data.routes` only parses requests and sends answers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from citygraph import dataset, documents
from citygraph.config import Settings
from citygraph.documents import ThingGraph
from citygraph.engine.builds import CurrentLink
from citygraph.engine.cache import ResponseCache
from citygraph.engine.remote import backend_of
from citygraph.engine.remote_store import RemoteHandle
from citygraph.engine.snapshots import Snapshot, StoreHandle
from citygraph.errors import CitygraphError
from citygraph.namespaces import GRAPH_ONTOLOGY
from citygraph.web import i18n
from citygraph.web.answers import Answer
from citygraph.web.etags import etag
from citygraph.web.linked_data.document_rdf import (
    CONTEXT_PATH,
    about,
    compact_jsonld,
    used_prefixes,
    without_foreign_axioms,
)
from citygraph.web.linked_data.iris import Links
from citygraph.web.linked_data.pages import Labeller, build_view
from citygraph.web.linked_data.representations import (
    HTML,
    REPRESENTATIONS,
    Representation,
    serialize,
)
from citygraph.web.linked_data.schema_org import thing_description
from citygraph.web.linked_data.search import SearchIndex
from citygraph.web.linked_data.term_pages import (
    dataset_view,
    graph_of,
    ontology_view,
    shapes_view,
)
from citygraph.web.templating import STATIC, environment

__all__ = ["Reader", "Site"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reader:
    """Who asks: the page language, whether they chose it by ``?lang=``, this server's base."""

    language: str
    explicit_language: bool
    local_base: str
    path: str

    def links(self, settings: Settings) -> Links:
        """The link mapper for this reader (keeps ``?lang=`` when it was chosen)."""
        return Links(
            settings.base_iri, self.local_base, self.language if self.explicit_language else None
        )


class Site:
    """Renders every linked-data page and document for one app."""

    def __init__(
        self, settings: Settings, *, shapes_dir: Path | None, link: CurrentLink | None = None
    ) -> None:
        self.settings = settings
        # On disk, whatever CITYGRAPH_IN_MEMORY says: the machine holds one in-memory copy of
        # the build, the query processes' (issue 10 §2), and a copy per worker for the pages
        # would double it. What the pages compute from the build is cached per version.
        self.handle: StoreHandle | RemoteHandle
        if settings.backend:  # a remote SPARQL store (docs/backends.md)
            self.handle = RemoteHandle(
                backend_of(settings),
                check_interval=settings.version_check_interval,
                version_timeout=settings.query_timeout,
            )
        else:
            self.handle = StoreHandle(
                settings.store,
                in_memory=False,
                check_interval=settings.version_check_interval,
                link=link,
            )
        self.shapes_dir = shapes_dir
        self.cache = ResponseCache(max_bytes=settings.cache_bytes)

    # -- data ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current build (raises StoreNotFoundError when there is none).

        A new build's search index is started in the background as soon as the build is first
        seen, so the first search does not wait for it (issue 13 §1: made at data-version load).
        """
        snap = self.handle.snapshot()
        snap.cached("search:started", lambda: self._start_search_index(snap))
        return snap

    def search_index(self, snap: Snapshot) -> SearchIndex:
        """The search index of ``snap``'s build (made once; callers wait while it is made)."""
        return snap.cached(
            "search", lambda: SearchIndex.build(snap.store, base=self.settings.base_iri)
        )

    def _start_search_index(self, snap: Snapshot) -> bool:
        thread = threading.Thread(
            target=self._warm_search_index, args=(snap,), name="search-index", daemon=True
        )
        thread.start()
        return True

    def _warm_search_index(self, snap: Snapshot) -> None:
        try:
            self.search_index(snap)
        except CitygraphError as error:  # a remote store went away: the first search retries
            log.warning("the search index could not be made in advance: %s", error)

    def labels(self, snap: Snapshot) -> Mapping[str, Mapping[str, str]]:
        """Labels of any IRI of the build, looked up on demand (remembered per version)."""
        return snap.cached("labels", lambda: documents.LabelLookup(snap.store))

    def statistics(self, snap: Snapshot) -> dataset.DatasetStatistics:
        """The dataset statistics (cached per version)."""
        return snap.cached(
            "stats", lambda: dataset.dataset_statistics(snap.store, version=snap.version)
        )

    def dataset_triples(self, snap: Snapshot) -> list[ox.Triple]:
        """The DCAT/VoID description plus the labels of the classes it counts."""

        def compute() -> list[ox.Triple]:
            return dataset.describe_dataset(self.statistics(snap))

        return snap.cached("dataset", compute)

    def dump(self, snap: Snapshot, fmt: dataset.DumpFormat) -> bytes:
        """A gzip dump of the data graphs (cached per version)."""
        return snap.cached("dump:" + fmt.file_name, lambda: dataset.dump(snap.store, fmt))

    def ontology_triples(self, snap: Snapshot) -> list[ox.Triple]:
        """The ontology graph as triples."""

        def compute() -> list[ox.Triple]:
            graph = ox.NamedNode(GRAPH_ONTOLOGY)
            quads = snap.store.quads_for_pattern(None, None, None, graph)
            return sorted((ox.Triple(q.subject, q.predicate, q.object) for q in quads), key=str)

        return snap.cached("ontology", compute)

    def shapes_triples(self, snap: Snapshot) -> list[ox.Triple] | None:
        """The shapes files parsed (``None`` when this server has no shapes directory)."""
        if self.shapes_dir is None or not self.shapes_dir.is_dir():
            return None
        shapes_dir = self.shapes_dir

        def compute() -> list[ox.Triple]:
            triples: set[ox.Triple] = set()
            for path in sorted(shapes_dir.glob("*.ttl")):
                for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                    triples.add(ox.Triple(quad.subject, quad.predicate, quad.object))
            return sorted(triples, key=str)

        return snap.cached("shapes", compute)

    # -- rendering ----------------------------------------------------------------------------

    def render(self, template: str, reader: Reader, **context: Any) -> bytes:
        """Render ``template`` for ``reader`` (language, links, navigation)."""
        language = reader.language
        links = reader.links(self.settings)
        search = self.search_box(reader)
        context.setdefault("search_box", search)
        context.setdefault("schema_org", None)
        page = (
            environment()
            .get_template(template)
            .render(
                page_config={
                    "site": reader.local_base,
                    "endpoint": reader.local_base + "sparql",
                    "lang": language,
                    "baseIri": self.settings.base_iri,
                    # what worldmap.js and place-map.js say on these pages
                    "text": {
                        key: i18n.ui(key, language)
                        for key in ("cluster_places", "in_en", "in_de", "in_zh")
                    },
                },
                lang=language,
                html_lang=i18n.html_lang(language),
                t=lambda key: i18n.ui(key, language),
                links=links,
                languages=i18n.language_links(reader.local_base + reader.path.lstrip("/")),
                local=reader.local_base,
                **context,
            )
        )
        return page.encode("utf-8")

    def search_box(self, reader: Reader, *, value: str = "") -> dict[str, str]:
        """The context of ``search_form.html`` for ``reader`` (every page's search box)."""
        return {
            "action": reader.local_base + "search",
            "label": i18n.ui("search", reader.language),
            "placeholder": i18n.ui("search_placeholder", reader.language),
            "id": "q",
            "lang": reader.language if reader.explicit_language else "",
            "value": value,
        }

    def document(
        self,
        snap: Snapshot,
        reader: Reader,
        *,
        iri: str,
        triples: Callable[[], list[ox.Triple]],
        representation: Representation,
        doc_path: str,
        template: str = "thing.html",
        extra: Callable[[list[ox.Triple]], Mapping[str, Any]] | None = None,
    ) -> Answer | None:
        """A document about ``iri`` in ``representation``, with its negotiation headers.

        ``doc_path`` is the document's path on this server without extension (``doc/city/x``).
        ``triples`` computes the document (empty: the thing is unknown, and the answer
        ``None``); ``extra`` the template's context from them. Bodies are cached per data
        version and representation, so repeated requests skip the query.
        """
        local = reader.local_base + doc_path
        headers = {
            "Vary": "Accept, Accept-Language",
            "Content-Location": f"{local}.{representation.name}",
            "Link": ", ".join(
                f'<{local}.{r.name}>; rel="alternate"; type="{r.media_type}"'
                for r in REPRESENTATIONS
                if r is not representation
            ),
        }
        html = representation is HTML
        tag = etag(
            snap.version,
            doc_path,
            representation.name,
            reader.language if html else "",
            reader.local_base if html else "",
            "1" if reader.explicit_language and html else "0",
        )
        cached = self.cache.get(tag)
        if cached is not None:
            return Answer(body=cached[0], content_type=cached[1], headers=headers, etag=tag)
        found = triples()
        if not found:
            return None
        if html:
            context = dict(extra(found) if extra is not None else {})
            if template == "thing.html":
                graph = ThingGraph.from_triples(found)
                view = build_view(
                    graph,
                    iri,
                    language=reader.language,
                    links=reader.links(self.settings),
                    index=self.labels(snap),
                )
                context["view"] = view
                context["schema_org"] = thing_description(view, graph, page=local)
            body = self.render(
                template,
                reader,
                alternates=[(r, f"{local}.{r.name}") for r in REPRESENTATIONS if r is not HTML],
                iri=iri,
                **context,
            )
        elif template == "thing.html":
            body = self._rdf_document(snap, iri, doc_path, found, representation)
        else:
            body = self._rdf(found, representation)
        self.cache.put(tag, body, representation.content_type)
        return Answer(
            body=body, content_type=representation.content_type, headers=headers, etag=tag
        )

    def _rdf_document(
        self,
        snap: Snapshot,
        iri: str,
        doc_path: str,
        found: list[ox.Triple],
        representation: Representation,
    ) -> bytes:
        """A thing's RDF document: its triples without other vocabularies' axioms, plus what the
        document is; only the prefixes it uses; JSON-LD compacted (issue 13 §6)."""
        base = self.settings.base_iri
        triples = without_foreign_axioms(found) + about(
            base + doc_path, iri, dataset=dataset.DATASET, version=snap.version
        )
        return self._rdf(triples, representation)

    def _rdf(self, triples: list[ox.Triple], representation: Representation) -> bytes:
        """``triples`` as RDF with only the prefixes they use, JSON-LD compacted with the
        published context: a thing's document, the ontology, the shapes, the dataset."""
        if representation.rdf_format is ox.RdfFormat.JSON_LD:
            context_url = self.settings.base_iri + CONTEXT_PATH
            compacted = compact_jsonld(triples, context_url=context_url)
            return json.dumps(compacted, ensure_ascii=False, indent=1).encode("utf-8")
        return serialize(triples, representation, prefixes=used_prefixes(triples))

    def labeller(self, snap: Snapshot, reader: Reader, triples: list[ox.Triple]) -> Labeller:
        """A labeller over ``triples`` for ``reader``."""
        return Labeller(
            graph_of(triples),
            self.labels(snap),
            reader.language,
            reader.links(self.settings),
        )

    def ontology_context(
        self, snap: Snapshot, reader: Reader, triples: list[ox.Triple]
    ) -> dict[str, Any]:
        """The ontology page's view."""
        return {"ontology": ontology_view(self.labeller(snap, reader, triples))}

    def shapes_context(
        self, snap: Snapshot, reader: Reader, triples: list[ox.Triple]
    ) -> dict[str, Any]:
        """The shapes page's view."""
        return {"shapes": shapes_view(self.labeller(snap, reader, triples))}

    def dataset_context(
        self, snap: Snapshot, reader: Reader, triples: list[ox.Triple]
    ) -> dict[str, Any]:
        """The dataset page's view."""
        label = self.labeller(snap, reader, triples)
        return {"dataset": dataset_view(label, self.statistics(snap))}

    def not_found(self, reader: Reader, *, html: bool, what: str) -> Answer:
        """404, as the site's HTML error page (with search) or plain text."""
        return self.error(
            reader, 404, f"citygraph knows nothing under {what}", html=html, what=what
        )

    def error(
        self, reader: Reader, status: int, message: str, *, html: bool, what: str = ""
    ) -> Answer:
        """An error answer: the site's HTML error page (with search) or one line of text.

        ``message`` says what was wrong (the text answer is ``"{status} {reason}: {message}"``);
        ``what`` is the address asked for, shown on the HTML page.
        """
        reason = _reason(status)
        if html:
            body = self.render(
                "error.html", reader, status=status, reason=reason, message=message, what=what
            )
            return Answer(status, body, HTML.content_type, headers={"Vary": "Accept"})
        text = f"{status} {reason}: {message}\n"
        return Answer(
            status, text.encode(), "text/plain; charset=utf-8", headers={"Vary": "Accept"}
        )

    def favicon(self) -> bytes:
        """The site's icon (an ICO holding one 32x32 PNG)."""
        return (STATIC / "favicon.ico").read_bytes()

    def css(self) -> bytes:
        """The one style sheet."""
        return (STATIC / "css" / "citygraph.css").read_bytes()


def _reason(status: int) -> str:
    """The reason phrase of ``status``; a status without one (499, say) is called an error.

    >>> _reason(404), _reason(499)
    ('Not Found', 'Error')
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
