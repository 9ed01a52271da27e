"""The dataset describes itself: DCAT and VoID built from the store, and the dumps.

:func:`describe_dataset` returns the description of ``https://w3id.org/citygraph/dataset`` as
triples with canonical IRIs (the web layer serves it at ``/dataset`` and
``/.well-known/void``). Its statistics are counted from the store by :mod:`citygraph.stats` (the
one place citygraph counts its data) every time the description is built (callers cache it per
data version): triples per named graph, entities per class, links to Wikidata and GeoNames.
:func:`dump` writes the data graphs as gzip-compressed Turtle or N-Quads.

The *data graphs* are every named graph except ``graph:meta`` (the build's own records).

>>> import pyoxigraph as ox
>>> s = ox.Store()
>>> counts = dataset_statistics(s)
>>> counts.triples, counts.per_graph
(0, {})
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

import pyoxigraph as ox

from citygraph import stats
from citygraph.documents import Term
from citygraph.namespaces import (
    BASE,
    CG,
    GRAPH_CURATED,
    GRAPH_META,
    GRAPH_WORLDWIDE,
    PREFIXES,
)
from citygraph.stats import LINK_SETS, URI_SPACE, LinkSet

__all__ = [
    "DATASET",
    "LINK_SETS",
    "URI_SPACE",
    "DatasetStatistics",
    "DumpFormat",
    "LinkSet",
    "data_graphs",
    "dataset_statistics",
    "describe_dataset",
    "dump",
    "dump_triples",
]

DATASET = BASE + "dataset"
ENDPOINT = BASE + "sparql"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"

_DCAT = PREFIXES["dcat"]
_VOID = PREFIXES["void"]
_DCT = PREFIXES["dcterms"]
_RDF = PREFIXES["rdf"]
_FOAF = PREFIXES["foaf"]
_OWL = PREFIXES["owl"]
_SKOS = PREFIXES["skos"]
_XSD = PREFIXES["xsd"]
_SD = "http://www.w3.org/ns/sparql-service-description#"
_IANA = "https://www.iana.org/assignments/media-types/"

#: Vocabularies the data uses (void:vocabulary).
VOCABULARIES: tuple[str, ...] = (
    CG,
    PREFIXES["schema"],
    PREFIXES["org"],
    PREFIXES["cv"],
    PREFIXES["prov"],
    PREFIXES["skos"],
    PREFIXES["dcterms"],
    PREFIXES["geo"],
    PREFIXES["foaf"],
    PREFIXES["rdfs"],
    PREFIXES["owl"],
)


class DumpFormat(Enum):
    """The dump files: name under ``/dumps/``, media type, pyoxigraph format."""

    TURTLE = ("citygraph.ttl.gz", "text/turtle", "TURTLE")
    N_QUADS = ("citygraph.nq.gz", "application/n-quads", "N_QUADS")

    @property
    def file_name(self) -> str:
        """The dump's file name (``citygraph.ttl.gz``)."""
        return self.value[0]

    @property
    def media_type(self) -> str:
        """The media type of the uncompressed content."""
        return self.value[1]

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The pyoxigraph serialisation format."""
        return getattr(ox.RdfFormat, self.value[2])  # type: ignore[no-any-return]

    @classmethod
    def from_file_name(cls, name: str) -> DumpFormat | None:
        """The format whose file is called ``name``, or ``None``."""
        return next((f for f in cls if f.file_name == name), None)


@dataclass(frozen=True)
class DatasetStatistics:
    """Counts of a build: ``triples`` over all graphs (what the SPARQL endpoint's default graph
    holds, graph:meta's build records included), the others over the data graphs."""

    triples: int = 0
    entities: int = 0
    per_graph: dict[str, int] = field(default_factory=dict)
    per_class: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    version: str = ""
    modified: ox.Literal | None = None


def data_graphs(target: ox.Store) -> list[str]:
    """The IRIs of the store's data graphs (every named graph but graph:meta), sorted."""
    return sorted(
        g.value
        for g in target.named_graphs()
        if isinstance(g, ox.NamedNode) and g.value != GRAPH_META
    )


def dump_triples(target: ox.Store) -> list[ox.Triple]:
    """The distinct triples of the data graphs (what the Turtle dump holds), grouped by graph
    and subject in the store's order (so Turtle can group them without a sort)."""
    triples: dict[ox.Triple, None] = {}
    for graph in data_graphs(target):
        for quad in target.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            triples[ox.Triple(quad.subject, quad.predicate, quad.object)] = None
    return list(triples)


def _data_quads(target: ox.Store) -> Iterator[ox.Quad]:
    for graph in data_graphs(target):
        yield from target.quads_for_pattern(None, None, None, ox.NamedNode(graph))


def dump(target: ox.Store, fmt: DumpFormat) -> bytes:
    """The data graphs serialised in ``fmt`` and gzip-compressed (reproducibly: no timestamp).

    Turtle holds the distinct triples of all data graphs (the graph names are lost); N-Quads
    keeps every quad with its graph.
    """
    if fmt is DumpFormat.TURTLE:
        data = ox.serialize(dump_triples(target), format=fmt.rdf_format, prefixes=dict(PREFIXES))
    else:
        data = ox.serialize(_data_quads(target), format=fmt.rdf_format)
    # level 6: half the time of the default 9 for a few percent more bytes
    return gzip.compress(data or b"", compresslevel=6, mtime=0)


_META = ox.NamedNode(GRAPH_META)


def dataset_statistics(target: ox.Store, *, version: str = "") -> DatasetStatistics:
    """The counts the description gives (:mod:`citygraph.stats`: triples, what the endpoint's
    default graph holds; over the data graphs, triples per graph, entities, classes and links)
    and the build's ``dcterms:modified`` from graph:meta."""
    counts = stats.store_stats(target)
    modified = None
    for quad in target.quads_for_pattern(
        ox.NamedNode(DATASET), ox.NamedNode(_DCT + "modified"), None, _META
    ):
        if isinstance(quad.object, ox.Literal):
            modified = quad.object
    return DatasetStatistics(
        triples=counts.triples,
        entities=counts.entities,
        per_graph=counts.data_graphs,
        per_class=counts.instances_per_class,
        links=counts.links,
        version=version,
        modified=modified,
    )


def _lit(value: object) -> ox.Literal:
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(_XSD + "integer"))
    return ox.Literal(str(value))


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def describe_dataset(
    stats: DatasetStatistics, *, dumps: Sequence[DumpFormat] = tuple(DumpFormat)
) -> list[ox.Triple]:
    """The DCAT + VoID description of the dataset, with canonical IRIs.

    >>> triples = describe_dataset(DatasetStatistics(triples=3))
    >>> any(t.predicate.value.endswith("#triples") and t.object.value == "3" for t in triples)
    True
    """
    out: list[ox.Triple] = []
    dataset = ox.NamedNode(DATASET)

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: Term) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    def iri(value: str) -> ox.NamedNode:
        return ox.NamedNode(value)

    add(dataset, _RDF + "type", iri(_DCAT + "Dataset"))
    add(dataset, _RDF + "type", iri(_VOID + "Dataset"))
    add(dataset, _DCT + "title", _en("citygraph: municipal partnerships (twin towns)"))
    add(dataset, _DCT + "title", ox.Literal("citygraph: Städtepartnerschaften", language="de"))
    add(dataset, _DCT + "title", ox.Literal("citygraph: 友好城市关系", language="zh-Hans"))
    add(
        dataset,
        _DCT + "description",
        _en(
            "A linked-open-data knowledge graph of municipal partnerships: partner places, the "
            "partnerships between them with their agreements, institutions and events, and "
            "the source behind every statement. The curated data is CC BY 4.0; an imported "
            "worldwide layer of twin-town pairs from Wikipedia, when present, is CC BY-SA 4.0."
        ),
    )
    add(dataset, _DCT + "license", iri(CC_BY))
    publisher = iri(DATASET + "#publisher")
    add(dataset, _DCT + "publisher", publisher)
    add(publisher, _RDF + "type", iri(_FOAF + "Organization"))
    add(publisher, _FOAF + "name", _en("citygraph maintainers"))
    add(publisher, PREFIXES["rdfs"] + "label", _en("citygraph maintainers"))
    add(dataset, _VOID + "sparqlEndpoint", iri(ENDPOINT))
    service = iri(DATASET + "#endpoint")
    add(dataset, _DCAT + "accessService", service)
    add(service, _RDF + "type", iri(_DCAT + "DataService"))
    add(service, _DCAT + "endpointURL", iri(ENDPOINT))
    add(service, _DCAT + "servesDataset", dataset)
    add(service, PREFIXES["rdfs"] + "label", _en("citygraph SPARQL endpoint"))
    add(dataset, _VOID + "uriSpace", _lit(URI_SPACE))
    add(dataset, _VOID + "exampleResource", iri(URI_SPACE + "city/de-berlin"))
    add(dataset, _VOID + "rootResource", iri(URI_SPACE + "city/de-berlin"))
    for vocabulary in VOCABULARIES:
        add(dataset, _VOID + "vocabulary", iri(vocabulary))
    add(dataset, _VOID + "triples", _lit(stats.triples))
    add(dataset, _VOID + "entities", _lit(stats.entities))
    add(dataset, _VOID + "classes", _lit(len(stats.per_class)))
    if stats.version:
        add(dataset, _OWL + "versionInfo", _lit(stats.version))
    if stats.modified is not None:
        add(dataset, _DCT + "modified", stats.modified)
    for number, (cls, count) in enumerate(stats.per_class.items()):
        partition = iri(f"{DATASET}#class-{number}")
        add(dataset, _VOID + "classPartition", partition)
        add(partition, _VOID + "class", iri(cls))
        add(partition, _VOID + "entities", _lit(count))
    for graph, count in stats.per_graph.items():
        subset = iri(DATASET + "#graph-" + graph.rsplit("/", 1)[-1])
        add(dataset, _VOID + "subset", subset)
        add(subset, _RDF + "type", iri(_VOID + "Dataset"))
        add(subset, _SD + "name", iri(graph))
        add(subset, _VOID + "triples", _lit(count))
        if graph == GRAPH_WORLDWIDE:
            add(subset, _DCT + "license", iri(CC_BY_SA))
            add(subset, _DCT + "source", iri("https://en.wikipedia.org/"))
        elif graph == GRAPH_CURATED:
            add(subset, _DCT + "license", iri(CC_BY))
    for link in LINK_SETS:
        linkset = iri(DATASET + "#links-" + link.name)
        add(dataset, _VOID + "subset", linkset)
        add(linkset, _RDF + "type", iri(_VOID + "Linkset"))
        add(linkset, _DCT + "title", _en(link.title))
        add(linkset, _VOID + "subjectsTarget", dataset)
        add(linkset, _VOID + "objectsTarget", iri(link.target))
        add(linkset, _VOID + "linkPredicate", iri(link.predicate))
        add(linkset, _VOID + "triples", _lit(stats.links.get(link.name, 0)))
    for fmt in dumps:
        url = iri(BASE + "dumps/" + fmt.file_name)
        add(dataset, _DCAT + "distribution", url)
        add(dataset, _VOID + "dataDump", url)
        add(url, _RDF + "type", iri(_DCAT + "Distribution"))
        add(url, _DCAT + "downloadURL", url)
        add(url, _DCAT + "mediaType", iri(_IANA + fmt.media_type))
        add(url, _DCAT + "compressFormat", iri(_IANA + "application/gzip"))
        add(url, _DCT + "license", iri(CC_BY))
        add(url, _DCT + "title", _en(f"All data graphs as gzip-compressed {fmt.name}"))
    return out
