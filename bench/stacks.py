"""``python -m bench stacks``: the floor and citygraph on other HTTP server stacks (issue 10 §3).

``bench run`` measures citygraph's floor: its own stack (uvicorn, the h11 protocol class of
``web/server.py``, every middleware) answering a fixed body of each query's size. This asks
whether another server stack lifts that floor, and citygraph with it. One run, all servers
started at once on 127.0.0.1 and measured in turn, query by query (A B C …, … C B A), with the
machinery of ``bench run`` (validation, quiet-machine wait, medians):

- ``oxigraph``: ``oxigraph serve-read-only``, the reference;
- ``floor``: the floor on uvicorn with h11 (``bench/floor.py``, as in ``bench run``), and
  ``floor-STACK`` the same app on each other stack (``bench/stack_server.py``);
- ``citygraph``: ``citygraph serve`` (uvicorn with h11), and ``citygraph-STACK`` the same app,
  settings and workers on each other stack.

Stacks: ``granian`` (Rust, hyper; ASGI), ``httptools`` (uvicorn with llhttp) and
``h11-shared`` (``serve``'s stack with its workers on one shared listening socket). The first two
are installed by the ``bench`` extra of ``pyproject.toml``. citygraph's answers on every stack are
validated against Oxigraph's before timing; the floors are sent the body sizes of
``citygraph``'s answers. citygraph's response cache is off unless ``--cache``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import generate, report, servers
from bench.driver import Measurement, Validation
from bench.queries import Query, load_queries
from bench.report import _fmt_ms, _fmt_rate, _fmt_ratio
from bench.run import (
    RunConfig,
    floor_requests,
    measure_workloads,
    parse_names,
    prepare,
    results_path,
    say,
    validate_queries,
    workloads_for,
)
from bench.stack_server import DEFAULT_STACKS, HTTP_STACKS

__all__ = [
    "StacksRun",
    "parse_stacks",
    "render",
    "rerender_stacks",
    "run_stacks",
    "stack_spec",
]

REPO = Path(__file__).resolve().parent.parent
#: The stack of ``citygraph serve`` and of ``bench run``'s floor.
BASE = "h11"


@dataclass(frozen=True)
class StacksRun:
    """What ``python -m bench stacks`` was asked to do."""

    config: RunConfig
    stacks: tuple[str, ...] = DEFAULT_STACKS
    label: str = ""  # the section of docs/performance.md (default: "stacks, SIZE, cache …")


def parse_stacks(text: str) -> tuple[str, ...]:
    """``granian,httptools`` → the stacks in that order; unknown names are an error."""
    return parse_names(text, HTTP_STACKS, "stack")


def server_name(app: str, stack: str) -> str:
    """``floor`` / ``citygraph`` on h11 (the names of ``bench run``), else ``APP-STACK``."""
    return app if stack == BASE else f"{app}-{stack}"


def stack_spec(
    app: str, stack: str, store_root: Path, *, workers: int, env: Mapping[str, str]
) -> servers.ServerSpec:
    """``app`` (``floor`` or ``citygraph``) served by ``stack`` (``bench/stack_server.py``),
    with the settings and workers of ``bench run``'s server of that app."""
    if app == "floor":
        base = servers.floor_spec(store_root, workers=workers, env=env)
    else:
        base = servers.citygraph_spec(store_root, workers=workers, env=env)
    if stack == BASE:
        return base
    command = (
        sys.executable, "-m", "bench.stack_server", "serve", "--app", app, "--http", stack,
        "--store", str(store_root), "--port", "{port}", "--workers", str(workers),
    )  # fmt: skip
    return servers.ServerSpec(
        name=server_name(app, stack),
        command=command,
        query_path=base.query_path,
        env={**base.env, "PYTHONPATH": str(REPO)},
    )


