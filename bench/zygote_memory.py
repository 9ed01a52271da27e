"""Memory and start-up of the in-memory query processes: forked from one zygote (issue 10 §2)
against one copy per process (the design before it).

Run from the repository root on a store directory (``citygraph build`` output; docs/
performance.md, "Memory: one copy of the build per pool", has the figures)::

    python -m bench.zygote_memory STORE_DIR [--processes 2] [--fast 1]

For each design it starts the processes, waits until all are ready, then prints the time that
took, the proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``: shared pages split
between the processes sharing them) and ``Rss`` summed over every process, the time a
replacement takes to be ready, and the median latency of a cheap query. The machine's load
average is printed: it changes the times, not the memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.store import current_build

CHEAP = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"


def _rollup(pid: int) -> tuple[int, int]:
    """(Pss, Rss) of ``pid`` in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return values["Pss"] // 1024, values["Rss"] // 1024


def _copies(store: Path, count: int) -> None:
    """The design before the zygote: ``count`` query processes each copying the build."""
    build = current_build(store)
    started = time.monotonic()
    processes = []
    for _ in range(count):
        job_read, job_write = os.pipe()
        reply_read, reply_write = os.pipe()
        command = [sys.executable, "-m", "citygraph.engine.query_process", str(job_read)]
        command += [str(reply_write), str(build.path), build.version, "1", "1", "0"]
        process = subprocess.Popen(command, pass_fds=(job_read, reply_write))
        os.close(job_read)
        os.close(reply_write)
        processes.append((process, Connection(job_write, readable=False), Connection(reply_read)))
    for _, _, replies in processes:
        assert replies.recv()[0] == "ready"
    ready = time.monotonic() - started
    rollups = [_rollup(process.pid) for process, _, _ in processes]
    process, jobs, replies = processes[0]
    process.kill()
    before = time.monotonic()
    job_read, job_write = os.pipe()
    reply_read, reply_write = os.pipe()
    command = [sys.executable, "-m", "citygraph.engine.query_process", str(job_read)]
    command += [str(reply_write), str(build.path), build.version, "1", "1", "0"]
    processes[0] = (subprocess.Popen(command, pass_fds=(job_read, reply_write)), jobs, replies)
    os.close(job_read)
    os.close(reply_write)
    assert Connection(reply_read).recv()[0] == "ready"
    respawn = time.monotonic() - before
    os.close(job_write)
    for process, jobs, _ in processes:
        jobs.close()
        process.kill()
        process.wait()
    print(
        f"one copy per process (before): {count} processes, ready in {ready:.2f} s; "
        f"PSS {sum(p for p, _ in rollups)} MiB, RSS {sum(r for _, r in rollups)} MiB "
        f"(per process PSS {[p for p, _ in rollups]}); replacement ready in "
        f"{respawn * 1000:.0f} ms"
    )


def _measure(pool: QueryPool, label: str) -> None:
    started = time.monotonic()
    pool.start()
    ready = time.monotonic() - started
    pids = pool.pids()
    zygote = getattr(pool, "_zygote", None)
    if zygote is not None:
        pids = [zygote.process.pid, *pids]
    rollups = [_rollup(pid) for pid in pids]
    job = QueryJob(CHEAP, "http://example.org/", None, None, True, "JSON", None, 10, 10**6)
    latencies = []
    for _ in range(50):
        before = time.perf_counter()
        pool.run(job, timeout=60)
        latencies.append((time.perf_counter() - before) * 1000)
    child = pool._idle.pop()  # the pool's own replacement, timed
    before = time.monotonic()
    pool._discard(child)
    while not pool._idle:
        time.sleep(0.001)
    respawn = time.monotonic() - before
    pool.close()
    print(
        f"{label}: {len(pids)} processes, ready in {ready:.2f} s; "
        f"PSS {sum(p for p, _ in rollups)} MiB, RSS {sum(r for _, r in rollups)} MiB "
        f"(per process PSS {[p for p, _ in rollups]}); "
        f"replacement ready in {respawn * 1000:.0f} ms; "
        f"cheap query median {statistics.median(latencies):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--fast", type=int, default=1)
    args = parser.parse_args()
    print(f"build {current_build(args.store).path.name}; load average {os.getloadavg()[0]:.2f}")
    options = {
        "size": args.processes,
        "fast_size": args.fast,
        "max_concurrent": 16,
        "check_interval": 3600,
    }
    _measure(QueryPool(args.store, in_memory=True, **options), "zygote (in memory, forked)")
    _copies(args.store, args.processes + args.fast)


if __name__ == "__main__":
    main()
