"""``python -m bench.soak --minutes 10``: a soak test of ``citygraph serve`` (issue 9 §6).

One command: builds the repository's data into a fresh store, starts ``citygraph serve`` on
127.0.0.1 (with an update token), then

1. warms up (mixed reads), fills the response caches that distinct queries fill to 90 % of
   their budget (``CITYGRAPH_CACHE_BYTES``; they grow up to it by design, so memory measured
   while they fill would count that as growth) and measures the **idle** p99 of a one-triple
   lookup (nothing else running);
2. measures the **capacity** of the mixed reads (requests per second with ``--clients``
   closed-loop clients), then times the lookup for ``--idle-seconds`` under the read mix
   alone, paced at ``--load`` x that capacity (what the reads cost the lookup, without hostile
   queries);
3. for ``--minutes``: mixed reads paced at ``--load`` x that capacity, a write with the token
   every ``--write-every`` seconds (into its own graph, each insert undone by a delete, so the
   data end as they began), ``--hostile`` clients sending hostile queries back to back
   (expensive joins, deep nesting, huge results), and one client timing the one-triple lookup
   all along;
4. reports unexpected errors (status >= 500 other than the documented 503s, no response, a
   traceback), documented 503s met by ordinary requests, the memory of all server processes
   (the sum of their PSS, so that pages the query processes share are counted once) after
   warm-up, first against last minute, and the lookup's p99 under hostile load against its
   idle p99. Exit 1 when a goal is missed (0 unexpected errors, < 10 % memory growth, p99
   within 2x).

Each simulated client names itself in ``X-Forwarded-For`` (the server trusts 127.0.0.1), as
distinct clients would be: the per-client limits then apply per client, as in production.

Results go to ``var/soak/soak-<time>.json`` and, as a Markdown table, to stdout.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from bench import servers
from bench.fuzz.cases import Case
from bench.fuzz.grammar import EXPENSIVE, PREFIXES, deep_nesting
from bench.fuzz.observe import expected_503, process_tree, read_metrics
from bench.fuzz.runner import TOKEN, build_store, send
from citygraph.config import Settings
from citygraph.engine.lanes import cpu_seconds

__all__ = ["main", "soak"]

CITY = "https://w3id.org/citygraph/id/city/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
#: The one-triple lookup whose latency is the fairness figure.
LOOKUP = f"ASK {{ <{CITY}de-berlin> <{LABEL}> ?label }}"
SOAK_GRAPH = "urn:x-citygraph-soak:graph"
READS = (
    "/sparql?query=" + quote(LOOKUP),
    "/sparql?query=" + quote(f"SELECT ?p ?o WHERE {{ <{CITY}de-berlin> ?p ?o }}"),
    "/sparql?query="
    + quote(
        PREFIXES + "SELECT ?partner ?l WHERE { ?p cg:partner ?partner . ?partner rdfs:label ?l }"
        " LIMIT 200"
    ),
    "/sparql?query=" + quote(f"CONSTRUCT WHERE {{ <{CITY}cn-beijing> ?p ?o }}"),
    "/sparql?query=" + quote(PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }"),
    "/",
    "/partnerships",
    "/places",
    "/doc/city/de-berlin",
    "/store?graph=" + quote("https://w3id.org/citygraph/graph/vocab", safe=""),
    "/healthz",
)


_NONCE = itertools.count()


def hostile_cases(rng: random.Random) -> Case:
    """An expensive join, a deeply nested query, or a result far over the limits."""
    kind = rng.randrange(3)
    if kind == 0:
        text = PREFIXES + rng.choice(EXPENSIVE)
    elif kind == 1:
        text = deep_nesting(rng, rng.choice((5000, 20000)))
    else:
        text = "CONSTRUCT { ?a ?b ?c . ?d ?e ?f } WHERE { ?a ?b ?c . ?d ?e ?f }"
    # POSTed: a 20,000-level query is 400 kB, over what the HTTP layer takes in a URL.
    headers = [("Content-Type", "application/sparql-query")]
    return Case("hostile", "POST", "/sparql", headers, text.encode())


def write_case(n: int) -> Case:
    """Insert (even ``n``) or delete (odd ``n``) one triple of the soak graph, with the token."""
    verb = "INSERT" if n % 2 == 0 else "DELETE"
    text = f'{verb} DATA {{ GRAPH <{SOAK_GRAPH}> {{ <urn:x-soak:s> <urn:x-soak:p> "v" }} }}'
    headers = [
        ("Authorization", f"Bearer {TOKEN}"),
        ("Content-Type", "application/sparql-update"),
    ]
    return Case("write", "POST", "/sparql", headers, text.encode(), authorised=True)


@dataclass
class Tally:
    """What the soak's clients saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    documented_503: Counter[str] = field(default_factory=Counter)
    lookup_ms: list[float] = field(default_factory=list)

    def record(self, case: Case, result: tuple[int, dict[str, str], bytes] | str) -> None:
        with self.lock:
            if isinstance(result, str):
                self.unexpected.append(f"{case.kind} {case.target[:80]}: {result}")
                return
            status, headers, body = result
            self.statuses[(case.kind, status)] += 1
            if b"Traceback (most recent call last)" in body:
                self.unexpected.append(f"{case.kind} {case.target[:80]}: traceback in the body")
            elif status == 503 and expected_503(case.target, headers, body):
                self.documented_503[case.kind] += 1
            elif status >= 500:
                self.unexpected.append(f"{case.kind} {case.target[:80]}: {status} {body[:120]!r}")