def run_stacks(run: StacksRun) -> Path:
    """Run the comparison; return the JSON file with every measurement."""
    config = run.config
    began = time.monotonic()
    prepared = prepare(config)
    directory, log_dir, wrk = prepared.directory, prepared.log_dir, prepared.wrk
    cg_root, ox_dir, params = prepared.citygraph_store, prepared.oxigraph_store, prepared.params
    queries = load_queries(params["params"], names=config.queries or None)
    stacks = (BASE, *run.stacks)
    env = dict(config.env)
    specs = [servers.oxigraph_spec(ox_dir)] + [
        stack_spec(app, stack, cg_root, workers=config.workers, env=env)
        for app in ("floor", "citygraph")
        for stack in stacks
    ]
    load_before = os.getloadavg()
    with servers.running(specs, log_dir) as started:
        by_name = {s.name: s for s in started}
        answering = [by_name["oxigraph"]] + [by_name[server_name("citygraph", s)] for s in stacks]
        valid, validations = validate_queries(queries, answering)
        sizes = floor_requests(valid, validations, "citygraph")
        rewrite = {server_name("floor", s): sizes for s in stacks}
        measurements = measure_workloads(
            started, workloads_for(valid, validations, mix=False), config, wrk, rewrite=rewrite
        )
    out = results_path(directory, "stacks")
    meta = report.run_metadata(config, params, directory, cand_name="citygraph", wrk=wrk)
    meta.update(
        elapsed_s=round(time.monotonic() - began, 1),
        load_before=[round(x, 2) for x in load_before],
        load_after=[round(x, 2) for x in os.getloadavg()],
        stacks=list(stacks),
        versions=_versions(),
        size=generate.size_label(config.triples),
    )
    report.save_results(out, meta, validations, measurements)
    markdown = render(meta, queries, validations, measurements)
    print(markdown)
    if config.write_docs:
        report.update_docs(config.docs, run.label or default_label(meta), markdown)
        say(f"wrote {config.docs}")
    say(f"results in {out}; took {time.monotonic() - began:.0f} s")
    return out


def default_label(meta: Mapping[str, Any]) -> str:
    cache = "cache off" if ("CITYGRAPH_CACHE_BYTES", "0") in meta["env"].items() else "cache on"
    return f"stacks, {meta['size']}, {cache}"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("uvicorn", "h11", "httptools", "granian"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _median(measurements: Sequence[Measurement], value: str) -> float:
    values = [float(getattr(m, value)) for m in measurements]
    return statistics.median(values) if values else 0.0


def _cpu_ms(measurements: Sequence[Measurement]) -> float:
    """Median CPU of the server's processes per request, in ms (its cost, whatever the load)."""
    per = [1000 * m.server_cpu / m.throughput for m in measurements if m.throughput > 0]
    return statistics.median(per) if per else 0.0


def render(
    meta: Mapping[str, Any],
    queries: Sequence[Query],
    validations: Sequence[Validation],
    measurements: Sequence[Measurement],
) -> str:
    """Per query and concurrency: each server's throughput and its ratio to Oxigraph's, p99 and
    CPU per request; then each stack against h11, for the floor and for citygraph."""
    stacks: list[str] = meta["stacks"]
    servers_ = ["oxigraph"] + [
        server_name(app, s) for app in ("floor", "citygraph") for s in stacks
    ]
    valid = {v.query for v in validations if v.ok}
    names = [q.name for q in queries if q.name in valid]
    cache = "`CITYGRAPH_CACHE_BYTES=0`" if default_label(meta).endswith("off") else "cache on"
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        f"Run of {meta['date']} on {meta['machine']}; Python {meta['python']}, "
        f"{meta['oxigraph']}, {versions}; load by {meta['wrk']}. Load average (1, 5, 15 min) "
        f"before {_loads(meta['load_before'])}, after {_loads(meta['load_after'])}.",
        "",
        f"Data: {meta['triples']:,} generated triples, seed {meta['seed']}. citygraph and the "
        f"floor with {meta['workers']} workers ({cache}); each figure is the median of "
        f"{meta['runs']} runs of {meta['duration_s']:g} s, the {len(servers_)} servers "
        "interleaved (A B C …, … C B A). `floor`, `citygraph`: uvicorn with h11, as "
        "`citygraph serve` runs (a listening socket per worker); `-granian`: granian's ASGI "
        "server; `-httptools`: uvicorn with httptools; `-h11-shared`: uvicorn with h11, the "
        "workers sharing one listening socket (`bench/stack_server.py`).",
        "",
        "Throughput, req/s (ratio to Oxigraph's in the same run):",
        "",
        "| query | c | " + " | ".join(servers_) + " | other CPU |",
        "|---|---:|" + "---:|" * (len(servers_) + 1),
    ]
    p99_lines = [
        "p99 ms / server CPU per request, ms (all its processes):",
        "",
        "| query | c | " + " | ".join(servers_) + " |",
        "|---|---:|" + "---:|" * len(servers_),
    ]
    top = max(meta["concurrency"])
    #: at the highest concurrency, per server and query: (throughput, p99)
    at_top: dict[str, dict[str, tuple[float, float]]] = {s: {} for s in servers_}
    for name in names:
        for concurrency in meta["concurrency"]:
            picked = {
                s: [
                    m
                    for m in measurements
                    if (m.query, m.server, m.concurrency) == (name, s, concurrency)
                ]
                for s in servers_
            }
            if not all(picked.values()):
                continue
            ox_rate = _median(picked["oxigraph"], "throughput")
            cells, p99_cells = [], []
            for server in servers_:
                rate = _median(picked[server], "throughput")
                p99 = _median(picked[server], "p99_ms")
                ratio = (
                    f" ({_fmt_ratio(rate / ox_rate)})" if server != "oxigraph" and ox_rate else ""
                )
                cells.append(f"{_fmt_rate(rate)}{ratio}")
                p99_cells.append(f"{_fmt_ms(p99)} / {_cpu_ms(picked[server]):.2f}")
                if concurrency == top:
                    at_top[server][name] = (rate, p99)
            everyone = [m for ms in picked.values() for m in ms]
            errors = sum(m.errors for m in everyone)
            other = max(m.other_cpu for m in everyone)
            flag = f" ⚠ errors: {errors}" if errors else ""
            lines.append(
                f"| `{name}`{flag} | {concurrency} | " + " | ".join(cells) + f" | {other:.2f} |"
            )
            p99_lines.append(f"| `{name}` | {concurrency} | " + " | ".join(p99_cells) + " |")
    lines += ["", *p99_lines, ""]
    lines += _summary(at_top, stacks, top)
    lines += [
        "",
        "Validation before timing: every variant of every query was sent to Oxigraph and to "
        "citygraph on each stack; "
        + (
            "all gave status 200 and the same result counts."
            if len(valid) == len(validations)
            else "not timed (answers differed): "
            + ", ".join(v.query for v in validations if not v.ok)
            + "."
        )
        + " 'other CPU' is the most CPU (cores) used during a measurement by processes other "
        "than the measured server and the load client.",
    ]
    return "\n".join(lines) + "\n"


