"""One comparison run: data, stores, servers, validation, interleaved measurements, report."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import driver, generate, report, servers
from bench.driver import Request
from bench.queries import Query, load_queries

__all__ = [
    "Prepared",
    "RunConfig",
    "data_dir",
    "ensure_data",
    "floor_requests",
    "measure_workloads",
    "parse_names",
    "prepare",
    "results_path",
    "run",
    "validate_queries",
    "workloads_for",
]

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "bench"
MIX = "whole mix"
#: A measurement during which other processes used this many cores is repeated (once).
DISTURBED = 0.3
DISTURBED_RETRIES = 1
#: Seconds a run may spend in all waiting for other processes to calm down or measuring again
#: because they did not; and the longest single wait.
QUIET_BUDGET = 90.0
QUIET_WAIT = 3.0
#: A slow query is measured for at least this many times its (cold) latency, at most MAX_S.
MIN_LATENCIES = 4
MAX_DURATION = 15.0
MIN_REQUESTS = 3


@dataclass(frozen=True)
class RunConfig:
    """What ``python -m bench run`` was asked to do."""

    triples: int = 1_000_000
    seed: int = generate.DEFAULT_SEED
    concurrency: tuple[int, ...] = (1, 8)
    duration: float = 5.0
    runs: int = 3
    warmup: float = 1.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    candidate: str = "citygraph"  # or "oxigraph": a second Oxigraph server (develops the bench)
    queries: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    use_wrk: bool = True
    write_docs: bool = True
    label: str = ""  # the section of docs/performance.md (default: the size, e.g. 1M)
    quiet_budget: float = QUIET_BUDGET  # seconds of waiting for a quiet machine, in all
    max_duration: float = MAX_DURATION  # seconds a slow query's measurement may be stretched to
    docs: Path = REPO / "docs" / "performance.md"
    floor: bool = True  # measure citygraph's floor too (bench/floor.py)


def data_dir(triples: int, seed: int) -> Path:
    return CACHE / f"{generate.size_label(triples)}-seed{seed}"


def ensure_data(triples: int, seed: int) -> Path:
    """Generate the data set unless a complete one of this generator version is cached."""
    directory = data_dir(triples, seed)
    params = directory / "params.json"
    if params.is_file() and (directory / "data.nt").is_file():
        meta = json.loads(params.read_text(encoding="utf-8"))
        if meta.get("generator_version") == generate.GENERATOR_VERSION:
            return directory
    started = time.monotonic()
    dataset = generate.write_dataset(directory, triples, seed=seed)
    say(
        f"generated {dataset.triples:,} triples ({dataset.cities:,} cities, "
        f"{dataset.partnerships:,} partnerships) in {time.monotonic() - started:.1f} s"
    )
    return directory


@dataclass(frozen=True)
class Prepared:
    """What every comparison starts from: its data set, the two stores built from it (the
    citygraph store and Oxigraph's), the generator's parameters and ``wrk``, if used."""

    directory: Path
    log_dir: Path
    citygraph_store: Path
    oxigraph_store: Path
    params: dict[str, Any]
    wrk: str | None


def prepare(config: RunConfig, *, citygraph: bool = True, hint: str = "") -> Prepared:
    """Generate (or reuse) the data set of ``config`` and its stores, and find ``wrk``.

    ``citygraph``: the run starts ``citygraph serve``, so stop now with what is missing
    (``hint`` appended) if it is not available."""
    directory = ensure_data(config.triples, config.seed)
    log_dir = directory / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cg_root, ox_dir = servers.prepare_stores(directory, log=log_dir / "load.log")
    if citygraph:
        missing = servers.citygraph_available()
        if missing:
            raise SystemExit(f"citygraph serve is not available: {missing}{hint}")
    wrk = driver.ensure_wrk() if config.use_wrk else None
    if config.use_wrk and wrk is None:
        say("wrk is not available: using the Python client (it bounds small queries)")
    return Prepared(directory, log_dir, cg_root, ox_dir, generate.load_params(directory), wrk)


def results_path(directory: Path, kind: str) -> Path:
    """Where a run of ``kind`` (results, stacks, backends, ...) keeps its measurements."""
    return directory / f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"


def requests_for(query: Query) -> list[Request]:
    return [Request(text, query.accept) for text in query.variants]


def mix_requests(queries: Sequence[Query]) -> list[Request]:
    """The whole mix: each query ``weight`` times per cycle, variants in turn, shuffled."""
    sequence: list[Request] = []
    for query in queries:
        variants = requests_for(query)
        for index in range(query.weight * 4):
            sequence.append(variants[index % len(variants)])
    random.Random(0).shuffle(sequence)
    return sequence


def run(config: RunConfig) -> Path:
    """Run the whole comparison; return the JSON file with every measurement."""
    began = time.monotonic()
    prepared = prepare(
        config, citygraph=config.candidate == "citygraph", hint=" (try --candidate oxigraph)"
    )
    directory, log_dir, wrk = prepared.directory, prepared.log_dir, prepared.wrk
    cg_root, ox_dir, params = prepared.citygraph_store, prepared.oxigraph_store, prepared.params
    queries = load_queries(params["params"], names=config.queries or None)

    reference = servers.oxigraph_spec(ox_dir)
    if config.candidate == "citygraph":
        candidate = servers.citygraph_spec(cg_root, workers=config.workers, env=dict(config.env))
    else:
        candidate = servers.oxigraph_spec(ox_dir, name="oxigraph-2")

    specs = [reference, candidate]
    if config.candidate == "citygraph" and config.floor:
        specs.append(servers.floor_spec(cg_root, workers=config.workers, env=dict(config.env)))
    with servers.running(specs, log_dir) as started:
        ref, cand = started[:2]
        valid, validations = validate_queries(queries, [ref, cand])
        rewrite = {}
        if len(started) > 2:  # the floor: the same body sizes, no query (bench/floor.py)
            rewrite[started[2].name] = floor_requests(valid, validations, cand.name)
        measurements = measure_workloads(
            started, workloads_for(valid, validations), config, wrk, rewrite=rewrite
        )
    out = results_path(directory, "results")
    meta = report.run_metadata(config, params, directory, cand_name=candidate.name, wrk=wrk)
    meta["elapsed_s"] = round(time.monotonic() - began, 1)
    report.save_results(out, meta, validations, measurements)
    markdown = report.render(meta, queries, validations, measurements, ref.name, cand.name)
    print(markdown)
    if config.write_docs:
        label = config.label or generate.size_label(config.triples)
        report.update_docs(config.docs, label, markdown)
        say(f"wrote {config.docs}")
    say(f"results in {out}; took {time.monotonic() - began:.0f} s")
    return out


def validate_queries(
    queries: Sequence[Query], targets: Sequence[servers.Endpoint]
) -> tuple[list[Query], list[driver.Validation]]:
    """Send every variant of every query to every target; the queries all answered alike."""
    endpoints = [(t.name, t.base, t.query_path) for t in targets]
    valid: list[Query] = []
    validations: list[driver.Validation] = []
    for query in queries:
        check = driver.validate(query.name, requests_for(query), endpoints)
        validations.append(check)
        rows = check.counts[targets[0].name]
        if check.ok:
            valid.append(query)
            say(
                f"valid: {query.name}: rows {min(rows)}..{max(rows)}, same content in "
                f"{sum(check.same_content)}/{len(check.same_content)} variants"
            )
        else:
            say(f"INVALID, not timed: {query.name}: {check.statuses} {check.counts}")
    return valid, validations


Workload = tuple[str, list[Request], float]
#: What a server is sent instead of a workload's requests (the floor: the body sizes).
Rewrite = Callable[[Sequence[Request]], list[Request]]


def floor_requests(
    queries: Sequence[Query], validations: Sequence[driver.Validation], server: str
) -> Rewrite:
    """For the floor server: each request of a workload becomes a request for as many bytes as
    ``server`` answered it with during validation (same order, same ``Accept``)."""
    checked = {v.query: v for v in validations}
    sizes: dict[tuple[str, str], int] = {}
    for query in queries:
        answered = checked[query.name].bytes[server]
        for request, size in zip(requests_for(query), answered, strict=True):
            sizes[(request.query, request.accept)] = size

    def rewrite(requests: Sequence[Request]) -> list[Request]:
        return [Request(str(sizes[(r.query, r.accept)]), r.accept) for r in requests]

    return rewrite


def workloads_for(
    valid: Sequence[Query], validations: Sequence[driver.Validation], *, mix: bool = True
) -> list[Workload]:
    """Each valid query, then (``mix``) the whole mix of them, with its slowest cold latency."""
    slowest = {v.query: max(max(times) for times in v.seconds.values()) for v in validations}
    workloads = [(q.name, requests_for(q), slowest[q.name]) for q in valid]
    if valid and mix:
        workloads.append((MIX, mix_requests(valid), max(slowest[q.name] for q in valid)))
    return workloads


def measure_workloads(
    targets: Sequence[servers.Endpoint],
    workloads: Sequence[Workload],
    config: RunConfig,
    wrk: str | None,
    *,
    rewrite: Mapping[str, Rewrite] | None = None,
) -> list[driver.Measurement]:
    """Measure every workload on every target in turn (A B …, … B A, A B …); medians later.

    ``rewrite`` names targets that are sent other requests than the workload's (the floor).

    Before each measurement the machine must be quiet (bounded wait); a disturbed measurement is
    repeated once; a query too slow for the duration is measured again, longer.
    """
    measurements: list[driver.Measurement] = []
    quiet_budget = config.quiet_budget
    pids = [t.pid for t in targets]
    rewrite = rewrite or {}
    for name, given, latency in workloads:
        sent = {t.name: rewrite[t.name](given) if t.name in rewrite else given for t in targets}
        longest = max(config.duration, config.max_duration)
        duration = min(longest, max(config.duration, MIN_LATENCIES * latency))
        if config.warmup > 0:
            for server in targets:
                driver.measure(
                    server=server.name, base=server.base, query_path=server.query_path,
                    query=name, requests=sent[server.name],
                    concurrency=max(config.concurrency),
                    duration=config.warmup, run=-1, measured_pid=server.pid,
                    other_pids=[p for p in pids if p != server.pid], wrk=wrk,
                )  # fmt: skip
        for concurrency in config.concurrency:
            for index in range(config.runs):
                order = targets if index % 2 == 0 else targets[::-1]  # A B, B A, A B …
                for server in order:
                    for attempt in range(2 + DISTURBED_RETRIES):
                        waited = time.monotonic()
                        driver.wait_until_quiet(pids, max_wait=min(QUIET_WAIT, quiet_budget))
                        quiet_budget = max(0.0, quiet_budget - (time.monotonic() - waited))
                        m = driver.measure(
                            server=server.name, base=server.base,
                            query_path=server.query_path, query=name,
                            requests=sent[server.name], concurrency=concurrency,
                            duration=duration, run=index, measured_pid=server.pid,
                            other_pids=[p for p in pids if p != server.pid], wrk=wrk,
                        )  # fmt: skip
                        if m.requests < MIN_REQUESTS and duration < longest:
                            # Too slow for the duration: measure again, long enough.
                            duration = longest
                            say(f"{name}: {m.requests} requests in {m.seconds:.0f} s: longer")
                            continue
                        if (
                            m.other_cpu < DISTURBED
                            or attempt >= DISTURBED_RETRIES
                            or quiet_budget <= 0
                        ):
                            break
                        quiet_budget = max(0.0, quiet_budget - m.seconds)
                        say(f"disturbed (other CPU {m.other_cpu:.2f} cores): measuring again")
                    measurements.append(m)
                    say(
                        f"{name:24} c={concurrency} run {index} {server.name:18} "
                        f"{m.throughput:9.1f} req/s  p50 {m.p50_ms:8.2f} ms  "
                        f"p99 {m.p99_ms:8.2f} ms  err {m.errors}  other cpu {m.other_cpu:.2f}"
                        f"  load {m.load1:.1f}"
                    )
    return measurements


def parse_names(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    """``a,b`` → the names in that order (``--backend``, ``--stack``); unknown ones are an error.

    Raises:
        ValueError: a name is not in ``allowed``, or there is none.
    """
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in chosen if name not in allowed]
    if unknown or not chosen:
        raise ValueError(f"unknown {what} {', '.join(unknown) or '(none)'}: choose from {allowed}")
    return chosen


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
