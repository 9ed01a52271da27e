"""A deterministic generator of synthetic partnership graphs shaped like citygraph's model.

The output is N-Triples (one triple per line), streamed to disk: only the city keys, the
partnership pairs already used and a few parameter pools are kept in memory, never the graph.
The same seed and size give the same bytes, so results of different runs and machines compare.

What it writes follows ``docs/model.md``: countries; cities (``cg:City``) with labels in de, en
and zh-Hans, ``cg:country``, ``schema:latitude``/``longitude``, a WKT geometry, Wikidata and
GeoNames links and a source; a city government per city; partnerships (``cg:Partnership``) with
two distinct partners, type, status, a start date of mixed precision (``xsd:date``,
``xsd:gYearMonth``, ``xsd:gYear``), themes, agreements with signatories, participations and
sources (``prov:wasDerivedFrom``). About 1 % of the cities are hubs with about 8 times as many
partnerships as the others (capitals with 40 partners and more).

The symmetric ``cg:twinnedWith`` is *not* written: ``citygraph build`` derives it into
``graph:derived`` in both directions, as for the real data (writing it here too would put every
such triple twice into the union default graph).

Besides the data, :func:`generate` returns (and ``write_dataset`` saves as ``params.json``)
pools of query parameters taken from the data: hub cities, partnerships of hubs, label search
terms that match about 80 labels, year ranges. The query mix (``bench/queries``) names them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "GENERATOR_VERSION",
    "Dataset",
    "generate",
    "parse_size",
    "write_dataset",
]

#: Bumped whenever the output for a given seed and size changes (it invalidates cached data).
GENERATOR_VERSION = 1
DEFAULT_SEED = 20261127

#: Measured triples per city (including its share of partnerships, agreements and sources);
#: used to size the city count so that the partnerships fill the rest of the budget.
TRIPLES_PER_CITY = 91.0
PARTNERSHIPS_PER_CITY = 3.0
HUB_SHARE = 0.01
HUB_WEIGHT = 8.0
PARAMETER_VARIANTS = 16
SEARCH_TARGET_ROWS = 80

BASE = "https://w3id.org/citygraph/"
CG = BASE + "ontology#"
ID = BASE + "id/"
VOCAB = BASE + "vocab/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
CV = "http://data.europa.eu/m8g/"
GEO = "http://www.opengis.net/ont/geosparql#"
OWL = "http://www.w3.org/2002/07/owl#"

COUNTRIES = (
    ("de", "Deutschland", "Germany", "德国"),
    ("fr", "Frankreich", "France", "法国"),
    ("pl", "Polen", "Poland", "波兰"),
    ("cn", "China", "China", "中国"),
    ("us", "Vereinigte Staaten", "United States", "美国"),
    ("gb", "Vereinigtes Königreich", "United Kingdom", "英国"),
    ("it", "Italien", "Italy", "意大利"),
    ("es", "Spanien", "Spain", "西班牙"),
    ("jp", "Japan", "Japan", "日本"),
    ("ru", "Russland", "Russia", "俄罗斯"),
    ("tr", "Türkei", "Türkiye", "土耳其"),
    ("br", "Brasilien", "Brazil", "巴西"),
    ("in", "Indien", "India", "印度"),
    ("ng", "Nigeria", "Nigeria", "尼日利亚"),
    ("ua", "Ukraine", "Ukraine", "乌克兰"),
    ("nl", "Niederlande", "Netherlands", "荷兰"),
    ("be", "Belgien", "Belgium", "比利时"),
    ("at", "Österreich", "Austria", "奥地利"),
    ("ch", "Schweiz", "Switzerland", "瑞士"),
    ("cz", "Tschechien", "Czechia", "捷克"),
    ("se", "Schweden", "Sweden", "瑞典"),
    ("no", "Norwegen", "Norway", "挪威"),
    ("fi", "Finnland", "Finland", "芬兰"),
    ("dk", "Dänemark", "Denmark", "丹麦"),
    ("hu", "Ungarn", "Hungary", "匈牙利"),
    ("ro", "Rumänien", "Romania", "罗马尼亚"),
    ("il", "Israel", "Israel", "以色列"),
    ("kr", "Südkorea", "South Korea", "韩国"),
    ("mx", "Mexiko", "Mexico", "墨西哥"),
    ("za", "Südafrika", "South Africa", "南非"),
    ("gh", "Ghana", "Ghana", "加纳"),
    ("vn", "Vietnam", "Vietnam", "越南"),
)
# Heavier weights first: most partnerships in the real data involve German and French towns.
COUNTRY_WEIGHTS = (30, 14, 9, 8, 6, 6, 5, 4, 3, 3, 3) + (1,) * (len(COUNTRIES) - 11)

# (latin syllable, Chinese transliteration) pairs for synthetic place names.
SYLLABLES = (
    ("ber", "贝"),
    ("lin", "林"),
    ("kal", "卡"),
    ("mo", "莫"),
    ("ran", "兰"),
    ("to", "托"),
    ("sa", "萨"),
    ("wen", "文"),
    ("dor", "多"),
    ("fu", "福"),
    ("nis", "尼"),
    ("ha", "哈"),
    ("mel", "梅"),
    ("ki", "基"),
    ("zo", "佐"),
    ("bur", "堡"),
    ("gen", "根"),
    ("sta", "施"),
    ("li", "利"),
    ("ve", "韦"),
    ("ro", "罗"),
    ("pa", "帕"),
    ("tan", "坦"),
    ("chi", "奇"),
    ("el", "埃"),
    ("mar", "马"),
    ("on", "昂"),
    ("gu", "古"),
    ("de", "德"),
    ("ni", "妮"),
    ("sol", "索"),
    ("ta", "塔"),
    ("ven", "文"),
    ("ka", "卡"),
    ("mu", "穆"),
    ("ri", "里"),
    ("shan", "山"),
    ("hai", "海"),
    ("jiang", "江"),
    ("an", "安"),
    ("bo", "博"),
    ("go", "戈"),
    ("ne", "内"),
    ("lu", "卢"),
    ("wa", "瓦"),
    ("tor", "托"),
    ("ess", "埃"),
    ("vil", "维"),
)
GERMAN_SUFFIXES = ("", "", "", "", "burg", "hausen", "dorf", "stadt", "heim", "au")

PARTNERSHIP_TYPES = (
    ("partnership", 60),
    ("friendship", 25),
    ("contact", 5),
    ("project-partnership", 5),
    ("cooperation-agreement", 5),
)
STATUSES = (("active", 70), ("dormant", 15), ("ended", 12), ("planned", 3))
THEMES = (
    "economy", "science", "research", "innovation", "urban-development", "environment",
    "climate", "mobility", "public-safety", "education", "youth-exchange", "culture", "sport",
    "integration", "justice", "administration", "tourism", "sustainability",
)  # fmt: skip
THEME_WEIGHTS = (9, 3, 3, 3, 4, 5, 4, 2, 1, 6, 8, 10, 6, 3, 1, 2, 5, 4)
AGREEMENT_TYPES = (
    "agreement", "joint-declaration", "memorandum", "letter-of-intent", "friendship-treaty",
    "cooperation-agreement", "partnership-deed", "framework-agreement", "communique",
)  # fmt: skip
ROLES = ("signatory", "representative", "operator", "partner-institution", "organiser")
PUBLISHERS = (
    "Senatskanzlei Berlin", "Deutscher Städtetag", "RGRE Deutsche Sektion",
    "Conseil des Communes et Régions d'Europe", "Stadtverwaltung", "Wikidata",
)  # fmt: skip


@dataclass
class Dataset:
    """What :func:`generate` wrote: counts and the parameter pools for the query mix."""

    triples: int = 0
    cities: int = 0
    partnerships: int = 0
    params: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    digest: str = ""


def parse_size(text: str) -> int:
    """Parse ``100k``, ``1M``, ``10M`` or a plain number into a triple count.

    >>> parse_size("100k"), parse_size("1M"), parse_size("2500")
    (100000, 1000000, 2500)

    Raises:
        ValueError: if ``text`` is not a positive size.
    """
    cleaned = text.strip().lower().replace("_", "")
    factor = 1
    if cleaned.endswith("k"):
        factor, cleaned = 1_000, cleaned[:-1]
    elif cleaned.endswith("m"):
        factor, cleaned = 1_000_000, cleaned[:-1]
    value = int(float(cleaned) * factor)
    if value <= 0:
        raise ValueError(f"size must be positive: {text!r}")
    return value


def size_label(triples: int) -> str:
    """The short label of a size: ``100k``, ``1M``, ``10M`` or the number.

    >>> size_label(1_000_000), size_label(100_000), size_label(1234)
    ('1M', '100k', '1234')
    """
    if triples % 1_000_000 == 0:
        return f"{triples // 1_000_000}M"
    if triples % 1_000 == 0:
        return f"{triples // 1_000}k"
    return str(triples)


def write_dataset(out_dir: Path, triples: int, *, seed: int = DEFAULT_SEED) -> Dataset:
    """Write ``data.nt`` and ``params.json`` into ``out_dir`` (created if needed).

    The N-Triples are written to a temporary name and renamed when complete, so a killed run
    never leaves a truncated ``data.nt`` behind.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "data.nt.tmp"
    with tmp.open("w", encoding="utf-8", newline="\n") as stream:
        dataset = generate(stream, triples, seed=seed)
    tmp.replace(out_dir / "data.nt")
    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "requested_triples": triples,
        "triples": dataset.triples,
        "cities": dataset.cities,
        "partnerships": dataset.partnerships,
        "sha256": dataset.digest,
        "params": dataset.params,
    }
    (out_dir / "params.json").write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return dataset