#: Who each simulated client is (``X-Forwarded-For``; the server trusts 127.0.0.1): the read
#: mix is a crowd, each hostile client is one client, the probe and the writer are others. All
#: connect from 127.0.0.1; as one client they would share the per-client limits, and the
#: hostile clients' queries would crowd out the probe's (429s to the probe, seen on main).
READER, HOSTILE, PROBE, WRITER = "198.51.100.{}", "203.0.113.{}", "192.0.2.1", "192.0.2.2"


class Client:
    """One keep-alive connection to the server; a failed reused connection is retried once."""

    def __init__(self, port: int, address: str, timeout: float = 120.0) -> None:
        self.port = port
        self.address = address
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, case: Case) -> tuple[int, dict[str, str], bytes] | str:
        case = replace(case, headers=[*case.headers, ("X-Forwarded-For", self.address)])
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                result = send(self.conn, case)
            except (OSError, http.client.HTTPException) as error:
                self.conn.close()
                self.conn = None
                if reused and attempt == 1:
                    continue
                return f"no response: {type(error).__name__}: {error}"
            if self.conn.sock is None:
                self.conn = None
            return result
        return "no response"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_lookups(client: Client, tally: Tally | None, seconds: float) -> list[float]:
    """Sequential one-triple lookups for ``seconds``; their latencies in ms."""
    latencies = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        # A new comment each time: the lookup is evaluated, never answered from a cache.
        target = READS[0] + quote(f"\n# {next(_NONCE)}", safe="")
        case = Case("lookup", "GET", target, [("Accept", "application/sparql-results+json")])
        started = time.perf_counter()
        result = client.request(case)
        latencies.append((time.perf_counter() - started) * 1000)
        if tally is not None:
            tally.record(case, result)
        time.sleep(0.02)
    return latencies


@dataclass(frozen=True)
class Memory:
    """Memory of the server's processes at one moment, in KiB."""

    #: Resident memory summed over the processes: pages shared by the query processes (forked
    #: from one zygote holding the build) count once per process.
    rss: int
    #: Proportional set size summed: each shared page split among its sharers, so the sum is
    #: what the server holds (``/proc/PID/smaps_rollup``).
    pss: int
    #: The server worker's own PSS (its response caches live there).
    worker_pss: int


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="utf-8")
    except OSError:
        return 0  # ended meanwhile
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def server_memory(root: int) -> Memory:
    tree = process_tree(root)
    pss = {pid: _pss_kib(pid) for pid in tree}
    return Memory(sum(p.rss_kib for p in tree.values()), sum(pss.values()), pss.get(root, 0))


