"""Matching the places of the twin-town lists to GeoNames cities.

A name matches a city of the same country by its primary name first, then by an alternate name,
then by a spelling variant; coordinates, when the file gives them, must lie within
:data:`~citygraph.worldwide.geonames.MAX_DISTANCE_KM` of the record, a district must lie near its
city, and a qualifier ("Vernouillet, Yvelines") must name a subdivision the record lies in. The
records are :class:`~citygraph.worldwide.geonames.GeoNamesIndex`'s; regions and districts that
are subdivisions are matched by :mod:`citygraph.worldwide.subdivisions`, curated places by
:mod:`citygraph.worldwide.curated`. See docs/worldwide.md.

>>> from citygraph.worldwide.normalise import PlaceKind, PlaceName
>>> geo = GeoNamesIndex.from_records(
...     [{"geonameid": 703448, "name": "Kyiv", "countrycode": "UA", "latitude": 50.45466,
...       "longitude": 30.5238, "population": 2952301, "alternatenames": ["Kiev"]}],
...     countries={"UA": "Ukraine"})
>>> match_city(geo, PlaceName(PlaceKind.CITY, "Kiev", "Kiev"), "UA").city.id
703448
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from citygraph.worldwide.geonames import (
    MAX_DISTANCE_KM,
    RINGS,
    GeoCity,
    GeoNamesIndex,
    GeoRegion,
    Match,
    MatchStatus,
    distance_km,
)
from citygraph.worldwide.normalise import PlaceKind, PlaceName, match_key
from citygraph.worldwide.subdivisions import DISTRICT_DISTANCE_KM, qualifier_regions
from citygraph.worldwide.variants import added, alike

__all__ = ["match_city"]

#: Without coordinates, a name shared by several records is matched to the most populous one
#: only if it has at least this many times the inhabitants of the next one.
DOMINANCE = 3.0
#: A name no record has is matched near the file's point to a record spelled alike: this close
#: (kilometres) and this similar (difflib ratio of the loose keys; "Marjina Horka" and
#: "Mar'ina Gorka" 0.87, "Emmerting" and "Mehring" 0.75).
ALIKE_KM = 3.0


def match_city(
    geo: GeoNamesIndex,
    place: PlaceName,
    iso: str,
    *,
    point: tuple[float, float] | None = None,
    near: GeoCity | None = None,
    within: GeoRegion | None = None,
) -> Match:
    """Match a parsed place of country ``iso`` to a GeoNames record.

    ``point`` is the file's (trusted) coordinates; ``near`` the record of a district's city
    (a district's point then decides only where its city's record does not, see
    :func:`_district_by_point`); ``within`` a subdivision the record must lie in (without a
    point: see :func:`~citygraph.worldwide.subdivisions.named_area`).
    """
    forms = [place.name] if place.display == place.name else [place.display, place.name]
    first: list[GeoCity] = []
    second: list[GeoCity] = []
    used = place.display
    for form in dict.fromkeys(forms):
        first, second = geo.candidates(form, iso)
        if first or second:
            used = form
            break
    else:
        for form in dict.fromkeys(forms):
            second = geo.variant_candidates(form, iso)
            if second:
                used = form
                break
    if not first and not second:
        if point is not None and place.kind is PlaceKind.CITY:
            return _alike_near(geo, place.name, iso, point)
        return Match(MatchStatus.NO_CANDIDATE)
    anchor = point
    limit = MAX_DISTANCE_KM
    if place.kind is PlaceKind.DISTRICT:
        if near is None:
            return Match(MatchStatus.NO_CANDIDATE)
        anchor, limit = (near.latitude, near.longitude), DISTRICT_DISTANCE_KM
    if anchor is not None:
        lat, lon = anchor
        scored = sorted(
            (distance_km(lat, lon, c.latitude, c.longitude), c.id, c) for c in first + second
        )
        best_distance, _, best = scored[0]
        if best_distance <= limit:
            return Match(MatchStatus.MATCHED, best, round(best_distance, 1))
        if place.kind is PlaceKind.DISTRICT and near is not None and point is not None:
            return _district_by_point(geo, first + second, near, point, best_distance)
        return Match(MatchStatus.FAR_FROM_COORDINATES, None, round(best_distance, 1))
    pool = first or second
    if place.qualifier and used != place.display:
        # The lists qualify a name ("Vernouillet, Yvelines", "Langen (Hessen)") because it
        # is ambiguous in its country: the bare name's record may be another town. Without
        # a point, only a record lying in the subdivision the qualifier names is taken.
        named = {r.id for r in qualifier_regions(geo, place.qualifier, iso)}
        if not named:
            return Match(MatchStatus.AMBIGUOUS)
        pool = [c for c in first + second if named & set(c.subdivisions)]
        if not pool:
            return Match(MatchStatus.NO_CANDIDATE)
    if within is not None:
        pool = [c for c in first + second if within.id in c.subdivisions]
        if not pool:
            return Match(MatchStatus.NO_CANDIDATE)
    if not first and len(pool) > 1 and any(geo.own_region(c, match_key(used)) for c in pool):
        # "Rostov": Rostov-on-Don bears it as its oblast's name, Rostov Veliky as its own;
        # the larger one is not the more likely partner.
        return Match(MatchStatus.AMBIGUOUS)
    return _dominant(pool)


def _district_by_point(
    geo: GeoNamesIndex,
    candidates: Sequence[GeoCity],
    city: GeoCity,
    point: tuple[float, float],
    far: float,
) -> Match:
    """A district whose record lies further than :data:`DISTRICT_DISTANCE_KM` from its
    city's: the record nearest the file's point, within :data:`MAX_DISTANCE_KM` of it and
    in the city's first-level subdivision ("Changping (Beijing)", "Wanzhou (Chongqing)":
    the districts of China's municipalities reach 100 km and more from the centre)."""
    states = {
        sid
        for sid in city.subdivisions
        if (region := geo.region_by_id.get(sid)) is not None and region.level == 1
    }
    scored = sorted(
        (distance_km(*point, c.latitude, c.longitude), c.id, c)
        for c in candidates
        if states & set(c.subdivisions)
    )
    if scored and scored[0][0] <= MAX_DISTANCE_KM:
        return Match(MatchStatus.MATCHED, scored[0][2], round(scored[0][0], 1))
    return Match(MatchStatus.FAR_FROM_COORDINATES, None, round(far, 1))


