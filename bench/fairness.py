"""Fair under load (issue 9 §5): a one-triple lookup on an idle server, then while a dozen
clients keep expensive queries running, in the same run; p50/p99 of each and their ratio.

Run: ``.venv/bin/python -m bench.fairness`` (options: ``--help``). It builds the project's own
data into ``var/bench/fairness/store`` (once; ``--store`` takes another built store), measures
what starting one query process costs (on disk and in memory: the price of a respawn), then
starts ``citygraph serve`` with the response caches off (a repeated lookup must reach a query
process) and ``CITYGRAPH_TRUSTED_PROXIES=127.0.0.1``, so that each simulated client names
itself in ``X-Forwarded-For`` (they all connect from 127.0.0.1). ``--baseline`` repeats the
loaded phase on a server without the fast lane and per-client shares (the behaviour before
issue 9). Results: ``docs/performance.md``, "Fair under load".
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.servers import citygraph_spec, running, venv_bin
from citygraph.engine.pool import QueryPool

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "var" / "bench" / "fairness"
#: The expensive query of issue 9 §5 (a cross product: runs until the timeout).
EXPENSIVE = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
FIRST_TRIPLE = "SELECT ?s ?p WHERE { ?s ?p ?o . FILTER(isIRI(?s)) } LIMIT 1"
JSON = {"Accept": "application/sparql-results+json"}


@dataclass
class Phase:
    """Lookups of one phase: latencies (ms) and status codes."""

    latencies: list[float]
    statuses: list[int]

    def line(self, name: str) -> str:
        p50, p99 = statistics.median(self.latencies), percentile(self.latencies, 0.99)
        failed = sum(1 for s in self.statuses if s != 200)
        return (
            f"{name:>9}: p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   "
            f"({len(self.latencies)} lookups, {failed} not 200)"
        )


def ensure_store() -> Path:
    store = WORK / "store"
    if not (store / "current").exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(venv_bin("citygraph")), "build", "--store", str(store)], check=True)
    return store


def lookup_query(client: httpx.Client, endpoint: str) -> str:
    reply = client.get(endpoint, params={"query": FIRST_TRIPLE}, headers=JSON).json()
    row = reply["results"]["bindings"][0]
    return f"SELECT ?o WHERE {{ <{row['s']['value']}> <{row['p']['value']}> ?o }}"


def lookups(client: httpx.Client, endpoint: str, query: str, count: int) -> Phase:
    """``count`` lookups one after the other, from a client of their own."""
    phase = Phase([], [])
    headers = {**JSON, "X-Forwarded-For": "203.0.113.1"}
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(endpoint, params={"query": query}, headers=headers)
        phase.latencies.append((time.perf_counter() - started) * 1000)
        phase.statuses.append(response.status_code)
    return phase


def keep_busy(endpoint: str, client_id: int, stop: threading.Event, statuses: list[int]) -> None:
    headers = {**JSON, "X-Forwarded-For": f"198.51.100.{client_id}"}
    with httpx.Client(timeout=120) as client:
        while not stop.is_set():
            try:
                response = client.get(endpoint, params={"query": EXPENSIVE}, headers=headers)
            except httpx.TransportError:
                return
            statuses.append(response.status_code)


def startup_seconds(store: Path, *, in_memory: bool, repeat: int = 3) -> list[float]:
    """Seconds for one query process to start and open the build (what a respawn costs)."""
    times = []
    for _ in range(repeat):
        pool = QueryPool(store, size=1, in_memory=in_memory, max_concurrent=1, check_interval=60)
        started = time.perf_counter()
        pool.start()
        times.append(time.perf_counter() - started)
        pool.close()
    return times


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    store: Path, env: Mapping[str, str], args: argparse.Namespace, *, idle_count: int, count: int
) -> tuple[Phase, Phase, dict[int, int]]:
    """Idle lookups, then lookups while ``args.clients`` expensive clients run."""
    with (
        running([citygraph_spec(store, workers=1, env=env)], WORK / "logs") as servers,
        httpx.Client(timeout=120) as client,
    ):
        endpoint = servers[0].endpoint
        query = lookup_query(client, endpoint)
        lookups(client, endpoint, query, min(10, idle_count))  # warm-up
        idle = lookups(client, endpoint, query, idle_count)
        stop = threading.Event()
        statuses: list[int] = []
        threads = [
            threading.Thread(target=keep_busy, args=(endpoint, i + 1, stop, statuses))
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2.0)  # every expensive client has a query running or waiting
        print("  /healthz under load:", client.get(servers[0].base + "/healthz").text)
        loaded = lookups(client, endpoint, query, count)
        stop.set()
        for line in client.get(servers[0].base + "/metrics").text.splitlines():
            if line.startswith("citygraph_queries_demoted_total"):
                print(" ", line)
        for thread in threads:  # their last queries end at the timeout at the latest
            thread.join(timeout=3 * args.timeout + 30)
    return idle, loaded, {s: statuses.count(s) for s in sorted(set(statuses))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__)
    parser.add_argument("--clients", type=int, default=12, help="expensive clients [12]")
    parser.add_argument("--lookups", type=int, default=200, help="lookups per phase [200]")
    parser.add_argument("--timeout", type=float, default=10.0, help="query timeout, s [10]")
    parser.add_argument("--in-memory", default="true", help="CITYGRAPH_IN_MEMORY [true]")
    parser.add_argument("--store", type=Path, help="a built store [the project's data]")
    parser.add_argument(
        "--baseline", action="store_true", help="also measure without the fast lane and shares"
    )
    args = parser.parse_args(argv)
    store = args.store or ensure_store()
    for in_memory in (False, True):
        times = startup_seconds(store, in_memory=in_memory)
        where = "in memory" if in_memory else "on disk  "
        print(f"query process start-up {where}: " + ", ".join(f"{t:.2f} s" for t in times))
    env = {
        "CITYGRAPH_CACHE_BYTES": "0",
        "CITYGRAPH_TRUSTED_PROXIES": "127.0.0.1",
        "CITYGRAPH_QUERY_TIMEOUT": str(args.timeout),
        "CITYGRAPH_IN_MEMORY": args.in_memory,
        "CITYGRAPH_MAX_CONCURRENT_QUERIES": str(args.clients + 4),
    }
    print(f"lookup while {args.clients} clients send {EXPENSIVE} (timeout {args.timeout:g} s)")
    idle, loaded, expensive = measure(store, env, args, idle_count=args.lookups, count=args.lookups)
    print(idle.line("idle"))
    print(loaded.line("loaded"))
    ratio50 = statistics.median(loaded.latencies) / statistics.median(idle.latencies)
    ratio99 = percentile(loaded.latencies, 0.99) / percentile(idle.latencies, 0.99)
    print(f"    ratio: p50 {ratio50:.2f}x   p99 {ratio99:.2f}x (loaded / idle)")
    print(f"answers to the expensive queries: {expensive}")
    if args.baseline:
        before = {
            **env,
            "CITYGRAPH_FAST_QUERY_PROCESSES": "0",
            "CITYGRAPH_CLIENT_QUERY_PROCESSES": "1000",
            "CITYGRAPH_CLIENT_MAX_QUERIES": "1000",
        }
        print("baseline: no fast lane, no per-client shares")
        _, loaded, expensive = measure(store, before, args, idle_count=10, count=5)
        print(loaded.line("baseline"))
        print(f"answers to the expensive queries: {expensive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
