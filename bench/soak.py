"""``python -m bench.soak --minutes 10``: a soak test of ``citygraph serve`` (issue 9 §6).

One command: builds the repository's data into a fresh store, starts ``citygraph serve`` on
127.0.0.1 (with an update token), then

1. warms up (mixed reads) and measures the **idle** p99 of a one-triple lookup (nothing else
   running);
2. measures the **capacity** of the mixed reads (requests per second with ``--clients``
   closed-loop clients);
3. for ``--minutes``: mixed reads paced at ``--load`` x that capacity, a write with the token
   every ``--write-every`` seconds (into its own graph, each insert undone by a delete, so the
   data end as they began), ``--hostile`` clients sending hostile queries back to back
   (expensive joins, deep nesting, huge results), and one client timing the one-triple lookup
   all along;
4. reports unexpected errors (status >= 500 other than the documented 503s, no response, a
   traceback), documented 503s met by ordinary requests, the memory of all server processes
   after warm-up (first against last minute), and the lookup's p99 under hostile load against
   its idle p99. Exit 1 when a goal is missed (0 unexpected errors, < 10 % memory growth, p99
   within 2x).

Results go to ``var/soak/soak-<time>.json`` and, as a Markdown table, to stdout.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
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
from bench.fuzz.observe import expected_503, process_tree
from bench.fuzz.runner import TOKEN, build_store, send

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


class Client:
    """One keep-alive connection to the server; a failed reused connection is retried once."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, case: Case) -> tuple[int, dict[str, str], bytes] | str:
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


def server_rss_kib(root: int) -> int:
    return sum(p.rss_kib for p in process_tree(root).values())


@dataclass(frozen=True)
class SoakOptions:
    minutes: float = 10.0
    clients: int = 4
    load: float = 0.8
    hostile: int = 4
    write_every: float = 5.0
    warmup: float = 30.0
    idle_seconds: float = 30.0
    workers: int = 1
    seed: int = 1


def soak(options: SoakOptions, work: Path) -> dict[str, object]:
    """Run the soak (see the module's documentation); the figures as a dict."""
    store = work / "store"
    build_store(store)
    spec = servers.citygraph_spec(
        store, workers=options.workers, env={"CITYGRAPH_UPDATE_TOKEN": TOKEN}
    )
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
    warm = Client(server.port)
    until = time.monotonic() + options.warmup
    while time.monotonic() < until:
        warm.request(rng.choice(reads))
    warm.close()
    idle_client = Client(server.port)
    idle = time_lookups(idle_client, None, options.idle_seconds)
    idle_client.close()

    # capacity: closed-loop clients over the read mix
    done = Counter[int]()
    capacity_seconds = 15.0

    def closed_loop(index: int) -> None:
        client = Client(server.port)
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

    # the soak itself
    seconds = options.minutes * 60
    end = time.monotonic() + seconds
    memory: list[tuple[float, int]] = []
    started = time.monotonic()

    def paced_reads(index: int) -> None:
        client = Client(server.port)
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

    def hostile(index: int) -> None:
        client = Client(server.port)
        local = random.Random(200 + index)
        while time.monotonic() < end:
            case = hostile_cases(local)
            tally.record(case, client.request(case))
        client.close()

    def writes() -> None:
        client = Client(server.port)
        n = 0
        while time.monotonic() < end - options.write_every:
            case = write_case(n)
            tally.record(case, client.request(case))
            n += 1
            time.sleep(options.write_every)
        if n % 2:  # undo the last insert
            tally.record(write_case(n), client.request(write_case(n)))
        client.close()

    def probe() -> None:
        client = Client(server.port)
        got = time_lookups(client, tally, max(0.0, end - time.monotonic()))
        client.close()
        with tally.lock:
            tally.lookup_ms.extend(got)

    def sample_memory() -> None:
        while time.monotonic() < end:
            memory.append((time.monotonic() - started, server_rss_kib(server.pid)))
            time.sleep(5)

    threads = [threading.Thread(target=paced_reads, args=(i,)) for i in range(options.clients)]
    threads += [threading.Thread(target=hostile, args=(i,)) for i in range(options.hostile)]
    threads += [threading.Thread(target=t) for t in (writes, probe, sample_memory)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    minute = min(60.0, seconds / 4)
    first = [kib for at, kib in memory if at <= minute]
    last = [kib for at, kib in memory if at >= seconds - minute]
    growth = (statistics.mean(last) / statistics.mean(first) - 1) if first and last else None
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
        "unexpected_errors": len(tally.unexpected),
        "unexpected_examples": tally.unexpected[:10],
        "documented_503": dict(tally.documented_503),
        "ordinary_requests": ordinary,
        "memory_first_minute_mib": round(statistics.mean(first) / 1024, 1) if first else None,
        "memory_last_minute_mib": round(statistics.mean(last) / 1024, 1) if last else None,
        "memory_growth": None if growth is None else round(growth, 4),
        "lookup_idle_p50_ms": round(percentile(idle, 0.5), 2),
        "lookup_idle_p99_ms": round(idle_p99, 2),
        "lookup_hostile_p50_ms": round(percentile(tally.lookup_ms, 0.5), 2),
        "lookup_hostile_p99_ms": round(loaded_p99, 2),
        "lookup_p99_ratio": round(loaded_p99 / idle_p99, 2) if idle_p99 else None,
        "lookups_timed": len(tally.lookup_ms),
    }


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
            "memory of all server processes, first → last minute (goal < 10 %)",
            f"{result['memory_first_minute_mib']} → {result['memory_last_minute_mib']} MiB"
            + ("" if growth is None else f" ({float(str(growth)) * 100:+.1f} %)"),
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
