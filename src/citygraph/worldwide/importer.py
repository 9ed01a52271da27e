"""Importing the Wikipedia twin-town lists into graph:worldwide.

:func:`plan_import` is pure: rows, GeoNames, the curated places and the previous worldwide graph
in; quads and an :class:`~citygraph.worldwide.report.ImportReport` out. :func:`import_twins`
reads the files and the current store, plans, and publishes the new graph with
:func:`citygraph.build.replace_graph` (atomically; a malformed file stops it before anything is
written). The rules are in docs/worldwide.md.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyoxigraph as ox

from citygraph import __version__, build, store
from citygraph.namespaces import GRAPH_WORLDWIDE, PREFIXES
from citygraph.worldwide.cells import Cell, Rejected, cached_cell
from citygraph.worldwide.csvfile import Row, TwinFile, read_twin_file
from citygraph.worldwide.curated import CuratedIndex, load_curated
from citygraph.worldwide.geonames import (
    GeoCity,
    GeoNamesIndex,
    GeoRegion,
    MatchStatus,
    distance_km,
)
from citygraph.worldwide.normalise import PlaceKind, match_key
from citygraph.worldwide.report import ImportReport, Issue
from citygraph.worldwide.triples import Vocabulary, claim_quads, place_quads, source_quads

__all__ = ["ImportPlan", "import_twins", "plan_import"]

#: Two points of one place further apart than this conflict.
CONFLICT_KM = 25.0


@dataclass
class Place:
    """A resolved place of the worldwide layer (or a curated place it points to)."""

    iri: str
    kind: PlaceKind
    iso: str
    geonames: GeoCity | GeoRegion | None
    curated: bool
    parent_iri: str | None = None
    status: MatchStatus = MatchStatus.MATCHED
    names: Counter[str] = field(default_factory=Counter)
    points: set[tuple[float, float]] = field(default_factory=set)
    #: Every point the files give the place, also those ignored (for the distance check).
    input_points: set[tuple[float, float]] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


@dataclass
class ImportPlan:
    """What an import would publish, and its report."""

    quads: list[ox.Quad]
    report: ImportReport


def plan_import(
    files: Sequence[TwinFile],
    geo: GeoNamesIndex,
    curated: CuratedIndex,
    *,
    previous: Iterable[ox.Quad] = (),
    today: date,
    vocabulary: Vocabulary | None = None,
) -> ImportPlan:
    """Turn the files' rows into the quads of graph:worldwide and an import report.

    Deterministic: the same files, GeoNames data and curated places give the same quads (the
    import date is kept from ``previous`` when a file's digest is unchanged).

    Three rows, one pair: the second row names it again, the third has no known country.

    >>> geo = GeoNamesIndex.from_records(
    ...     [{"geonameid": 2950159, "name": "Berlin", "countrycode": "DE", "latitude": 52.52437,
    ...       "longitude": 13.41053, "population": 3426354},
    ...      {"geonameid": 2988507, "name": "Paris", "countrycode": "FR", "latitude": 48.85341,
    ...       "longitude": 2.3488, "population": 2138551}],
    ...     countries={"DE": "Germany", "FR": "France"},
    ... )
    >>> rows = (
    ...     Row(2, "Berlin", "Germany", "Paris", "France"),
    ...     Row(3, "Paris", "France", "Berlin", "Germany"),
    ...     Row(4, "Berlin", "Atlantis", "Paris", "France"),
    ... )
    >>> twins = TwinFile(Path("twin_cities_raw.csv"), "raw", rows, sha256="0" * 64)
    >>> plan = plan_import([twins], geo, CuratedIndex(), today=date(2026, 12, 7))
    >>> plan.report.pairs, plan.report.added
    (1, ['https://w3id.org/citygraph/id/partnership/de-berlin--fr-paris'])
    >>> [(issue.line, issue.outcome, issue.reason) for issue in plan.report.issues]
    [(4, 'rejected', 'unknown-country'), (3, 'merged', 'duplicate')]

    A pair the curated data has is left to it: the lists' claim is recorded beside it.

    >>> from citygraph.worldwide.curated import CuratedPlace
    >>> city = PREFIXES["city"]
    >>> curated = CuratedIndex(
    ...     [CuratedPlace(city + "de-berlin", PlaceKind.CITY, "DE", frozenset(), frozenset()),
    ...      CuratedPlace(city + "fr-paris", PlaceKind.CITY, "FR", frozenset(), frozenset())],
    ...     pairs={
    ...         frozenset((city + "de-berlin", city + "fr-paris")):
    ...         PREFIXES["partnership"] + "de-berlin--fr-paris"
    ...     },
    ... )
    >>> plan = plan_import([twins], geo, curated, today=date(2026, 12, 7))
    >>> plan.report.pairs, plan.report.already_curated, plan.report.added
    (0, 1, ['https://w3id.org/citygraph/id/claim/de-berlin--fr-paris-wikipedia'])
    """
    vocab = vocabulary or Vocabulary()
    report = ImportReport(files=[str(f.path) for f in files])
    previous = list(previous)
    cells: dict[tuple[str, str, tuple[float, float] | None], Cell | Rejected] = {}
    resolved: list[tuple[str, str, Row, Cell, Cell]] = []
    # A raw row borrows the coordinates a geocoded file gives the same (name, country) cell.
    known = _known_points(files)
    shared = _shared_points(files)
    for twin_file in files:
        source_iri = vocab.source_iri(twin_file.path)
        for row in twin_file.rows:
            report.rows_read += 1
            point1 = row.point1 or known.get((row.city1, row.country1))
            point2 = row.point2 or known.get((row.city2, row.country2))
            try:
                left = cached_cell(
                    cells, row.city1, row.country1, point1, geo, curated, shared=shared
                )
                right = cached_cell(
                    cells, row.city2, row.country2, point2, geo, curated, shared=shared
                )
            except Rejected as rejected:
                report.add(
                    Issue(
                        str(twin_file.path), row.line, "rejected", rejected.reason, rejected.detail
                    )
                )
                continue
            resolved.append((source_iri, str(twin_file.path), row, left, right))
            for cell, point in ((left, row.point1), (right, row.point2)):
                if point is not None and cell.point_issue is not None:
                    report.add(
                        Issue(
                            str(twin_file.path),
                            row.line,
                            "warning",
                            cell.point_issue,
                            f"{cell.name.display} ({cell.iso}): {point} ignored",
                        )
                    )

    places = _assign_iris(resolved, curated)
    pairs: dict[frozenset[str], tuple[str, set[str]]] = {}
    keys: dict[str, list[frozenset[str]]] = {
        p.rsplit("/", 1)[-1]: [] for p in curated.pairs.values()
    }
    for source_iri, file_name, row, left, right in resolved:
        a, b = places[_identity(left)], places[_identity(right)]
        if a.iri == b.iri:
            report.add(
                Issue(
                    file_name,
                    row.line,
                    "rejected",
                    "self-loop",
                    f"{row.city1} ({row.country1}) = {row.city2} ({row.country2})",
                )
            )
            continue
        for place, cell in ((a, left), (b, right)):
            place.names[cell.name.display] += 1
            if cell.point is not None:
                place.points.add(cell.point)
            if cell.input_point is not None:
                place.input_points.add(cell.input_point)
            place.sources.add(source_iri)
        pair = frozenset((a.iri, b.iri))
        if pair in pairs:
            pairs[pair][1].add(source_iri)
            report.add(
                Issue(
                    file_name,
                    row.line,
                    "merged",
                    "duplicate",
                    f"{row.city1} / {row.city2}: same pair as before",
                )
            )
            continue
        key = _pair_key(a, b)
        if key in keys and pair not in curated.pairs:
            # Two pairs whose place keys coincide (district:x and city:x): keep both apart.
            key = f"{key}--{len(keys[key])}"
        keys.setdefault(_pair_key(a, b), []).append(pair)
        pairs[pair] = (key, {source_iri})
        if pair in curated.pairs:
            report.add(
                Issue(file_name, row.line, "skipped", "already-curated", curated.pairs[pair])
            )

    quads: list[ox.Quad] = []
    for twin_file in files:
        quads += source_quads(vocab, twin_file, today, previous, __version__)
    quads += vocab.geonames_source_quads() + vocab.istat_source_quads()
    used = {iri for pair in pairs for iri in pair}
    parents = used | {p.iri for p in curated.places}
    by_iri = {place.iri: place for place in places.values()}
    for place in sorted(places.values(), key=lambda p: p.iri):
        if place.iri not in used or place.curated:
            continue
        issue = _coordinates(place)
        if issue:
            report.add(Issue("", 0, "warning", "conflicting-coordinates", issue))
        quads += place_quads(vocab, place, parents=parents)
    for pair, (key, sources) in sorted(pairs.items(), key=lambda item: item[1][0]):
        first, second = sorted(pair)
        if pair in curated.pairs:
            quads += claim_quads(key, first, second, sorted(sources))
            continue
        names = sorted(_label(by_iri[iri]) for iri in (first, second))
        label = f"{names[0]} / {names[1]}"  # names may hold dashes themselves
        quads += vocab.partnership_quads(key, first, second, label, sorted(sources))
    quads += vocab.country_quads(
        sorted({p.iso for p in places.values() if p.iri in used and not p.curated}),
        curated.countries,
        geo.country_labels,
    )
    report.pairs = sum(1 for pair in pairs if pair not in curated.pairs)
    report.already_curated = sum(1 for pair in pairs if pair in curated.pairs)
    _count_places(report, [p for p in places.values() if p.iri in used], geo)
    report.diff(previous, quads)
    return ImportPlan(quads=_dedupe(quads), report=report)


def _label(place: Place) -> str:
    return sorted(place.names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def _known_points(files: Sequence[TwinFile]) -> dict[tuple[str, str], tuple[float, float]]:
    known: dict[tuple[str, str], tuple[float, float]] = {}
    for twin_file in files:
        for row in twin_file.rows:
            if row.point1 is not None:
                known.setdefault((row.city1, row.country1), row.point1)
            if row.point2 is not None:
                known.setdefault((row.city2, row.country2), row.point2)
    return known


def _shared_points(files: Sequence[TwinFile]) -> frozenset[tuple[float, float]]:
    """The points the files give to places of different names (or countries): "Izumizaki",
    "Koori", "Marumori" and six more Japanese towns at one point, "Pineto" at Rome's."""
    names: dict[tuple[float, float], set[tuple[str, str]]] = {}
    for twin_file in files:
        for row in twin_file.rows:
            for city, country, point in (
                (row.city1, row.country1, row.point1),
                (row.city2, row.country2, row.point2),
            ):
                if point is not None:
                    names.setdefault(point, set()).add((match_key(city), country))
    return frozenset(point for point, cells in names.items() if len(cells) > 1)


def _dedupe(quads: list[ox.Quad]) -> list[ox.Quad]:
    return list(dict.fromkeys(quads))


def _identity(cell: Cell) -> tuple[object, ...]:
    """What makes two cells the same place: curated IRI, GeoNames record, or kind and key."""
    if cell.curated is not None:
        return ("curated", cell.curated.iri)
    if cell.geonames is not None:
        return ("geonames", cell.geonames.id)
    return (cell.kind.value, cell.key)


def _assign_iris(
    resolved: Sequence[tuple[str, str, Row, Cell, Cell]], curated: CuratedIndex
) -> dict[tuple[object, ...], Place]:
    """One :class:`Place` per identity; IRIs unique (GeoNames ID appended on a clash)."""
    cells: dict[tuple[object, ...], list[Cell]] = defaultdict(list)
    for _, _, _, left, right in resolved:
        cells[_identity(left)].append(left)
        cells[_identity(right)].append(right)
    places: dict[tuple[object, ...], Place] = {}
    base = {
        "city": PREFIXES["city"],
        "district": PREFIXES["district"],
        "region": PREFIXES["region"],
    }
    by_iri: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for identity, group in cells.items():
        first = group[0]
        if first.curated is not None:
            places[identity] = Place(
                first.curated.iri, first.curated.kind, first.iso, first.geonames, curated=True
            )
            continue
        # A record reached both as "Spandau" and as "Spandau (Berlin)" is the district.
        chosen = min(group, key=lambda c: (c.kind is not PlaceKind.DISTRICT, c.key))
        iri = base[chosen.kind.value] + chosen.key
        parent = None
        if chosen.kind is PlaceKind.DISTRICT and chosen.parent_key is not None:
            parent = chosen.parent_key
        places[identity] = Place(
            iri,
            chosen.kind,
            chosen.iso,
            chosen.geonames,
            curated=False,
            parent_iri=parent,
            status=chosen.status,
        )
        by_iri[iri].append(identity)
    curated_iris = {p.iri for p in curated.places}
    for iri, identities in by_iri.items():
        if len(identities) == 1 and iri not in curated_iris:
            continue
        for identity in identities:
            place = places[identity]
            if place.geonames is not None:
                place.iri = f"{iri}-{place.geonames.id}"
    _resolve_parents(places, curated)
    return places


def _resolve_parents(places: Mapping[tuple[object, ...], Place], curated: CuratedIndex) -> None:
    iris = {p.key: p.iri for p in places.values()}
    iris.update({p.iri.rsplit("/", 1)[-1]: p.iri for p in curated.places})
    for place in places.values():
        if place.parent_iri is not None:
            place.parent_iri = iris.get(place.parent_iri)


def _pair_key(a: Place, b: Place) -> str:
    return "--".join(sorted((a.key, b.key)))


def _coordinates(place: Place) -> str | None:
    """Warn when one place was given points too far apart to be one place."""
    if place.geonames is not None or len(place.points) < 2:
        return None
    points = sorted(place.points)
    spread = max(
        distance_km(p[0], p[1], q[0], q[1]) for i, p in enumerate(points) for q in points[i + 1 :]
    )
    if spread <= CONFLICT_KM:
        return None
    place.points = set()
    return f"{place.iri}: points {spread:.0f} km apart ({points}); no coordinates kept"


def _count_places(report: ImportReport, places: Sequence[Place], geo: GeoNamesIndex) -> None:
    for place in places:
        reconciled = place.curated or place.geonames is not None
        report.count_place(
            place.iso,
            reconciled=reconciled,
            curated=place.curated,
            unreconciled_because=None if reconciled else place.status.value,
            kind=place.kind.value,
        )
        record = place.geonames
        if isinstance(record, GeoCity) and place.input_points:
            # The automatic check of a link: how far the record lies from the files' points,
            # those the matching used and those it ignored (another country, whole degrees).
            far = max(
                distance_km(lat, lon, record.latitude, record.longitude)
                for lat, lon in place.input_points
            )
            used = place.input_points <= place.points
            report.check_link(place.iri, record.id, record.name, far, point_used=used)
        elif isinstance(record, GeoRegion) and place.input_points:
            # A subdivision has no point: how far is the files' point from its nearest place?
            distances = [geo.distance_to_subdivision(record.id, *p) for p in place.input_points]
            known = [d for d in distances if d is not None]
            if known:
                report.check_region_link(place.iri, record.id, record.name, max(known))


def import_twins(
    root: Path,
    paths: Sequence[Path],
    *,
    geo: GeoNamesIndex | None = None,
    today: date | None = None,
    validate: Callable[[ox.Store], None] | None = None,
) -> ImportReport:
    """Import the CSV files into graph:worldwide of the store at ``root`` and publish it.

    ``validate`` is called on the new version before it is published, as in a build
    (:func:`citygraph.build.shapes_check`).

    Raises:
        MalformedFileError: a file cannot be read; nothing is written.
        StoreNotFoundError: ``root`` has no current build.
        DataNotConformingError: ``validate`` found a Violation; nothing is written.
    """
    started = time.monotonic()
    files = [read_twin_file(path) for path in paths]
    current, _ = store.open_current(root)
    curated = load_curated(current)
    previous = list(current.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_WORLDWIDE)))
    del current
    plan = plan_import(
        files,
        geo or GeoNamesIndex.load(),
        curated,
        previous=previous,
        today=today or datetime.now(UTC).date(),
    )
    result = build.replace_graph(root, GRAPH_WORLDWIDE, plan.quads, validate=validate)
    plan.report.version = result.build.version
    plan.report.quads = len(plan.quads)
    plan.report.seconds = round(time.monotonic() - started, 1)
    return plan.report
