"""The Markdown report of a run, and its place in ``docs/performance.md``."""

from __future__ import annotations

import platform
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.driver import Measurement, Validation
from bench.queries import Query

if TYPE_CHECKING:
    from bench.run import RunConfig

__all__ = [
    "FLOOR",
    "GOAL_P99",
    "GOAL_THROUGHPUT",
    "load_results",
    "per_query_line",
    "render",
    "run_metadata",
    "save_results",
    "update_docs",
]

GOAL_THROUGHPUT = 1.0
X = "\u00d7"  # the multiplication sign of ratios
DASH = "\u2013"
GOAL_P99 = 1.5
MIX = "whole mix"
#: The name of the floor server's measurements (bench/floor.py).
FLOOR = "floor"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(command: Sequence[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "?"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0]
        if result.stdout or result.stderr
        else "?"
    )


def run_metadata(
    config: RunConfig,
    params: Mapping[str, Any],
    directory: Path,
    *,
    cand_name: str,
    wrk: str | None,
) -> dict[str, Any]:
    """What a reader needs to judge the figures: machine, date, data, settings, tools."""
    from bench import servers

    stores = directory / "citygraph-store" / "builds"
    quads = 0
    for meta in stores.glob("*.json"):
        import json

        counts = json.loads(meta.read_text(encoding="utf-8")).get("quads_per_graph", {})
        quads = max(quads, sum(counts.values()))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"{_memory_gb():.0f} GB, Linux {platform.release()}",
        "python": platform.python_version(),
        "oxigraph": _version([str(servers.venv_bin("oxigraph")), "--version"]),
        "wrk": _version([wrk, "--version"]) if wrk else "not used (Python client)",
        "triples": params["triples"],
        "store_quads": quads,
        "cities": params["cities"],
        "partnerships": params["partnerships"],
        "seed": config.seed,
        "candidate": cand_name,
        "workers": config.workers,
        "env": dict(config.env),
        "duration_s": config.duration,
        "runs": config.runs,
        "concurrency": list(config.concurrency),
    }


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _fmt_rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(
    meta: Mapping[str, Any],
    queries: Sequence[Query],
    validations: Sequence[Validation],
    measurements: Sequence[Measurement],
    reference: str,
    candidate: str,
) -> str:
    """The result tables: per query and concurrency, medians and citygraph/oxigraph ratios."""
    rows_by_query = {v.query: v for v in validations}
    summaries = {q.name: q.summary for q in queries}
    names = [q.name for q in queries if q.name in rows_by_query and rows_by_query[q.name].ok]
    names.append(MIX)
    lines = [
        f"Run of {meta['date']} on {meta['machine']}; Python {meta['python']}, "
        f"{meta['oxigraph']}, load by {meta['wrk']}.",
        "",
        f"Data: {meta['triples']:,} generated triples ({meta['cities']:,} cities, "
        f"{meta['partnerships']:,} partnerships; {meta['store_quads']:,} quads in the built store "
        f"with the derived `cg:twinnedWith`), seed {meta['seed']}. Candidate `{candidate}` "
        f"with {meta['workers']} workers{_env(meta)}; reference `{reference}` "
        f"(`serve-read-only --union-default-graph`). Each figure is the median of "
        f"{meta['runs']} runs of {meta['duration_s']:g} s, servers interleaved (A B, B A, A B).",
        "",
    ]
    floor = any(m.server == FLOOR for m in measurements)
    lines += [
        "| query | rows | c | oxigraph req/s | citygraph req/s | **throughput ratio** | "
        "oxigraph p50 / p99 ms | citygraph p50 / p99 ms | **p99 ratio** | "
        + ("floor req/s | citygraph / floor | " if floor else "")
        + "other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if floor else "") + "---:|",
    ]
    goal_line = ""
    #: per query at the highest concurrency: (throughput ratio, p99 ratio)
    per_query: dict[str, tuple[float, float]] = {}
    for name in names:
        validation = rows_by_query.get(name)
        if validation is not None:
            counts = validation.counts[reference]
            rows = (
                f"{min(counts):,}"
                if min(counts) == max(counts)
                else f"{min(counts):,}{DASH}{max(counts):,}"
            )
        else:
            rows = DASH
        for concurrency in meta["concurrency"]:
            ref = [
                m
                for m in measurements
                if (m.query, m.server, m.concurrency) == (name, reference, concurrency)
            ]
            cand = [
                m
                for m in measurements
                if (m.query, m.server, m.concurrency) == (name, candidate, concurrency)
            ]
            if not ref or not cand:
                continue
            ref_rate = _median([m.throughput for m in ref])
            cand_rate = _median([m.throughput for m in cand])
            ref_p50, ref_p99 = _median([m.p50_ms for m in ref]), _median([m.p99_ms for m in ref])
            cand_p50, cand_p99 = (
                _median([m.p50_ms for m in cand]),
                _median([m.p99_ms for m in cand]),
            )
            if not (ref_rate and cand_rate and ref_p99 and cand_p99):
                lines.append(
                    f"| `{name}` | {rows} | {concurrency} | {_fmt_rate(ref_rate)} | "
                    f"{_fmt_rate(cand_rate)} | no answer within the run | | | | |"
                )
                continue
            ratio = cand_rate / ref_rate
            p99_ratio = cand_p99 / ref_p99
            if name != MIX and concurrency == max(meta["concurrency"]):
                per_query[name] = (ratio, p99_ratio)
            floors = [
                m
                for m in measurements
                if (m.query, m.server, m.concurrency) == (name, FLOOR, concurrency)
            ]
            errors = sum(m.errors for m in ref + cand + floors)
            other = max(m.other_cpu for m in ref + cand + floors)
            label = f"**{name}**" if name == MIX else f"`{name}`"
            flag = " ⚠ errors: " + str(errors) if errors else ""
            floor_cells = ""
            if floor:
                floor_rate = _median([m.throughput for m in floors])
                floor_cells = (
                    f"{_fmt_rate(floor_rate)} | {_fmt_ratio(cand_rate / floor_rate)} | "
                    if floor_rate
                    else f"{DASH} | {DASH} | "
                )
            lines.append(
                f"| {label}{flag} | {rows} | {concurrency} | {_fmt_rate(ref_rate)} | "
                f"{_fmt_rate(cand_rate)} | **{_fmt_ratio(ratio)}** | "
                f"{_fmt_ms(ref_p50)} / {_fmt_ms(ref_p99)} | "
                f"{_fmt_ms(cand_p50)} / {_fmt_ms(cand_p99)} | "
                f"**{_fmt_ratio(p99_ratio)}** | {floor_cells}{other:.2f} |"
            )
            if name == MIX and concurrency == max(meta["concurrency"]):
                met = ratio >= GOAL_THROUGHPUT and p99_ratio <= GOAL_P99
                goal_line = (
                    f"Goal (issue 3, mix at c={concurrency}: throughput "
                    f"≥ {GOAL_THROUGHPUT:.1f}{X}, p99 ≤ {GOAL_P99:.1f}{X}): "
                    f"throughput {_fmt_ratio(ratio)}, p99 {_fmt_ratio(p99_ratio)} — "
                    f"**{'met' if met else 'not met'}**."
                )
    lines.append("")
    if goal_line:
        lines += [goal_line, ""]
    if per_query:
        lines += [per_query_line(per_query, max(meta["concurrency"])), ""]
    if floor:
        lines += [
            "'floor' is citygraph's own server stack (same uvicorn, protocol, middlewares and "
            "workers) answering a fixed body of each variant's size without a query "
            "(`bench/floor.py`): citygraph / floor is how close a query comes to what this stack "
            "can do at all.",
            "",
        ]
    differ = [v.query for v in validations if v.ok and not all(v.same_content)]
    invalid = [v.query for v in validations if not v.ok]
    lines.append(
        "Validation before timing: every variant of every query gave status 200 and the same "
        "result count from both servers"
        + (f", except {', '.join(invalid)} (not timed)" if invalid else "")
        + "."
        + (
            " Same count but different rows (expected for a LIMIT without ORDER BY): "
            + ", ".join(differ)
            + "."
            if differ
            else " The answers were identical (as multisets of rows or triples)."
        )
    )
    lines.append(
        "'other CPU' is the most CPU (in cores) used during a measurement by processes other than "
        "the measured server and the load client; near zero means the run was not disturbed."
    )
    lines.append("")
    lines.append("Queries: " + "; ".join(f"`{n}`: {summaries[n]}" for n in names if n in summaries))
    return "\n".join(lines) + "\n"


