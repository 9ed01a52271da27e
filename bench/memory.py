"""Memory of ``citygraph serve`` against one in-memory copy of the build (issue 10 §2).

One command (``make bench-memory``)::

    python -m bench.memory [--triples 1M] [--workers 1,2,4] [--rounds 2] [--no-switch]

It generates the bench's data (cached in ``var/bench/``, as ``python -m bench run`` does) and
builds it into a store of its own (``memory-store``), then measures, in one run:

- **one copy**: the proportional set size of one query process that copies the build into
  memory (``Pss`` of ``/proc/PID/smaps_rollup``), the unit of every ratio;
- for each ``--workers N``, ``citygraph serve --workers N`` (response cache off): the time from
  the command's start to its first answer to a cheap query (polled every 50 ms) and until every
  query process of every worker is forked from the zygote; the summed Pss of every process of
  the server, by role, **idle** (just after that) and **after the query mix** (every variant of
  every query of ``bench/queries/``, ``--rounds`` times, from 8 clients: the mix has touched the
  data in each query process); then, unless ``--no-switch``, a new build published (a copy of
  the current one, as a rebuild would publish it) and the summed Pss **sampled every 0.2 s**
  until the new copy serves every query process and 3 s more: its peak, how long it stayed
  above one copy and a half, and after the switch.

``Pss`` splits each shared page between the processes that map it, so the sum over the server's
processes is what they cost the machine together; a copy-on-write page a query process wrote to
counts once for it. The load average is printed before and after (``uptime``): it changes the
times, not the memory. The figures and what they mean: docs/performance.md, "Memory: one copy of
the build per machine". The results are also written to ``var/bench/<size>-seed<seed>/
memory-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import generate
from bench.queries import load_queries
from bench.run import ensure_data, say
from bench.servers import free_port, venv_bin
from bench.zygote_memory import CHEAP, descendants, one_copy, republish, role, rollup

#: Seconds between two samples of the server's memory during a switch.
INTERVAL = 0.2
#: Clients sending the query mix at once.
CLIENTS = 8


@dataclass
class Sample:
    """The summed Pss (MiB) of the server's processes, by role, at ``at`` seconds."""

    at: float
    by_role: dict[str, int]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_role.values())


@dataclass
class ServerRun:
    workers: int
    first_answer_s: float = 0.0
    forked_after_s: float = 0.0
    idle: Sample | None = None
    after_mix: Sample | None = None
    mix_requests: int = 0
    #: Statuses other than 200 of the mix's requests (0: no answer), and how many.
    mix_errors: dict[int, int] = field(default_factory=dict)
    switch: list[Sample] = field(default_factory=list)
    switch_done_s: float = 0.0


def sample(server: int, started: float) -> Sample:
    by_role: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for pid in descendants(server):
        name = role(pid, server)
        by_role[name] += rollup(pid)[0]
        counts[name] += 1
    return Sample(round(time.monotonic() - started, 2), dict(by_role), dict(counts))


def ensure_store(data: Path) -> Path:
    """The citygraph store of the generated data (built once per data set)."""
    root = data / "memory-store"
    marker = data / "memory-store.json"
    digest = json.loads((data / "params.json").read_text(encoding="utf-8"))["sha256"]
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == digest:
        return root
    from citygraph import build
    from citygraph.namespaces import GRAPH_WORLDWIDE

    started = time.monotonic()
    inputs = [build.BuildInput(data / "data.nt", GRAPH_WORLDWIDE)]
    result = build.build_store(root, inputs, carry_over=())
    say(f"store built in {time.monotonic() - started:.1f} s: {result.quads_per_graph}")
    marker.write_text(json.dumps(digest), encoding="utf-8")
    return root


def _status(port: int, query: str, accept: str) -> int:
    """The HTTP status of a GET of ``query`` (0: no answer)."""
    url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _get(port: int, query: str, accept: str) -> bool:
    return _status(port, query, accept) == 200


def all_forked(counts: dict[str, int], expected: int) -> bool:
    return counts.get("query (forked)", 0) == expected and not counts.get("query (on disk)")


def run_mix(port: int, mix: list[tuple[str, str]], rounds: int) -> tuple[int, dict[int, int]]:
    """Send every request of ``mix`` ``rounds`` times from :data:`CLIENTS` clients; (sent, the
    count of each status but 200)."""
    requests = mix * rounds
    with ThreadPoolExecutor(CLIENTS) as clients:
        statuses = Counter(clients.map(lambda r: _status(port, *r), requests))
    del statuses[200]
    return len(requests), dict(statuses)


