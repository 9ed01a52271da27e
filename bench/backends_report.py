"""The Markdown report of ``python -m bench backends`` (issue 11 §4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.driver import Measurement, Validation
from bench.queries import Query
from bench.report import DASH, _fmt_ms, _fmt_rate, _fmt_ratio, _median

__all__ = ["Pair", "Summary", "render", "summarise"]

MIX = "whole mix"


@dataclass(frozen=True)
class Pair:
    """One backend: the server that queries the store directly, and citygraph on that store."""

    backend: str
    direct: str
    citygraph: str  # empty when citygraph did not start on this backend
    note: str = ""  # why not


@dataclass(frozen=True)
class Summary:
    """The medians of one server on one workload at one concurrency."""

    throughput: float
    p50_ms: float
    p99_ms: float
    other_cpu: float
    errors: int


def agrees(validation: Validation, pair: Pair) -> bool:
    """Whether citygraph and the store of ``pair`` gave 200 and the same counts to every variant."""
    servers = (pair.direct, pair.citygraph)
    if not pair.citygraph:
        return False
    if any(s not in validation.statuses for s in servers):
        return False
    if any(status != 200 for s in servers for status in validation.statuses[s]):
        return False
    return validation.counts[pair.direct] == validation.counts[pair.citygraph]


def summarise(
    measurements: Sequence[Measurement], query: str, server: str, concurrency: int
) -> Summary | None:
    """Medians over the runs of ``server`` on ``query`` at ``concurrency`` (None: not measured)."""
    runs = [
        m
        for m in measurements
        if (m.query, m.server, m.concurrency) == (query, server, concurrency) and m.run >= 0
    ]
    if not runs:
        return None
    return Summary(
        throughput=_median([m.throughput for m in runs]),
        p50_ms=_median([m.p50_ms for m in runs]),
        p99_ms=_median([m.p99_ms for m in runs]),
        other_cpu=max(m.other_cpu for m in runs),
        errors=sum(m.errors for m in runs),
    )


def _ratio(numerator: float, denominator: float) -> str:
    return _fmt_ratio(numerator / denominator) if numerator and denominator else DASH


def _latency(summary: Summary) -> str:
    return f"{_fmt_ms(summary.p50_ms)} / {_fmt_ms(summary.p99_ms)}"


def render(
    meta: Mapping[str, Any],
    queries: Sequence[Query],
    validations: Sequence[Validation],
    measurements: Sequence[Measurement],
    pairs: Sequence[Pair],
) -> str:
    """Two tables: citygraph / direct per backend, and embedded citygraph / Virtuoso direct."""
    valid = {m.query for m in measurements}
    aggregations = set(meta.get("aggregations", ()))
    names = [q.name for q in queries if q.name in valid and q.name not in aggregations]
    if any(m.query == MIX for m in measurements):
        names.append(MIX)
    names += [q.name for q in queries if q.name in valid and q.name in aggregations]
    loads = [m.load1 for m in measurements if m.load1]
    lines = [
        f"Run of {meta['date']} on {meta['machine']}; Python {meta['python']}, "
        f"{meta['oxigraph']}, load by {meta['wrk']}; took {meta.get('elapsed_s', 0):.0f} s.",
        "",
        f"**Shared machine**: load average (1, 5, 15 min) {_loads(meta.get('load_before'))} "
        f"before the run, {_loads(meta.get('load_after'))} after; 1-minute load at the end of "
        f"the measurements {min(loads, default=0):.1f}{DASH}{max(loads, default=0):.1f} "
        f"(median {_median(loads):.1f}). Compare ratios within this run, not absolute figures.",
        "",
        f"Data: {meta['triples']:,} generated triples ({meta['store_quads']:,} quads built), seed "
        f"{meta['seed']}. citygraph with {meta['workers']} workers{_env(meta)}. Each figure is "
        f"the median of {meta['runs']} runs of {meta['duration_s']:g} s (at least 4 latencies "
        f"of a slow query), all {2 * len(pairs)} servers interleaved (A B …, … B A).",
        "",
        "### The cost of the citygraph layer: citygraph on a store / the same store queried "
        "directly",
        "",
        "| query | c | backend | direct req/s | citygraph req/s | **throughput ratio** | "
        "direct p50 / p99 ms | citygraph p50 / p99 ms | **p99 ratio** | other CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        label = f"**{name}**" if name == MIX else f"`{name}`"
        for concurrency in meta["concurrency"]:
            for pair in pairs:
                direct = summarise(measurements, name, pair.direct, concurrency)
                layered = summarise(measurements, name, pair.citygraph, concurrency)
                if direct is None or layered is None:
                    continue
                errors = direct.errors + layered.errors
                flag = f" ⚠ errors: {errors}" if errors else ""
                lines.append(
                    f"| {label}{flag} | {concurrency} | {pair.backend} | "
                    f"{_fmt_rate(direct.throughput)} | {_fmt_rate(layered.throughput)} | "
                    f"**{_ratio(layered.throughput, direct.throughput)}** | "
                    f"{_latency(direct)} | {_latency(layered)} | "
                    f"**{_ratio(layered.p99_ms, direct.p99_ms)}** | "
                    f"{max(direct.other_cpu, layered.other_cpu):.2f} |"
                )
    lines += ["", *_against_virtuoso(meta, names, measurements, pairs, aggregations)]
    lines.append(
        f"Validation before timing: every variant of every query was sent to all "
        f"{2 * len(pairs)} servers; a query is timed on a backend when citygraph on it and the "
        "store queried directly gave status 200 and equal result counts"
        + "".join(f"; {_why(v, pairs)}" for v in validations if not v.ok)
        + ". The whole mix holds the queries valid on every server."
    )
    for pair in pairs:
        if not pair.citygraph:
            lines.append(
                f"\n**citygraph on {pair.backend} was not measured**: it did not start "
                f"({pair.note}); `{pair.direct}` was measured directly."
            )
    summaries = {q.name: q.summary for q in queries}
    lines += [
        "",
        "Queries: " + "; ".join(f"`{n}`: {summaries[n]}" for n in names if n in summaries),
    ]
    return "\n".join(lines) + "\n"


def _against_virtuoso(
    meta: Mapping[str, Any],
    names: Sequence[str],
    measurements: Sequence[Measurement],
    pairs: Sequence[Pair],
    aggregations: set[str],
) -> list[str]:
    by_backend = {p.backend: p for p in pairs}
    if "embedded" not in by_backend or "virtuoso" not in by_backend:
        return []
    embedded, virtuoso = by_backend["embedded"], by_backend["virtuoso"]
    lines = [
        "### The embedded backend against Virtuoso",
        "",
        "citygraph on its embedded store against Virtuoso queried directly (ratio > 1: citygraph "
        "faster), and Oxigraph's server against Virtuoso, both directly (the engines alone). "
        "Aggregations of `bench/queries/aggregations/` (not in the mix) are marked †.",
        "",
        "| query | c | Virtuoso req/s | citygraph embedded req/s | **citygraph / Virtuoso** | "
        "oxigraph req/s | oxigraph / Virtuoso | Virtuoso p50 / p99 ms | "
        "citygraph p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        label = f"`{name}`" + (" †" if name in aggregations else "")
        for concurrency in meta["concurrency"]:
            v = summarise(measurements, name, virtuoso.direct, concurrency)
            c = summarise(measurements, name, embedded.citygraph, concurrency)
            o = summarise(measurements, name, embedded.direct, concurrency)
            if v is None or c is None or o is None:
                continue
            lines.append(
                f"| {label} | {concurrency} | {_fmt_rate(v.throughput)} | "
                f"{_fmt_rate(c.throughput)} | **{_ratio(c.throughput, v.throughput)}** | "
                f"{_fmt_rate(o.throughput)} | {_ratio(o.throughput, v.throughput)} | "
                f"{_latency(v)} | {_latency(c)} |"
            )
    return [*lines, ""]


def _why(validation: Validation, pairs: Sequence[Pair]) -> str:
    """Where a query's answers differed, and whether it was timed there."""
    untimed = [p.backend for p in pairs if not agrees(validation, p)]
    counts = {s: sum(c) for s, c in validation.counts.items()}
    bad = {
        s: sorted({x for x in statuses if x != 200})
        for s, statuses in validation.statuses.items()
        if any(x != 200 for x in statuses)
    }
    detail = ", ".join(
        f"{s} status {'/'.join(map(str, bad[s]))}" if s in bad else f"{s} {n:,}"
        for s, n in counts.items()
    )
    where = f"not timed on {', '.join(untimed)}" if untimed else "timed on every backend"
    return f"`{validation.query}` differs ({detail} rows): {where}"


def _loads(values: Sequence[float] | None) -> str:
    return " / ".join(f"{v:.1f}" for v in values) if values else "?"


def _env(meta: Mapping[str, Any]) -> str:
    env = meta.get("env") or {}
    if not env:
        return " (default settings: response cache on)"
    return " (" + ", ".join(f"`{k}={v}`" for k, v in env.items()) + ")"
