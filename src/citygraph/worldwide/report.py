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
    """Counts, issues, match rates and the difference to the previous import."""

    files: list[str]
    rows_read: int = 0
    pairs: int = 0
    already_curated: int = 0
    issues: list[Issue] = field(default_factory=list)
    places: dict[str, list[int]] = field(default_factory=dict)  # iso → [places, reconciled]
    curated_places: int = 0
    unreconciled: dict[str, int] = field(default_factory=dict)  # match status → places
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    version: str | None = None
    quads: int = 0
    seconds: float = 0.0

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def count_place(
        self, iso: str, *, reconciled: bool, curated: bool, unreconciled_because: str | None = None
    ) -> None:
        if unreconciled_because is not None:
            self.unreconciled[unreconciled_because] = (
                self.unreconciled.get(unreconciled_because, 0) + 1
            )
        counts = self.places.setdefault(iso, [0, 0])
        counts[0] += 1
        counts[1] += int(reconciled)
        self.curated_places += int(curated)

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
        if self.unreconciled:
            why = ", ".join(f"{k} {n}" for k, n in sorted(self.unreconciled.items()))
            lines.append(f"unreconciled places: {why}")
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
