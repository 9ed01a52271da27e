"""Base IRIs and the one prefix map used by Turtle, SPARQL and pages."""

from __future__ import annotations

from typing import Final

__all__ = [
    "BASE",
    "CG",
    "GRAPH",
    "GRAPH_CURATED",
    "GRAPH_DERIVED",
    "GRAPH_META",
    "GRAPH_ONTOLOGY",
    "GRAPH_VOCAB",
    "GRAPH_WORLDWIDE",
    "PREFIXES",
    "SH",
    "SHAPES",
    "sparql_prolog",
]

#: The canonical public base of every citygraph IRI (the server may map it to its own address).
BASE: Final = "https://w3id.org/citygraph/"
CG: Final = BASE + "ontology#"
SHAPES: Final = BASE + "shapes#"
VOCAB: Final = BASE + "vocab/"
ID: Final = BASE + "id/"
GRAPH: Final = BASE + "graph/"
SH: Final = "http://www.w3.org/ns/shacl#"

GRAPH_ONTOLOGY: Final = GRAPH + "ontology"
GRAPH_VOCAB: Final = GRAPH + "vocab"
GRAPH_CURATED: Final = GRAPH + "curated"
GRAPH_DERIVED: Final = GRAPH + "derived"
GRAPH_WORLDWIDE: Final = GRAPH + "worldwide"
GRAPH_META: Final = GRAPH + "meta"

#: One prefix map for everything citygraph writes or shows (see docs/model.md).
PREFIXES: Final[dict[str, str]] = {
    "cg": CG,
    "cgsh": SHAPES,
    "cgv": VOCAB,
    "city": ID + "city/",
    "region": ID + "region/",
    "district": ID + "district/",
    "country": ID + "country/",
    "organisation": ID + "org/",
    "partnership": ID + "partnership/",
    "agreement": ID + "agreement/",
    "participation": ID + "participation/",
    "event": ID + "event/",
    "source": ID + "source/",
    "claim": ID + "claim/",
    "graph": GRAPH,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "cv": "http://data.europa.eu/m8g/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "dbo": "http://dbpedia.org/ontology/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": SH,
}


def sparql_prolog(names: list[str] | None = None) -> str:
    """Return SPARQL ``PREFIX`` lines for ``names`` (all prefixes when ``None``).

    >>> sparql_prolog(["cg"])
    'PREFIX cg: <https://w3id.org/citygraph/ontology#>\\n'
    """
    chosen = PREFIXES if names is None else {name: PREFIXES[name] for name in names}
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in chosen.items())
