"""Names of the other vocabularies' terms in the reader's language (issue 13 §2).

Our own terms are labelled in the ontology and the SKOS schemes (de, en, zh-Hans); the terms we
reuse from RDF, RDFS, OWL, SKOS, Dublin Core, PROV, schema.org, GeoSPARQL, ORG, FOAF and VoID
are not, so without this table a page shows ``geo:hasGeometry`` next to "country". Keys are
lower-case language tags, as :class:`citygraph.documents.LabelLookup` gives them.

>>> LABELS["http://www.w3.org/2002/07/owl#sameAs"]["de"]
'identisch mit'
"""

# The Chinese labels are Chinese text: their punctuation is not confusable there.
# ruff: noqa: RUF001

from __future__ import annotations

from citygraph.namespaces import PREFIXES

__all__ = ["LABELS"]

_RDF, _RDFS, _OWL = PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"]
_SKOS, _DCT, _PROV = PREFIXES["skos"], PREFIXES["dcterms"], PREFIXES["prov"]
_SCHEMA, _GEO, _ORG = PREFIXES["schema"], PREFIXES["geo"], PREFIXES["org"]
_FOAF, _VOID = PREFIXES["foaf"], PREFIXES["void"]
_VANN = "http://purl.org/vocab/vann/"

_TABLE: dict[str, tuple[str, str, str]] = {
    # (en, de, zh-Hans)
    _RDF + "type": ("type", "Typ", "类型"),
    _RDF + "subject": ("statement about", "Aussage über", "陈述对象"),
    _RDF + "predicate": ("property", "Eigenschaft", "属性"),
    _RDF + "object": ("value", "Wert", "值"),
    _RDF + "Statement": ("statement", "Aussage", "陈述"),
    _RDFS + "label": ("name", "Name", "名称"),
    _RDFS + "comment": ("description", "Beschreibung", "描述"),
    _RDFS + "seeAlso": ("see also", "siehe auch", "另见"),
    _RDFS + "isDefinedBy": ("defined by", "definiert in", "定义于"),
    _RDFS + "domain": ("domain", "Definitionsbereich", "定义域"),
    _RDFS + "range": ("range", "Wertebereich", "值域"),
    _RDFS + "subClassOf": ("subclass of", "Unterklasse von", "子类"),
    _OWL + "sameAs": ("same as", "identisch mit", "等同于"),
    _OWL + "unionOf": ("one of", "eines von", "其中之一"),
    _OWL + "versionIRI": ("version IRI", "Versions-IRI", "版本 IRI"),
    _OWL + "versionInfo": ("version", "Version", "版本"),
    _SKOS + "prefLabel": ("name", "Name", "名称"),
    _SKOS + "altLabel": ("also known as", "auch genannt", "又名"),
    _SKOS + "definition": ("definition", "Definition", "定义"),
    _SKOS + "exactMatch": ("same as elsewhere", "identisch anderswo", "其他处的相同项"),
    _SKOS + "closeMatch": ("close match", "ähnlicher Begriff", "相近概念"),
    _SKOS + "broadMatch": ("broader concept elsewhere", "Oberbegriff anderswo", "其他处的上位概念"),
    _SKOS + "inScheme": ("in scheme", "im Vokabular", "所属词表"),
    _SKOS + "topConceptOf": ("top concept of", "Hauptbegriff von", "顶层概念"),
    _SKOS + "hasTopConcept": ("top concepts", "Hauptbegriffe", "顶层概念"),
    _SKOS + "broader": ("broader", "Oberbegriff", "上位概念"),
    _SKOS + "narrower": ("narrower", "Unterbegriff", "下位概念"),
    _DCT + "title": ("title", "Titel", "标题"),
    _DCT + "description": ("description", "Beschreibung", "描述"),
    _DCT + "publisher": ("publisher", "Herausgeber", "发布者"),
    _DCT + "creator": ("creator", "Urheber", "创建者"),
    _DCT + "language": ("language", "Sprache", "语言"),
    _DCT + "license": ("licence", "Lizenz", "许可"),
    _DCT + "created": ("created", "erstellt", "创建于"),
    _DCT + "issued": ("issued", "veröffentlicht", "发布于"),
    _DCT + "modified": ("modified", "geändert", "修改于"),
    _DCT + "references": ("references", "verweist auf", "引用"),
    _DCT + "date": ("date", "Datum", "日期"),
    _DCT + "identifier": ("identifier", "Kennung", "标识符"),
    _DCT + "spatial": ("place", "Ort", "地点"),
    _DCT + "relation": ("related to", "bezogen auf", "相关"),
    _DCT + "isReferencedBy": ("referenced by", "zitiert von", "被引用于"),
    _DCT + "isReplacedBy": ("replaced by", "ersetzt durch", "被取代于"),
    _PROV + "wasDerivedFrom": ("source", "Quelle", "来源"),
    _SCHEMA + "latitude": ("latitude", "Breitengrad", "纬度"),
    _SCHEMA + "longitude": ("longitude", "Längengrad", "经度"),
    _SCHEMA + "url": ("web page", "Webseite", "网页"),
    _SCHEMA + "eventStatus": ("event status", "Veranstaltungsstatus", "活动状态"),
    _SCHEMA + "name": ("name", "Name", "名称"),
    _SCHEMA + "alternateName": ("also known as", "auch genannt", "又名"),
    _GEO + "hasGeometry": ("location", "Lage", "位置"),
    _GEO + "asWKT": ("geometry (WKT)", "Geometrie (WKT)", "几何（WKT）"),
    _GEO + "Geometry": ("geometry", "Geometrie", "几何"),
    _ORG + "subOrganizationOf": ("part of", "Teil von", "隶属于"),
    _ORG + "memberOf": ("member of", "Mitglied von", "成员所属"),
    _ORG + "Organization": ("organisation", "Organisation", "组织"),
    _FOAF + "primaryTopic": ("about", "über", "主题"),
    _VOID + "inDataset": ("in dataset", "im Datensatz", "所属数据集"),
    _VANN + "preferredNamespacePrefix": ("preferred prefix", "bevorzugtes Präfix", "首选前缀"),
    _VANN + "preferredNamespaceUri": ("namespace", "Namensraum", "命名空间"),
}

#: Labels of the reused terms: IRI -> {language tag: label}.
LABELS: dict[str, dict[str, str]] = {
    iri: {"en": en, "de": de, "zh-hans": zh} for iri, (en, de, zh) in _TABLE.items()
}
