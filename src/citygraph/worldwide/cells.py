"""Resolving one (place, country) cell of the lists: normalising it, matching it to GeoNames and
to the curated places. Pure; the rules are in docs/worldwide.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from citygraph.worldwide.curated import CuratedIndex, CuratedPlace
from citygraph.worldwide.geonames import GeoCity, GeoNamesIndex, GeoRegion, MatchStatus, coarse
from citygraph.worldwide.normalise import PlaceKind, PlaceName, parse_country, parse_place, slugify
from citygraph.worldwide.reconcile import match_city
from citygraph.worldwide.subdivisions import match_district, match_region, named_area

__all__ = ["Cell", "Rejected", "cached_cell", "resolve_cell"]


@dataclass(frozen=True)
class Cell:
    """A place cell resolved before IRIs are final: its identity and what it matched."""

    kind: PlaceKind
    iso: str
    name: PlaceName
    geonames: GeoCity | GeoRegion | None
    curated: CuratedPlace | None
    key: str
    parent_key: str | None
    point: tuple[float, float] | None
    status: MatchStatus = MatchStatus.MATCHED
    input_point: tuple[float, float] | None = None
    #: Why the file's point was not used: the report's warning (``coarse-coordinates``, …).
    point_issue: str | None = None


class Rejected(Exception):  # noqa: N818 - an outcome of a row, not an error of the import
    """A cell that cannot be a place; ``reason`` is the report's reason (``self-loop``, …)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def cached_cell(
    cache: dict[tuple[str, str, tuple[float, float] | None], Cell | Rejected],
    city: str,
    country: str,
    point: tuple[float, float] | None,
    geo: GeoNamesIndex,
    curated: CuratedIndex,
    *,
    shared: frozenset[tuple[float, float]] = frozenset(),
) -> Cell:
    """:func:`resolve_cell` through ``cache``: a cell repeated in the files is resolved once.

    >>> from citygraph.worldwide.curated import CuratedIndex
    >>> geo = GeoNamesIndex.from_records([], countries={"UA": "Ukraine"})
    >>> cache: dict = {}
    >>> cached_cell(cache, "Odesa", "Ukraine", None, geo, CuratedIndex()).key
    'ua-odesa'
    >>> list(cache)
    [('Odesa', 'Ukraine', None)]

    Raises:
        Rejected: as :func:`resolve_cell` (also when the rejection is cached).
    """
    key = (city, country, point)
    if key not in cache:
        try:
            cache[key] = resolve_cell(city, country, point, geo, curated, shared=point in shared)
        except Rejected as rejected:
            cache[key] = rejected
    value = cache[key]
    if isinstance(value, Rejected):
        raise value
    return value