def _alike_near(geo: GeoNamesIndex, name: str, iso: str, point: tuple[float, float]) -> Match:
    """A name no record has, in any spelling the other tiers know: the one record of the
    country within :data:`ALIKE_KM` of the file's point whose name is spelled alike
    (:func:`alike`): "Heligoland" is *Helgoland*, "Veria" *Véroia*, "Deutschkreuz"
    *Deutschkreutz*, "Marjina Horka" *Mar'ina Gorka*; or is the name with or without a
    geographical addition (:func:`added`): "Aguilar de la Frontera" is *Aguilar*, "Lomnice"
    *Lomnice nad Popelkou*. A name that has records, all far from the point, is not looked for
    here: the geocoder may have placed it at a namesake with an addition ("Herzberg" at
    *Herzberg am Harz*, while the record *Herzberg* is Herzberg (Elster))."""
    lat, lon = point
    found = [
        city
        for a, b in RINGS[:9]
        for city in geo.country_grid.get((math.floor(lat) + a, math.floor(lon) + b, iso), ())
        if distance_km(lat, lon, city.latitude, city.longitude) <= ALIKE_KM
        and (alike(name, city.name, iso) or added(name, city.name, iso))
    ]
    if len(found) == 1:
        city = found[0]
        return Match(
            MatchStatus.MATCHED,
            city,
            round(distance_km(lat, lon, city.latitude, city.longitude), 1),
        )
    return Match(MatchStatus.AMBIGUOUS if found else MatchStatus.NO_CANDIDATE)


def _dominant(pool: Sequence[GeoCity]) -> Match:
    ranked = sorted(pool, key=lambda c: (-c.population, c.id))
    if len(ranked) == 1:
        return Match(MatchStatus.MATCHED, ranked[0])
    if ranked[0].population >= DOMINANCE * max(ranked[1].population, 1):
        return Match(MatchStatus.MATCHED, ranked[0])
    return Match(MatchStatus.AMBIGUOUS)