def _summary(
    at_top: Mapping[str, Mapping[str, tuple[float, float]]], stacks: Sequence[str], top: int
) -> list[str]:
    """Each stack against h11 (geometric mean over the queries), and issue 10 §3's line for
    citygraph on each stack."""
    lines = []
    ox = at_top["oxigraph"]
    for stack in stacks:
        citygraph = at_top[server_name("citygraph", stack)]
        per_query = {
            q: (rate / ox[q][0], p99 / ox[q][1])
            for q, (rate, p99) in citygraph.items()
            if ox[q][0] and ox[q][1]
        }
        if per_query:
            line = report.per_query_line(per_query, top)
            lines += [f"- citygraph on {stack}: " + line[0].lower() + line[1:]]
        if stack == BASE:
            continue
        for app in ("floor", "citygraph"):
            base, other = at_top[app], at_top[server_name(app, stack)]
            ratios = [other[q][0] / base[q][0] for q in base if base[q][0] and other[q][0]]
            if ratios:
                lines.append(
                    f"- {app} on {stack} / on h11 at c={top}: "
                    + ", ".join(
                        f"`{q}` {_fmt_ratio(other[q][0] / base[q][0])}" for q in base if base[q][0]
                    )
                    + f" (geometric mean {_fmt_ratio(statistics.geometric_mean(ratios))})"
                )
    return lines


def _loads(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def rerender_stacks(results: Path, *, label: str = "", docs: Path | None = None) -> str:
    """The report of a saved ``stacks-*.json`` again; written to ``docs`` when given."""
    meta, validations, measurements = report.load_results(results)
    markdown = render(meta, load_queries(None), validations, measurements)
    if docs is not None:
        report.update_docs(docs, label or default_label(meta), markdown)
    return markdown
