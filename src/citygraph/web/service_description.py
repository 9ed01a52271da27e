"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

Built as RDF triples (pyoxigraph terms, no string pasting) so every RDF format can carry it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from citygraph.web.formats import GRAPH_FORMATS, SOLUTION_FORMATS

__all__ = ["SD", "VOID_PATH", "describe_service"]

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
#: Where the VoID description of the dataset is served (RFC 8615 well-known URI, VoID §7).
VOID_PATH = ".well-known/void"

PREFIXES = {
    "sd": SD,
    "rdfs": RDFS,
    "dcterms": DCTERMS,
    "formats": "http://www.w3.org/ns/formats/",
    "ent": "http://www.w3.org/ns/entailment/",
}


def describe_service(
    *,
    endpoint: str,
    site: str,
    graph_names: Sequence[str],
    update: bool,
    federated: bool,
) -> list[ox.Triple]:
    """The description of the service at ``endpoint`` (``site``: the server's base URL).

    >>> triples = describe_service(endpoint="http://x/sparql", site="http://x/",
    ...     graph_names=["http://g"], update=False, federated=False)
    >>> any(t.object == ox.NamedNode(SD + "UnionDefaultGraph") for t in triples)
    True
    """
    service = ox.NamedNode(endpoint)
    dataset = ox.BlankNode()
    default_graph = ox.BlankNode()
    triples = [
        ox.Triple(service, RDF_TYPE, ox.NamedNode(SD + "Service")),
        ox.Triple(service, ox.NamedNode(SD + "endpoint"), service),
        ox.Triple(
            service, ox.NamedNode(DCTERMS + "title"), ox.Literal("citygraph SPARQL endpoint")
        ),
        ox.Triple(
            service, ox.NamedNode(SD + "supportedLanguage"), ox.NamedNode(SD + "SPARQL11Query")
        ),
        ox.Triple(
            service,
            ox.NamedNode(SD + "defaultEntailmentRegime"),
            ox.NamedNode("http://www.w3.org/ns/entailment/Simple"),
        ),
        ox.Triple(service, ox.NamedNode(SD + "feature"), ox.NamedNode(SD + "UnionDefaultGraph")),
        ox.Triple(service, ox.NamedNode(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, ox.NamedNode(SD + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode(site + VOID_PATH)),
        ox.Triple(dataset, ox.NamedNode(SD + "defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, ox.NamedNode(SD + "Graph")),
        ox.Triple(
            default_graph,
            ox.NamedNode(RDFS + "comment"),
            ox.Literal(
                "The union of all the named graphs (and of the unnamed graph).", language="en"
            ),
        ),
    ]
    if update:
        triples.append(
            ox.Triple(
                service, ox.NamedNode(SD + "supportedLanguage"), ox.NamedNode(SD + "SPARQL11Update")
            )
        )
    if federated:
        triples.append(
            ox.Triple(
                service, ox.NamedNode(SD + "feature"), ox.NamedNode(SD + "BasicFederatedQuery")
            )
        )
    for fmt in (*SOLUTION_FORMATS, *GRAPH_FORMATS):
        triples.append(
            ox.Triple(service, ox.NamedNode(SD + "resultFormat"), ox.NamedNode(fmt.w3c_iri))
        )
    if update:
        for fmt in GRAPH_FORMATS[:4]:
            triples.append(
                ox.Triple(service, ox.NamedNode(SD + "inputFormat"), ox.NamedNode(fmt.w3c_iri))
            )
    for name in graph_names:
        named = ox.BlankNode()
        graph = ox.BlankNode()
        triples += [
            ox.Triple(dataset, ox.NamedNode(SD + "namedGraph"), named),
            ox.Triple(named, RDF_TYPE, ox.NamedNode(SD + "NamedGraph")),
            ox.Triple(named, ox.NamedNode(SD + "name"), ox.NamedNode(name)),
            ox.Triple(named, ox.NamedNode(SD + "graph"), graph),
            ox.Triple(graph, RDF_TYPE, ox.NamedNode(SD + "Graph")),
        ]
    return triples