def per_query_line(per_query: Mapping[str, tuple[float, float]], concurrency: int) -> str:
    """Issue 10 §3's view of the queries at ``concurrency``: the lowest throughput ratio, their
    geometric mean and the highest p99 ratio."""
    lowest = min(per_query, key=lambda n: per_query[n][0])
    highest = max(per_query, key=lambda n: per_query[n][1])
    mean = statistics.geometric_mean([r for r, _ in per_query.values()])
    return (
        f"Per query at c={concurrency} (issue 10 §3): lowest throughput ratio "
        f"{_fmt_ratio(per_query[lowest][0])} (`{lowest}`), geometric mean {_fmt_ratio(mean)}, "
        f"highest p99 ratio {_fmt_ratio(per_query[highest][1])} (`{highest}`)."
    )


def save_results(
    path: Path,
    meta: Mapping[str, Any],
    validations: Sequence[Validation],
    measurements: Sequence[Measurement],
) -> None:
    """Keep every measurement of a run (``bench report`` renders it again)."""
    import json

    data = {
        "meta": dict(meta),
        "validations": [v.__dict__ for v in validations],
        "measurements": [m.as_dict() for m in measurements],
    }
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def load_results(path: Path) -> tuple[dict[str, Any], list[Validation], list[Measurement]]:
    """What :func:`save_results` wrote."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    fields = set(Measurement.__dataclass_fields__)
    measurements = [
        Measurement(**{k: v for k, v in m.items() if k in fields}) for m in data["measurements"]
    ]
    return data["meta"], [Validation(**v) for v in data["validations"]], measurements


def rerender_file(results: Path, *, label: str = "", write_docs: bool = True) -> str:
    """Render the report of a saved run again (e.g. after the report's format changed)."""

    from bench import generate
    from bench.queries import load_queries

    meta, validations, measurements = load_results(results)
    queries = load_queries(None)
    markdown = render(meta, queries, validations, measurements, "oxigraph", meta["candidate"])
    if write_docs:
        docs = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        update_docs(docs, label or generate.size_label(meta["triples"]), markdown)
    return markdown


def _fmt_ratio(value: float) -> str:
    """A ratio with two decimals, or two significant digits below 0.1 (0.0035, not 0.00)."""
    return f"{value:.2f}{X}" if value >= 0.1 else f"{value:.2g}{X}"


def _env(meta: Mapping[str, Any]) -> str:
    env = meta.get("env") or {}
    if not env:
        return " (default settings)"
    return " (" + ", ".join(f"`{k}={v}`" for k, v in env.items()) + ")"


def update_docs(path: Path, label: str, markdown: str) -> None:
    """Put ``markdown`` between this size's markers in ``path``; keep everything else."""
    start = f"<!-- bench:{label}:start -->"
    end = f"<!-- bench:{label}:end -->"
    block = f"{start}\n{markdown}{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _SKELETON
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n## Results: {label}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


_SKELETON = """# Performance

How fast `citygraph serve` answers compared with Oxigraph's own server, on the same data and
queries (issue 3, section 5). Regenerate with `python -m bench` (see `bench/README.md`).

**Goal** (1M triples, concurrency 8, the whole query mix): throughput at least 1.0 times Oxigraph's
server, p99 latency no worse than 1.5 times its p99.
"""