def resolve_cell(
    city: str,
    country: str,
    point: tuple[float, float] | None,
    geo: GeoNamesIndex,
    curated: CuratedIndex,
    *,
    shared: bool = False,
) -> Cell:
    """Resolve one (place, country) cell: normalise, match to GeoNames and to curated places.

    ``point`` is the file's (latitude, longitude), if any; it is dropped when it lies in another
    country (the returned cell's ``point`` is then ``None``). ``shared`` says the file gives the
    same point to places of other names (a geocoder's fallback: nine Japanese towns at one
    point): such a point is dropped too when no record of the name lies near it, and the name
    alone decides.

    An alternate name ("Kiev") finds the GeoNames record, whose name makes the key:

    >>> from citygraph.worldwide.curated import CuratedIndex
    >>> geo = GeoNamesIndex.from_records(
    ...     [{"geonameid": 703448, "name": "Kyiv", "countrycode": "UA", "latitude": 50.45466,
    ...       "longitude": 30.5238, "population": 2952301, "alternatenames": ["Kiev", "Kiew"]}],
    ...     countries={"UA": "Ukraine"},
    ... )
    >>> cell = resolve_cell("Kiev", "Ukraine", None, geo, CuratedIndex())
    >>> cell.key, cell.kind.value, cell.status.value, cell.geonames.id
    ('ua-kyiv', 'city', 'matched', 703448)

    A place the index does not know keeps the name of the file:

    >>> cell = resolve_cell("Odesa", "Ukraine", None, geo, CuratedIndex())
    >>> cell.key, cell.status.value, cell.geonames
    ('ua-odesa', 'no-candidate', None)
    >>> try:
    ...     resolve_cell("Kyiv", "Atlantis", None, geo, CuratedIndex())
    ... except Rejected as rejected:
    ...     print(rejected.reason, rejected.detail)
    unknown-country 'Kyiv' in 'Atlantis'

    Raises:
        Rejected: the cell cannot be a place (unknown country, no name).
    """
    parsed_country = parse_country(country, geo.country_names)
    if parsed_country.iso is None and not country.strip() and "," in city:
        # "Varna, Bulgaria" with an empty country cell: the country sits in the name.
        head, _, tail = city.rpartition(",")
        recovered = parse_country(tail, geo.country_names)
        if recovered.iso is not None and recovered.qualifier is None:
            city, parsed_country = head, recovered
    if parsed_country.iso is None:
        raise Rejected("unknown-country", f"{city!r} in {country!r}")
    iso = parsed_country.iso
    if not city.strip():
        raise Rejected("missing-name", f"empty place name in {country!r}")
    name = parse_place(
        city, iso, qualifier=parsed_country.qualifier, is_city=geo.is_city, is_region=geo.is_region
    )
    prefix = iso.lower()
    if name.kind is PlaceKind.REGION:
        # A region is a partner too ("Kyiv Oblast", "Calabria"): its GeoNames subdivision.
        # The file's point of a region is the geocoder's guess at an area: not kept.
        usable = point is not None and not coarse(point)
        if usable and point is not None and geo.coordinates_plausible(*point, iso):
            match = match_region(geo, name, iso, point=point)
        else:
            match = match_region(geo, name, iso)
        region = match.region
        key = f"{prefix}-{slugify(region.name if region else name.display)}"
        found = curated.find(name, iso, key, region.id if region else None)
        return Cell(name.kind, iso, name, region, found, key, None, None, match.status, point)
    input_point = point
    point_issue: str | None = None
    if point is not None and coarse(point):
        point, point_issue = None, "coarse-coordinates"
    elif point is not None and not geo.coordinates_plausible(point[0], point[1], iso):
        point, point_issue = None, "coordinates-outside-country"
    if name.kind is PlaceKind.DISTRICT:
        assert name.parent is not None
        parent_name = parse_place(name.parent, iso, is_city=geo.is_city, is_region=geo.is_region)
        parent_match = match_city(geo, parent_name, iso)
        parent_gid = parent_match.city.id if parent_match.city else None
        parent_curated = curated.find(parent_name, iso, "", parent_gid)
        if parent_curated is not None:
            parent_key = parent_curated.iri.rsplit("/", 1)[-1]
        elif parent_match.city is not None:
            parent_key = f"{prefix}-{slugify(parent_match.city.name)}"
        else:
            parent_key = f"{prefix}-{slugify(name.parent)}"
        match = match_city(geo, name, iso, near=parent_match.city)
        record: GeoCity | GeoRegion | None = match.city
        if record is None and parent_match.city is not None:
            # "Mapo (Seoul)", "Prague 10": GeoNames may know the district as a subdivision.
            by_subdivision = match_district(geo, name, iso, parent_match.city)
            if by_subdivision.region is not None:
                match, record = by_subdivision, by_subdivision.region
            elif point is not None and match.status is MatchStatus.FAR_FROM_COORDINATES:
                # "Wanzhou (Chongqing)": a record of the name near the district's own point.
                match = match_city(geo, name, iso, point=point, near=parent_match.city)
                record = match.city
        key = f"{parent_key}-{slugify(name.name)}"
        found = curated.find(name, iso, key, record.id if record else None)
        return Cell(
            name.kind,
            iso,
            name,
            record,
            found,
            key,
            parent_key,
            point,
            match.status,
            input_point,
            point_issue,
        )
    match = match_city(geo, name, iso, point=point)
    if match.status is MatchStatus.FAR_FROM_COORDINATES and shared:
        # The point is another place's as much as this one's, and no record of the name lies
        # near it: it says nothing about this place.
        point, point_issue = None, "shared-coordinates"
        match = match_city(geo, name, iso)
    elif match.status is MatchStatus.FAR_FROM_COORDINATES and point is not None:
        area = named_area(geo, name.name, iso, point)
        if area is not None:
            # The point is the centre of the area the place is named after (the province
            # Mendoza for the city Mendoza): the town is the record of the name inside it.
            point, point_issue = None, "area-coordinates"
            match = match_city(geo, name, iso, within=area)
    if match.status is MatchStatus.MATCHED and match.city is not None:
        key = f"{prefix}-{slugify(match.city.name)}"
    else:
        key = f"{prefix}-{slugify(name.display)}"
    found = curated.find(name, iso, key, match.city.id if match.city else None)
    return Cell(
        name.kind,
        iso,
        name,
        match.city,
        found,
        key,
        None,
        point,
        match.status,
        input_point,
        point_issue,
    )