class CpuUse:
    """CPU seconds the server's processes used, by role: the worker, the general lane (the
    query processes under ``SCHED_IDLE``, or, before that, running nicer than the worker), the
    write processes and the others (fast lane, zygotes)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str, float]] = {}

    def sample(self, root: int) -> None:
        worker_nice = None
        tree = process_tree(root)
        for pid in sorted(tree, key=lambda p: p != root):
            try:
                nice = os.getpriority(os.PRIO_PROCESS, pid)
                idle = os.sched_getscheduler(pid) == os.SCHED_IDLE
            except OSError:
                continue  # ended meanwhile
            seconds = cpu_seconds(pid)
            if pid == root:
                worker_nice, role = nice, "worker"
            elif "write_process" in tree[pid].command:
                role = "writes"
            elif idle or (worker_nice is not None and nice > worker_nice):
                role = "general lane"
            else:
                role = "other"
            if seconds or pid not in self.seen:  # 0: it ended after the first read
                self.seen[pid] = (role, seconds)

    def by_role(self) -> dict[str, float]:
        """CPU seconds by role, of every process seen (ended ones up to their last sample)."""
        totals: dict[str, float] = {}
        for role, seconds in self.seen.values():
            totals[role] = totals.get(role, 0.0) + seconds
        return totals


#: The gauges of the caches that distinct SPARQL reads fill (query results, fast path); the
#: third cache, the pages', holds the read mix's few fixed pages.
CACHE_GAUGES = ("citygraph_cache_bytes", "citygraph_get_cache_bytes")
#: A cache this full (share of its budget) counts as filled.
CACHE_FULL = 0.9


def fill_caches(
    port: int, reads: Sequence[Case], *, budget: int, limit: float
) -> tuple[float, bool]:
    """Distinct SPARQL reads from 4 clients until the caches of :data:`CACHE_GAUGES` hold
    :data:`CACHE_FULL` of ``budget`` bytes, at most ``limit`` seconds; the seconds taken and
    whether they got that full.

    The caches grow up to their budget by design (issue 9 §2); memory measured while they fill
    would count that as growth. So the warm-up fills them first.
    """
    distinct = [case for case in reads if "%7Bnonce%7D" in case.target]
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    full = threading.Event()

    def send_reads(index: int) -> None:
        client = Client(port, READER.format(index + 1))
        local = random.Random(300 + index)
        while not full.is_set() and time.monotonic() - started < limit:
            case = local.choice(distinct)
            client.request(
                replace(case, target=case.target.replace("%7Bnonce%7D", str(next(_NONCE))))
            )
        client.close()

    threads = [threading.Thread(target=send_reads, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    filled = False
    while not filled and time.monotonic() - started < limit:
        sums, _, _ = read_metrics(base)
        filled = all(sums.get(gauge, 0.0) >= CACHE_FULL * budget for gauge in CACHE_GAUGES)
        if not filled:
            time.sleep(2)
    full.set()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, filled


@dataclass(frozen=True)
class SoakOptions:
    minutes: float = 10.0
    clients: int = 4
    load: float = 0.8
    hostile: int = 4
    write_every: float = 5.0
    warmup: float = 30.0
    fill_limit: float = 300.0
    idle_seconds: float = 30.0
    workers: int = 1
    seed: int = 1


def soak(options: SoakOptions, work: Path) -> dict[str, object]:
    """Run the soak (see the module's documentation); the figures as a dict."""
    store = work / "store"
    build_store(store)
    env = {"CITYGRAPH_UPDATE_TOKEN": TOKEN, "CITYGRAPH_TRUSTED_PROXIES": "127.0.0.1"}
    spec = servers.citygraph_spec(store, workers=options.workers, env=env)
    server = servers.start(spec, work / "logs", ready_timeout=300)
    try:
        return _measure(options, server)
    finally:
        servers.stop(server)


def _measure(options: SoakOptions, server: servers.Server) -> dict[str, object]:
    rng = random.Random(options.seed)
    reads = [Case("read", "GET", path) for path in READS]
    # Half the SPARQL reads are new queries (a comment differs): evaluated, and filling the cache.
    reads += [
        Case("read", "GET", path + quote("\n# {nonce}", safe=""))
        for path in READS
        if path.startswith("/sparql")
    ]
    tally = Tally()
    warm = Client(server.port, READER.format(1))
    until = time.monotonic() + options.warmup
    while time.monotonic() < until:
        warm.request(rng.choice(reads))
    warm.close()
    budget = Settings.from_env().cache_bytes
    fill_seconds, filled = fill_caches(server.port, reads, budget=budget, limit=options.fill_limit)
    idle_client = Client(server.port, PROBE)
    idle = time_lookups(idle_client, None, options.idle_seconds)
    idle_load = os.getloadavg()[0]
    idle_client.close()

    # capacity: closed-loop clients over the read mix
    done = Counter[int]()
    capacity_seconds = 15.0

    def closed_loop(index: int) -> None:
        client = Client(server.port, READER.format(index + 1))
        local = random.Random(index)
        end = time.monotonic() + capacity_seconds
        while time.monotonic() < end:
            client.request(local.choice(reads))
            done[index] += 1
        client.close()

    threads = [threading.Thread(target=closed_loop, args=(i,)) for i in range(options.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    capacity = sum(done.values()) / capacity_seconds
    rate = max(1.0, capacity * options.load)

    def paced_reads(index: int, end: float, tally: Tally) -> None:
        client = Client(server.port, READER.format(index + 1))
        local = random.Random(100 + index)
        interval = options.clients / rate
        next_at = time.monotonic()
        while time.monotonic() < end:
            case = local.choice(reads)
            case = replace(case, target=case.target.replace("%7Bnonce%7D", str(next(_NONCE))))
            tally.record(case, client.request(case))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        client.close()

    def probe(end: float, tally: Tally) -> None:
        client = Client(server.port, PROBE)
        got = time_lookups(client, tally, max(0.0, end - time.monotonic()))
        client.close()
        with tally.lock:
            tally.lookup_ms.extend(got)

    # the lookup under the read mix alone: how much of the soak's figure the reads cause
    end = time.monotonic() + options.idle_seconds
    reads_only = Tally()
    threads = [
        threading.Thread(target=paced_reads, args=(i, end, reads_only))
        for i in range(options.clients)
    ]
    threads.append(threading.Thread(target=probe, args=(end, reads_only)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # the soak itself
    seconds = options.minutes * 60
    end = time.monotonic() + seconds
    memory: list[tuple[float, Memory]] = []
    cpu = CpuUse()
    cpu.sample(server.pid)
    cpu_before = cpu.by_role()
    loads: list[float] = []
    started = time.monotonic()

    def hostile(index: int) -> None:
        client = Client(server.port, HOSTILE.format(index + 1))
        local = random.Random(200 + index)
        while time.monotonic() < end:
            case = hostile_cases(local)
            tally.record(case, client.request(case))
        client.close()

    def writes() -> None:
        client = Client(server.port, WRITER)
        n = 0
        while time.monotonic() < end - options.write_every:
            case = write_case(n)
            tally.record(case, client.request(case))
            n += 1
            time.sleep(options.write_every)
        if n % 2:  # undo the last insert
            tally.record(write_case(n), client.request(write_case(n)))
        client.close()

    def sample_memory() -> None:
        while time.monotonic() < end:
            memory.append((time.monotonic() - started, server_memory(server.pid)))
            cpu.sample(server.pid)
            loads.append(os.getloadavg()[0])
            time.sleep(5)

    threads = [
        threading.Thread(target=paced_reads, args=(i, end, tally)) for i in range(options.clients)
    ]
    threads += [threading.Thread(target=hostile, args=(i,)) for i in range(options.hostile)]
    threads += [threading.Thread(target=t) for t in (writes, sample_memory)]
    threads.append(threading.Thread(target=probe, args=(end, tally)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    minute = min(60.0, seconds / 4)
    first = [m for at, m in memory if at <= minute]
    last = [m for at, m in memory if at >= seconds - minute]

    def mib(samples: list[Memory], kind: str) -> float | None:
        return (
            round(statistics.mean(getattr(m, kind) for m in samples) / 1024, 1) if samples else None
        )

    def growth_of(kind: str) -> float | None:
        before, after = mib(first, kind), mib(last, kind)
        return None if not before or after is None else round(after / before - 1, 4)

    growth = growth_of("pss")
    seconds_run = max(1.0, time.monotonic() - started)
    idle_p99 = percentile(idle, 0.99)
    loaded_p99 = percentile(tally.lookup_ms, 0.99)
    ordinary = sum(n for (kind, _), n in tally.statuses.items() if kind in ("read", "lookup"))
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": options.__dict__,
        "capacity_rps": round(capacity, 1),
        "offered_rps": round(rate, 1),
        "achieved_read_rps": round(
            sum(n for (kind, _), n in tally.statuses.items() if kind == "read") / seconds, 1
        ),
        "requests": sum(tally.statuses.values()) + len(tally.unexpected),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())},
        "unexpected_errors": len(tally.unexpected) + len(reads_only.unexpected),
        "unexpected_examples": (tally.unexpected + reads_only.unexpected)[:10],
        "documented_503": dict(tally.documented_503),
        "ordinary_requests": ordinary,
        "cache_budget_bytes": budget,
        "cache_fill_seconds": round(fill_seconds, 1),
        "caches_filled": filled,
        "memory_first_minute_mib": mib(first, "pss"),
        "memory_last_minute_mib": mib(last, "pss"),
        "memory_growth": growth,
        "rss_first_minute_mib": mib(first, "rss"),
        "rss_last_minute_mib": mib(last, "rss"),
        "rss_growth": growth_of("rss"),
        "worker_first_minute_mib": mib(first, "worker_pss"),
        "worker_last_minute_mib": mib(last, "worker_pss"),
        "worker_growth": growth_of("worker_pss"),
        "memory_samples": [(round(at), m.rss, m.pss, m.worker_pss) for at, m in memory],
        "lookup_idle_p50_ms": round(percentile(idle, 0.5), 2),
        "lookup_idle_p99_ms": round(idle_p99, 2),
        "lookup_hostile_p50_ms": round(percentile(tally.lookup_ms, 0.5), 2),
        "lookup_hostile_p99_ms": round(loaded_p99, 2),
        "lookup_p99_ratio": round(loaded_p99 / idle_p99, 2) if idle_p99 else None,
        "lookups_timed": len(tally.lookup_ms),
        "cores_used_by_role": {
            role: round((seconds - cpu_before.get(role, 0.0)) / seconds_run, 2)
            for role, seconds in cpu.by_role().items()
        },
        "machine_load_average": round(statistics.mean(loads), 1) if loads else None,
        "machine_load_idle_phase": round(idle_load, 1),
        "lookup_reads_only_p50_ms": round(percentile(reads_only.lookup_ms, 0.5), 2),
        "lookup_reads_only_p99_ms": round(percentile(reads_only.lookup_ms, 0.99), 2),
        "reads_only_statuses": {f"{k} {s}": n for (k, s), n in sorted(reads_only.statuses.items())},
    }


def _percent(growth: object) -> str:
    return "" if growth is None else f" ({float(str(growth)) * 100:+.1f} %)"


def table(result: dict[str, object]) -> str:
    """The figures as the Markdown table of docs/reliability.md."""
    growth = result["memory_growth"]
    ratio = result["lookup_p99_ratio"]
    rows = [
        ("unexpected errors (goal 0)", str(result["unexpected_errors"])),
        ("documented 503s, by request kind", json.dumps(result["documented_503"])),
        ("requests", str(result["requests"])),
        (
            "read capacity; offered, achieved during the soak",
            f"{result['capacity_rps']} req/s; {result['offered_rps']} req/s, "
            f"{result['achieved_read_rps']} req/s",
        ),
        (
            "caches filled before the soak (budget each; seconds)",
            f"{result['cache_budget_bytes']} bytes; {result['cache_fill_seconds']} s"
            + ("" if result["caches_filled"] else " (**not full**: --fill-limit reached)"),
        ),
        (
            "memory of all server processes (PSS), first → last minute (goal < 10 %)",
            f"{result['memory_first_minute_mib']} → {result['memory_last_minute_mib']} MiB"
            + _percent(growth),
        ),
        (
            "the same as RSS summed (shared pages counted per process)",
            f"{result['rss_first_minute_mib']} → {result['rss_last_minute_mib']} MiB"
            + _percent(result["rss_growth"]),
        ),
        (
            "the server worker alone (PSS; the response caches live there)",
            f"{result['worker_first_minute_mib']} → {result['worker_last_minute_mib']} MiB"
            + _percent(result["worker_growth"]),
        ),
        (
            "one-triple lookup p99: idle → under hostile load (goal ≤ 2x)",
            f"{result['lookup_idle_p99_ms']} → {result['lookup_hostile_p99_ms']} ms"
            + ("" if ratio is None else f" ({ratio}x)"),
        ),
        (
            "one-triple lookup p50: idle → under hostile load",
            f"{result['lookup_idle_p50_ms']} → {result['lookup_hostile_p50_ms']} ms",
        ),
        (
            "CPU of the server's processes during the soak (cores); machine load average "
            "(1 min) while the idle lookup was timed, during the soak",
            f"{json.dumps(result['cores_used_by_role'])}; {result['machine_load_idle_phase']}, "
            f"{result['machine_load_average']}",
        ),
        (
            "one-triple lookup p50, p99 under the read mix alone (no hostile queries)",
            f"{result['lookup_reads_only_p50_ms']} ms, {result['lookup_reads_only_p99_ms']} ms",
        ),
    ]
    return "| figure | value |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak")
    parser.add_argument("--clients", type=int, default=4, help="clients of the read mix")
    parser.add_argument("--load", type=float, default=0.8, help="share of the capacity offered")
    parser.add_argument("--hostile", type=int, default=4, help="clients sending hostile queries")
    parser.add_argument("--write-every", type=float, default=5.0, help="seconds between writes")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of warm-up")
    parser.add_argument(
        "--fill-limit", type=float, default=300.0, help="most seconds to fill the caches"
    )
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle lookup timing")
    parser.add_argument("--workers", type=int, default=1, help="citygraph serve --workers")
    parser.add_argument("--out", type=Path, default=Path("var/soak"), help="results directory")
    args = parser.parse_args(argv)
    options = SoakOptions(
        minutes=args.minutes,
        clients=args.clients,
        load=args.load,
        hostile=args.hostile,
        write_every=args.write_every,
        warmup=args.warmup,
        fill_limit=args.fill_limit,
        idle_seconds=args.idle_seconds,
        workers=args.workers,
    )
    with tempfile.TemporaryDirectory(prefix="citygraph-soak-") as tmp:
        result = soak(options, Path(tmp))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))
    for example in result["unexpected_examples"]:  # type: ignore[attr-defined]
        print("unexpected:", example)
    growth = result["memory_growth"]
    ratio = result["lookup_p99_ratio"]
    missed = (
        result["unexpected_errors"] != 0
        or growth is None
        or float(str(growth)) >= 0.10
        or ratio is None
        or float(str(ratio)) > 2.0
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
