"""The import report: every row that was not imported as it stood, with its reason, the match
rate per country, and what changed against the previous worldwide graph."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from citygraph.namespaces import PREFIXES

__all__ = ["ImportReport", "Issue"]

#: What happened to a row: not imported, merged into an earlier row, left to the curated data, or
#: imported with a warning.
OUTCOMES = ("rejected", "merged", "skipped", "warning")
RDF_TYPE = PREFIXES["rdf"] + "type"
PAIR_TYPES = {PREFIXES["cg"] + "Partnership", PREFIXES["rdf"] + "Statement"}
PARTNER_PREDICATES = {
    PREFIXES["cg"] + "partner",
    PREFIXES["rdf"] + "subject",
    PREFIXES["rdf"] + "object",
}
IGNORED = {PREFIXES["prov"] + "wasDerivedFrom"}
#: A linked record further than this from the place's point in the files is listed as an outlier.
OUTLIER_KM = 10.0
BUCKETS = ("< 1 km", "1-5 km", "5-10 km", "10-30 km", "30-100 km", ">= 100 km")


def _distribution(checked: list[tuple[float, str, int, str, bool]]) -> dict[str, Any]:
    distances = sorted(d[0] for d in checked)
    buckets = Counter(_bucket(d) for d in distances)

    def quantile(q: float) -> float | None:
        return distances[min(len(distances) - 1, int(q * len(distances)))] if distances else None

    outliers = sorted((d for d in checked if d[0] > OUTLIER_KM), key=lambda d: (-d[0], d[1]))
    return {
        "links_checked": len(distances),
        "km_buckets": {b: buckets[b] for b in BUCKETS if buckets[b]},
        "median_km": quantile(0.5),
        "p95_km": quantile(0.95),
        "max_km": distances[-1] if distances else None,
        "outliers": [
            {"place": iri, "geonames_id": gid, "record": name, "km": km}
            for km, iri, gid, name, _ in outliers
        ],
    }


def _bucket(km: float) -> str:
    for limit, name in zip((1, 5, 10, 30, 100), BUCKETS, strict=False):
        if km < limit:
            return name
    return BUCKETS[-1]


@dataclass(frozen=True)
class Issue:
    """One row's (or one place's) outcome and reason; ``line`` 0 means "not one row"."""

    file: str
    line: int
    outcome: str
    reason: str
    detail: str


@dataclass
class ImportReport:
    """Counts, issues, match rates and the difference to the previous import.

    The importer fills it row by row; a file of three rows (Berlin / Paris, then Berlin /
    Berlin and Paris / Berlin again) gives:

    >>> report = ImportReport(files=["twins.csv"], rows_read=3, pairs=1)
    >>> report.add(Issue("twins.csv", 3, "rejected", "self-loop", "Berlin (DE) = Berlin (DE)"))
    >>> report.add(Issue("twins.csv", 4, "merged", "duplicate", "Paris / Berlin: same pair"))
    >>> report.count_place("DE", reconciled=True, curated=False)
    >>> report.count_place("FR", reconciled=True, curated=False)
    >>> report.counts()
    {'rejected': {'self-loop': 1}, 'merged': {'duplicate': 1}}
    >>> for line in report.summary():
    ...     print(line)
    read 3 rows from 1 file(s)
    imported 1 partnerships; 0 pairs already curated (kept as curated, recorded as claims)
    places: 2, reconciled 100.0% (0 are curated places)
    linked by kind: city 2/2
    rejected: self-loop 1
    merged: duplicate 1
    against the previous import: 0 added, 0 changed, 0 removed
    >>> report.to_json()["match_rate_per_country"]["FR"]
    {'places': 1, 'reconciled': 1, 'rate': 1.0}
    """

    files: list[str]
    rows_read: int = 0
    pairs: int = 0
    already_curated: int = 0
    issues: list[Issue] = field(default_factory=list)
    places: dict[str, list[int]] = field(default_factory=dict)  # iso → [places, reconciled]
    curated_places: int = 0
    unreconciled: dict[str, int] = field(default_factory=dict)  # match status → places
    #: match status → country → places not linked
    unlinked: dict[str, Counter[str]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)  # place kind → places
    linked_kinds: Counter[str] = field(default_factory=Counter)  # place kind → linked places
    #: (km, place IRI, GeoNames ID, record name, point used): each link whose place has points
    #: in the files
    link_distances: list[tuple[float, str, int, str, bool]] = field(default_factory=list)
    #: (km, place IRI, GeoNames ID, subdivision name): each subdivision link whose place has a
    #: point in the files, with the distance from it to the subdivision's nearest place
    region_distances: list[tuple[float, str, int, str, bool]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    version: str | None = None
    quads: int = 0
    seconds: float = 0.0

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def count_place(
        self,
        iso: str,
        *,
        reconciled: bool,
        curated: bool,
        unreconciled_because: str | None = None,
        kind: str = "city",
    ) -> None:
        if unreconciled_because is not None:
            self.unreconciled[unreconciled_because] = (
                self.unreconciled.get(unreconciled_because, 0) + 1
            )
            self.unlinked.setdefault(unreconciled_because, Counter())[iso] += 1
        self.kinds[kind] += 1
        self.linked_kinds[kind] += int(reconciled)
        counts = self.places.setdefault(iso, [0, 0])
        counts[0] += 1
        counts[1] += int(reconciled)
        self.curated_places += int(curated)

    def check_link(
        self, iri: str, geonames_id: int, name: str, km: float, *, point_used: bool = True
    ) -> None:
        """Record the distance of a linked place's GeoNames record from its points in the files;
        ``point_used`` is false when the matching ignored the point (another country, whole
        degrees), so the link was made by name alone."""
        self.link_distances.append((round(km, 1), iri, geonames_id, name, point_used))

    def check_region_link(self, iri: str, geonames_id: int, name: str, km: float) -> None:
        """Record how far a subdivision-linked place's point in the files lies from the nearest
        populated place of that subdivision (a point inside it lies near one)."""
        self.region_distances.append((round(km, 1), iri, geonames_id, name, False))

    def distance_check(self) -> dict[str, Any]:
        """The distribution of the link distances and the outliers (beyond ``OUTLIER_KM``),
        for the links whose point the matching used and for those whose point it ignored."""
        return {
            "outlier_km": OUTLIER_KM,
            "point_used": _distribution([d for d in self.link_distances if d[4]]),
            "point_ignored": _distribution([d for d in self.link_distances if not d[4]]),
            "subdivisions": _distribution(self.region_distances),
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """Issues by outcome and reason: ``{"rejected": {"self-loop": 3, …}, …}``."""
        result: dict[str, Counter[str]] = defaultdict(Counter)
        for issue in self.issues:
            result[issue.outcome][issue.reason] += 1
        return {o: dict(sorted(result[o].items())) for o in OUTCOMES if o in result}

    @property
    def match_rate(self) -> float:
        total = sum(n for n, _ in self.places.values())
        return sum(m for _, m in self.places.values()) / total if total else 0.0

    def diff(self, previous: Iterable[ox.Quad], new: Iterable[ox.Quad]) -> None:
        """Compare the pairs (partnerships and claims) of the previous and the new graph.

        A pair changed when its own facts or its places' facts differ (sources aside).
        """
        previous = list(previous)
        if not previous:  # a first import: everything is new, no need to compare
            self.added = sorted(_pair_nodes(new))
            self.changed, self.removed = [], []
            return
        new = list(new)
        if set(previous) == set(new):  # the same graph again: nothing to compare pair by pair
            self.added, self.changed, self.removed = [], [], []
            return
        old, fresh = _fingerprints(previous), _fingerprints(new)
        self.added = sorted(set(fresh) - set(old))
        self.removed = sorted(set(old) - set(fresh))
        self.changed = sorted(k for k in set(old) & set(fresh) if old[k] != fresh[k])

    def to_json(self) -> dict[str, Any]:
        per_country = {
            iso: {"places": n, "reconciled": m, "rate": round(m / n, 3)}
            for iso, (n, m) in sorted(self.places.items())
        }
        return {
            "files": self.files,
            "version": self.version,
            "seconds": self.seconds,
            "rows_read": self.rows_read,
            "pairs_imported": self.pairs,
            "pairs_already_curated": self.already_curated,
            "quads": self.quads,
            "counts": self.counts(),
            "places": sum(n for n, _ in self.places.values()),
            "places_curated": self.curated_places,
            "match_rate": round(self.match_rate, 4),
            "unreconciled_by_reason": dict(sorted(self.unreconciled.items())),
            "unlinked_by_reason_and_country": {
                reason: dict(sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0])))
                for reason, by_country in sorted(self.unlinked.items())
            },
            "places_by_kind": {
                kind: {"places": n, "linked": self.linked_kinds[kind]}
                for kind, n in sorted(self.kinds.items())
            },
            "link_distance_check": self.distance_check(),
            "match_rate_per_country": per_country,
            "diff": {"added": self.added, "changed": self.changed, "removed": self.removed},
            "issues": [
                {
                    "file": i.file,
                    "line": i.line,
                    "outcome": i.outcome,
                    "reason": i.reason,
                    "detail": i.detail,
                }
                for i in self.issues
            ],
        }

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(self.to_json(), out, ensure_ascii=False, indent=1)
            out.write("\n")

    def summary(self) -> list[str]:
        """A few lines for the terminal."""
        total = sum(n for n, _ in self.places.values())
        lines = [
            f"read {self.rows_read} rows from {len(self.files)} file(s)",
            f"imported {self.pairs} partnerships; {self.already_curated} pairs already curated "
            "(kept as curated, recorded as claims)",
            f"places: {total}, reconciled {self.match_rate:.1%} "
            f"({self.curated_places} are curated places)",
        ]
        if self.kinds:
            kinds = ", ".join(
                f"{kind} {self.linked_kinds[kind]}/{n}" for kind, n in sorted(self.kinds.items())
            )
            lines.append(f"linked by kind: {kinds}")
        if self.unreconciled:
            why = ", ".join(f"{k} {n}" for k, n in sorted(self.unreconciled.items()))
            lines.append(f"unreconciled places: {why}")
        if self.link_distances:
            check = self.distance_check()
            used, ignored = check["point_used"], check["point_ignored"]
            lines.append(
                f"distance check of {used['links_checked']} links matched with the file's point: "
                f"median {used['median_km']} km, 95 % within {used['p95_km']} km, "
                f"{len(used['outliers'])} beyond {OUTLIER_KM:g} km; "
                f"{ignored['links_checked']} links whose point was ignored: "
                f"{len(ignored['outliers'])} beyond {OUTLIER_KM:g} km"
            )
        if self.region_distances:
            regions = self.distance_check()["subdivisions"]
            lines.append(
                f"distance check of {regions['links_checked']} subdivision links (to the "
                f"subdivision's nearest place): median {regions['median_km']} km, "
                f"{len(regions['outliers'])} beyond {OUTLIER_KM:g} km"
            )
        for outcome, reasons in self.counts().items():
            text = ", ".join(f"{reason} {n}" for reason, n in reasons.items())
            lines.append(f"{outcome}: {text}")
        lines.append(
            f"against the previous import: {len(self.added)} added, {len(self.changed)} "
            f"changed, {len(self.removed)} removed"
        )
        if self.version:
            lines.append(f"published build {self.version} in {self.seconds} s")
        return lines


def _pair_nodes(quads: Iterable[ox.Quad]) -> set[str]:
    return {
        q.subject.value
        for q in quads
        if q.predicate.value == RDF_TYPE
        and isinstance(q.subject, ox.NamedNode)
        and isinstance(q.object, ox.NamedNode)
        and q.object.value in PAIR_TYPES
    }


def _fingerprints(quads: Iterable[ox.Quad]) -> dict[str, frozenset[tuple[str, ...]]]:
    facts: dict[str, set[tuple[str, str]]] = defaultdict(set)
    pairs: set[str] = set()
    for quad in quads:
        subject = quad.subject
        if not isinstance(subject, ox.NamedNode | ox.BlankNode):
            continue
        key = subject.value if isinstance(subject, ox.NamedNode) else "_:" + subject.value
        if quad.predicate.value in IGNORED:
            continue
        obj = quad.object
        value = "_:" + obj.value if isinstance(obj, ox.BlankNode) else str(obj)
        facts[key].add((quad.predicate.value, value))
        if (
            quad.predicate.value == RDF_TYPE
            and isinstance(obj, ox.NamedNode)
            and obj.value in PAIR_TYPES
        ):
            pairs.add(key)
    result: dict[str, frozenset[tuple[str, ...]]] = {}
    for pair in pairs:
        items: set[tuple[str, ...]] = set(facts[pair])
        for predicate, value in facts[pair]:
            if predicate in PARTNER_PREDICATES:
                place = value.strip("<>")
                items |= {(place, *fact) for fact in facts.get(place, ())}
                for fact in facts.get(place, ()):
                    if fact[1].startswith("_:"):
                        items |= {(fact[1], *f) for f in facts.get(fact[1], ())}
        result[pair] = frozenset(items)
    return result