def measure_server(
    store: Path, workers: int, per_worker: int, mix: list[tuple[str, str]], args: argparse.Namespace
) -> ServerRun:
    port = free_port()
    env = {**os.environ, "CITYGRAPH_CACHE_BYTES": "0"}
    command = [str(venv_bin("citygraph")), "serve", "--store", str(store), "--port", str(port)]
    result = ServerRun(workers)
    expected = workers * per_worker
    started = time.monotonic()
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _get(port, CHEAP, "application/sparql-results+json"):
            if server.poll() is not None or time.monotonic() - started > 900:
                raise RuntimeError("the server did not answer")
            time.sleep(0.05)
        result.first_answer_s = round(time.monotonic() - started, 2)
        while not all_forked(sample(server.pid, started).counts, expected):
            if time.monotonic() - started > 900:
                raise RuntimeError("the copy was not served in time")
            time.sleep(0.5)
        result.forked_after_s = round(time.monotonic() - started, 2)
        time.sleep(1.0)  # the processes replaced by the forked ones end
        result.idle = sample(server.pid, started)
        result.mix_requests, result.mix_errors = run_mix(port, mix, args.rounds)
        time.sleep(1.0)
        result.after_mix = sample(server.pid, started)
        if not args.no_switch:
            _switch(store, server.pid, port, expected, result)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return result


def _switch(store: Path, server: int, port: int, expected: int, result: ServerRun) -> None:
    """Publish a new build; sample every :data:`INTERVAL` s until the new copy serves every
    query process, and 3 s more. Meanwhile a client asks a cheap query every 0.1 s (a worker
    notices a new build when it gets a request)."""
    old = {p for p in descendants(server) if role(p, server) == "zygote"}
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            _get(port, CHEAP, "application/sparql-results+json")
            stop.wait(0.1)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    started = time.monotonic()
    version = republish(store)
    done = 0.0
    try:
        while True:
            now = sample(server, started)
            result.switch.append(now)
            zygotes = {p for p in descendants(server) if role(p, server) == "zygote"}
            if not done and zygotes and not zygotes & old and all_forked(now.counts, expected):
                done = now.at
            if done and now.at > done + 3:
                break
            if now.at > 900:
                raise RuntimeError(f"the switch to {version} did not end in time: {now.counts}")
            time.sleep(max(0.0, started + now.at + INTERVAL - time.monotonic()))
    finally:
        stop.set()
        asker.join()
    result.switch_done_s = done


def _copies(mib: int, one: int) -> str:
    return f"{mib} MiB ({mib / one:.2f})"


def report(runs: list[ServerRun], one: int, one_ready: float) -> str:
    """The results as a Markdown table (MiB, and in copies)."""
    lines = [
        f"One copy: {one} MiB (one query process holding the build, ready in {one_ready:.1f} s).",
        "",
        "| `--workers` | first answer | all forked from the copy | idle | after the mix "
        "| of which HTTP workers + serve | of which zygote + query processes | switch: peak "
        "| above 1.5 copies | after the switch | samples, median gap |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        assert run.idle is not None
        assert run.after_mix is not None
        web = sum(run.after_mix.by_role.get(r, 0) for r in ("serve", "worker", "other"))
        query = sum(
            run.after_mix.by_role.get(r, 0) for r in ("zygote", "query (forked)", "query (on disk)")
        )
        peak = max((s.total for s in run.switch), default=0)
        above = sum(
            b.at - a.at
            for a, b in zip(run.switch, run.switch[1:], strict=False)
            if a.total > 1.5 * one
        )
        last = run.switch[-1].total if run.switch else 0
        gaps = sorted(b.at - a.at for a, b in zip(run.switch, run.switch[1:], strict=False))
        switch = (
            [
                f"{_copies(peak, one)}",
                f"{above:.1f} s",
                _copies(last, one),
                f"{len(run.switch)}, {gaps[len(gaps) // 2]:.2f} s",
            ]
            if len(run.switch) > 1
            else ["", "", "", ""]
        )
        cells = [
            str(run.workers),
            f"{run.first_answer_s:.2f} s",
            f"{run.forked_after_s:.1f} s",
            _copies(run.idle.total, one),
            _copies(run.after_mix.total, one),
            f"{web} MiB",
            _copies(query, one),
            *switch,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--triples", default="1M", help="100k, 1M, 10M or a number")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="times the mix is sent")
    parser.add_argument("--no-switch", action="store_true", help="publish no new build")
    args = parser.parse_args()
    data = ensure_data(generate.parse_size(args.triples), args.seed)
    store = ensure_store(data)
    params = generate.load_params(data)["params"]
    mix = [(text, q.accept) for q in load_queries(params) for text in q.variants]
    per_worker = int(os.environ.get("CITYGRAPH_QUERY_PROCESSES", "2")) + int(
        os.environ.get("CITYGRAPH_FAST_QUERY_PROCESSES", "3")
    )
    load_before = os.getloadavg()
    say(f"load average {load_before}; {len(mix)} requests in the mix")
    one, one_ready = one_copy(store)
    runs = []
    for workers in (int(w) for w in args.workers.split(",") if w):
        runs.append(measure_server(store, workers, per_worker, mix, args))
        say(f"--workers {workers}: {asdict(runs[-1])['after_mix']}")
    load_after = os.getloadavg()
    table = report(runs, one, one_ready)
    print(table)
    print(f"\nload average before {load_before}, after {load_after}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = data / f"memory-{stamp}.json"
    record = {
        "one_copy_mib": one,
        "load_before": load_before,
        "load_after": load_after,
        "runs": [asdict(r) for r in runs],
    }
    out.write_text(json.dumps(record, indent=1), encoding="utf-8")
    say(f"results in {out}")


if __name__ == "__main__":
    main()