def generate(stream: IO[str], triples: int, *, seed: int = DEFAULT_SEED) -> Dataset:
    """Write about ``triples`` N-Triples lines to ``stream``; return counts and parameters.

    The count is met within a few triples: cities are sized from :data:`TRIPLES_PER_CITY`,
    then partnerships are added until the budget is used.
    """
    return _Generator(stream, triples, seed).run()


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(value: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    if lang is not None:
        return f'"{escaped}"@{lang}'
    if datatype is not None:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


class _Generator:
    """One generation run; the random stream is consumed in a fixed order (determinism)."""

    def __init__(self, stream: IO[str], triples: int, seed: int) -> None:
        self.stream = stream
        self.budget = triples
        self.rng = random.Random(seed)
        self.count = 0
        self.digest = hashlib.sha256()
        self.city_keys: list[str] = []
        self.city_countries: list[int] = []
        self.city_names: list[str] = []
        self.hubs: list[int] = []
        self.hub_set: set[int] = set()
        self.sources: list[str] = []
        self.pairs: set[tuple[int, int]] = set()
        self.hub_partnerships: list[str] = []
        self.partnerships = 0
        self.buffer: list[str] = []

    # -- output -------------------------------------------------------------------------------

    def emit(self, subject: str, predicate: str, obj: str) -> None:
        self.buffer.append(f"{subject} {predicate} {obj} .\n")
        self.count += 1
        if len(self.buffer) >= 4096:
            self.flush()

    def flush(self) -> None:
        chunk = "".join(self.buffer)
        self.buffer.clear()
        self.stream.write(chunk)
        self.digest.update(chunk.encode("utf-8"))

    # -- random helpers -----------------------------------------------------------------------

    def weighted(self, options: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]

    def date(self, year: int) -> str:
        """A date literal of mixed precision: 50 % day, 20 % month, 30 % year only."""
        roll = self.rng.random()
        month = self.rng.randint(1, 12)
        if roll < 0.5:
            day = self.rng.randint(1, 28)
            return _lit(f"{year:04d}-{month:02d}-{day:02d}", datatype=XSD + "date")
        if roll < 0.7:
            return _lit(f"{year:04d}-{month:02d}", datatype=XSD + "gYearMonth")
        return _lit(f"{year:04d}", datatype=XSD + "gYear")

    def name(self) -> tuple[str, str, str]:
        """(English, German, Chinese) names of a synthetic place."""
        count = self.rng.choice((2, 2, 2, 3, 3))
        parts = [self.rng.choice(SYLLABLES) for _ in range(count)]
        latin = "".join(p[0] for p in parts)
        english = latin.capitalize()
        german = (english + self.rng.choice(GERMAN_SUFFIXES)).replace("c", "k")
        chinese = "".join(p[1] for p in parts)
        return english, german, chinese

    # -- the graph ----------------------------------------------------------------------------

    def run(self) -> Dataset:
        n_cities = max(4, round(self.budget / TRIPLES_PER_CITY))
        self.countries()
        self.new_source()
        for index in range(n_cities):
            self.city(index)
        self.choose_hubs()
        cumulative = self.partner_weights()
        while self.count < self.budget:
            self.partnership(cumulative)
        self.flush()
        return Dataset(
            triples=self.count,
            cities=len(self.city_keys),
            partnerships=self.partnerships,
            params=self.parameters(),
            digest=self.digest.hexdigest(),
        )

    def countries(self) -> None:
        for code, de, en, zh in COUNTRIES:
            country = _iri(f"{ID}country/{code}")
            self.emit(country, _iri(RDF_TYPE), _iri(CG + "Country"))
            self.emit(country, _iri(RDFS + "label"), _lit(de, lang="de"))
            self.emit(country, _iri(RDFS + "label"), _lit(en, lang="en"))
            self.emit(country, _iri(RDFS + "label"), _lit(zh, lang="zh-Hans"))
            self.emit(country, _iri(CG + "isoCode"), _lit(code.upper()))

    def new_source(self) -> str:
        number = len(self.sources)
        source = f"{ID}source/synthetic-{number}"
        s = _iri(source)
        self.emit(s, _iri(RDF_TYPE), _iri(CG + "Source"))
        self.emit(s, _iri(DCT + "title"), _lit(f"Städtepartnerschaften, Teil {number}", lang="de"))
        self.emit(s, _iri(DCT + "publisher"), _lit(self.rng.choice(PUBLISHERS)))
        self.emit(s, _iri(DCT + "language"), _lit("de", datatype=XSD + "language"))
        self.emit(s, _iri(SCHEMA + "url"), _iri(f"https://example.org/partnerschaften/{number}"))
        year = self.rng.randint(2019, 2026)
        retrieved = f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        self.emit(s, _iri(CG + "retrieved"), _lit(retrieved, datatype=XSD + "date"))
        self.emit(s, _iri(DCT + "identifier"), _lit(f"synthetic-{number}.html"))
        self.sources.append(source)
        return source

    def some_source(self) -> str:
        if self.rng.random() < 0.3:
            return self.new_source()
        return self.rng.choice(self.sources[-50:])

    def city(self, index: int) -> None:
        country_index = self.rng.choices(range(len(COUNTRIES)), weights=COUNTRY_WEIGHTS)[0]
        code = COUNTRIES[country_index][0]
        english, german, chinese = self.name()
        key = f"{code}-{english.lower()}-{index:x}"
        city = _iri(f"{ID}city/{key}")
        self.city_keys.append(key)
        self.city_countries.append(country_index)
        self.city_names.append(english.lower())
        self.city_names.append(german.lower())
        self.emit(city, _iri(RDF_TYPE), _iri(CG + "City"))
        self.emit(city, _iri(RDFS + "label"), _lit(german, lang="de"))
        self.emit(city, _iri(RDFS + "label"), _lit(english, lang="en"))
        self.emit(city, _iri(RDFS + "label"), _lit(chinese, lang="zh-Hans"))
        if self.rng.random() < 0.2:
            self.emit(city, _iri(SKOS + "altLabel"), _lit(english.upper(), lang="en"))
        self.emit(city, _iri(CG + "country"), _iri(f"{ID}country/{code}"))
        lat = self.rng.uniform(-60.0, 70.0)
        lon = self.rng.uniform(-180.0, 180.0)
        self.emit(city, _iri(SCHEMA + "latitude"), _lit(f"{lat:.4f}", datatype=XSD + "decimal"))
        self.emit(city, _iri(SCHEMA + "longitude"), _lit(f"{lon:.4f}", datatype=XSD + "decimal"))
        geometry = _iri(f"{ID}city/{key}/geometry")
        self.emit(city, _iri(GEO + "hasGeometry"), geometry)
        wkt = f"POINT({lon:.4f} {lat:.4f})"
        self.emit(geometry, _iri(GEO + "asWKT"), _lit(wkt, datatype=GEO + "wktLiteral"))
        if self.rng.random() < 0.6:
            qid = 1_000_000 + index * 7
            self.emit(city, _iri(OWL + "sameAs"), _iri(f"http://www.wikidata.org/entity/Q{qid}"))
        geonames = 2_000_000 + index * 13
        self.emit(city, _iri(SKOS + "exactMatch"), _iri(f"https://sws.geonames.org/{geonames}/"))
        self.emit(city, _iri(PROV + "wasDerivedFrom"), _iri(self.some_source()))
        # The city government (an organisation signing the agreements).
        government = _iri(f"{ID}org/{key}-government")
        self.emit(government, _iri(RDF_TYPE), _iri(ORG + "Organization"))
        self.emit(government, _iri(RDF_TYPE), _iri(CV + "PublicOrganisation"))
        self.emit(government, _iri(RDFS + "label"), _lit(f"Stadtverwaltung {german}", lang="de"))
        self.emit(government, _iri(RDFS + "label"), _lit(f"City of {english}", lang="en"))
        self.emit(
            government,
            _iri(CG + "organisationType"),
            _iri(f"{VOCAB}organisation-type/city-government"),
        )
        self.emit(government, _iri(DCT + "spatial"), city)
        self.emit(government, _iri(PROV + "wasDerivedFrom"), _iri(self.some_source()))

    def choose_hubs(self) -> None:
        n_hubs = max(1, round(len(self.city_keys) * HUB_SHARE))
        self.hubs = sorted(self.rng.sample(range(len(self.city_keys)), n_hubs))
        self.hub_set = set(self.hubs)

    def partner_weights(self) -> list[float]:
        cumulative: list[float] = []
        total = 0.0
        for index in range(len(self.city_keys)):
            total += HUB_WEIGHT if index in self.hub_set else 1.0
            cumulative.append(total)
        return cumulative

    def pick(self, cumulative: list[float]) -> int:
        return bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])

    def partnership(self, cumulative: list[float]) -> None:
        a, b = self.pick(cumulative), self.pick(cumulative)
        pair = (min(a, b), max(a, b))
        if a == b or pair in self.pairs:
            return
        self.pairs.add(pair)
        self.partnerships += 1
        first, second = sorted((self.city_keys[a], self.city_keys[b]))
        key = f"{first}--{second}"
        p = _iri(f"{ID}partnership/{key}")
        if (a in self.hub_set or b in self.hub_set) and len(self.hub_partnerships) < 4096:
            self.hub_partnerships.append(key)
        name_a, name_b = self.display(first), self.display(second)
        self.emit(p, _iri(RDF_TYPE), _iri(CG + "Partnership"))
        self.emit(p, _iri(RDFS + "label"), _lit(f"{name_a} \u2013 {name_b}", lang="en"))
        self.emit(p, _iri(CG + "partner"), _iri(f"{ID}city/{self.city_keys[a]}"))
        self.emit(p, _iri(CG + "partner"), _iri(f"{ID}city/{self.city_keys[b]}"))
        kind = self.weighted(PARTNERSHIP_TYPES)
        self.emit(p, _iri(CG + "partnershipType"), _iri(f"{VOCAB}partnership-type/{kind}"))
        status = self.weighted(STATUSES)
        self.emit(p, _iri(CG + "status"), _iri(f"{VOCAB}status/{status}"))
        start = self.rng.randint(1947, 2025)
        if self.rng.random() < 0.95:
            self.emit(p, _iri(CG + "startDate"), self.date(start))
        if status == "ended":
            self.emit(
                p, _iri(CG + "endDate"), self.date(min(2026, start + self.rng.randint(1, 30)))
            )
        if self.rng.random() < 0.2:
            self.emit(p, _iri(CG + "statusSince"), self.date(min(2026, start + 5)))
        for theme in sorted(set(self.rng.choices(THEMES, weights=THEME_WEIGHTS, k=2))):
            self.emit(p, _iri(CG + "theme"), _iri(f"{VOCAB}theme/{theme}"))
        if self.rng.random() < 0.3:
            comment = f"Synthetic partnership of {name_a} and {name_b} since {start}."
            self.emit(p, _iri(RDFS + "comment"), _lit(comment, lang="en"))
        source = self.some_source()
        self.emit(p, _iri(PROV + "wasDerivedFrom"), _iri(source))
        if self.rng.random() < 0.4:
            self.emit(p, _iri(PROV + "wasDerivedFrom"), _iri(self.some_source()))
        for number in range(self.rng.choice((0, 1, 1, 1, 2))):
            self.agreement(p, key, start + number * 3, a, b, source)
        if self.rng.random() < 0.1:
            self.participation(p, key, start, a)

    def display(self, key: str) -> str:
        # "de-kalobur-3f" -> "Kalobur"
        return key.split("-")[1].capitalize()

    def agreement(self, p: str, key: str, year: int, a: int, b: int, source: str) -> None:
        kind = self.rng.choice(AGREEMENT_TYPES)
        agreement = _iri(f"{ID}agreement/{key}-{year}-{kind}")
        self.emit(p, _iri(CG + "agreement"), agreement)
        self.emit(agreement, _iri(RDF_TYPE), _iri(CG + "Agreement"))
        self.emit(agreement, _iri(CG + "agreementType"), _iri(f"{VOCAB}agreement-type/{kind}"))
        title = f"Vereinbarung über die Partnerschaft ({year})"
        self.emit(agreement, _iri(DCT + "title"), _lit(title, lang="de"))
        self.emit(agreement, _iri(CG + "signedOn"), self.date(min(2026, year)))
        for index in (a, b):
            government = _iri(f"{ID}org/{self.city_keys[index]}-government")
            self.emit(agreement, _iri(CG + "signatory"), government)
        if self.rng.random() < 0.5:
            self.emit(agreement, _iri(CG + "signedAt"), _iri(f"{ID}city/{self.city_keys[a]}"))
        self.emit(agreement, _iri(PROV + "wasDerivedFrom"), _iri(source))

    def participation(self, p: str, key: str, year: int, a: int) -> None:
        node = _iri(f"{ID}participation/{key}-{self.city_keys[a]}-government")
        self.emit(node, _iri(RDF_TYPE), _iri(CG + "Participation"))
        government = _iri(f"{ID}org/{self.city_keys[a]}-government")
        self.emit(node, _iri(CG + "participant"), government)
        self.emit(node, _iri(CG + "inPartnership"), p)
        self.emit(node, _iri(CG + "role"), _iri(f"{VOCAB}role/{self.rng.choice(ROLES)}"))
        self.emit(node, _iri(CG + "startDate"), self.date(year))

    # -- parameters for the query mix ---------------------------------------------------------

    def parameters(self) -> dict[str, list[dict[str, str]]]:
        """Pools of query parameters (SPARQL terms), PARAMETER_VARIANTS each, from the data."""
        rng = random.Random(len(self.city_keys))  # independent of the data stream
        city = f"{ID}city/"
        cities = rng.sample(self.city_keys, min(PARAMETER_VARIANTS, len(self.city_keys)))
        hubs = [self.city_keys[i] for i in self.hubs[:PARAMETER_VARIANTS]]
        hub_partnerships = self.hub_partnerships[:: max(1, len(self.hub_partnerships) // 16)]
        years = [(y, y + 4) for y in range(1950, 2026, 5)][:PARAMETER_VARIANTS]
        return {
            "city": [{"city": _iri(city + k)} for k in cities],
            "hub_city": [{"city": _iri(city + k)} for k in hubs],
            "hub_partnership": [
                {"partnership": _iri(f"{ID}partnership/{k}")}
                for k in hub_partnerships[:PARAMETER_VARIANTS]
            ],
            "search_term": [{"term": _lit(t)} for t in self.search_terms()],
            "year_range": [{"from": str(lo), "to": str(hi)} for lo, hi in years],
            "label_language": [{"lang": _lit(x)} for x in ("en", "de", "zh-Hans")],
            "status": [{"status": _iri(f"{VOCAB}status/{s}")} for s, _ in STATUSES],
        }

    def search_terms(self) -> list[str]:
        """Substrings of city names that match about SEARCH_TARGET_ROWS labels each."""
        counts: Counter[str] = Counter()
        for name in self.city_names:
            seen = {name[i : i + n] for n in (4, 5) for i in range(len(name) - n + 1)}
            counts.update(seen)
        ranked = sorted(counts.items(), key=lambda kv: (abs(kv[1] - SEARCH_TARGET_ROWS), kv[0]))
        return [term for term, _ in ranked[:PARAMETER_VARIANTS]]


def iter_lines(path: Path) -> Iterator[str]:
    """Yield the lines of a generated file (for tests and checks)."""
    with path.open(encoding="utf-8") as stream:
        yield from stream


def load_params(out_dir: Path) -> dict[str, Any]:
    """Read ``params.json`` written by :func:`write_dataset`."""
    data: dict[str, Any] = json.loads((out_dir / "params.json").read_text(encoding="utf-8"))
    return data
