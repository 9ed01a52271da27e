"""Memory of one worker's in-memory query processes, and the helpers of ``bench.memory``.

Run from the repository root on a store directory (``citygraph build`` output)::

    python -m bench.zygote_memory STORE_DIR [--processes 2] [--fast 3] [--one-copy MIB]

It measures **one copy** (one query process that copies the build into memory, the design
before the zygote: its ``Pss`` once ready, the unit the other figures are divided by), then
**a pool** (one worker's query processes, in this process): the time until its first generation
(on disk) is ready, until it serves from the zygote's copy, the Pss and ``Rss`` summed over the
zygote host, the zygote and the children, the time a replacement takes and the median latency
of a cheap query. The whole server (every ``--workers``, the query mix, a switch) is
``python -m bench.memory`` (``make bench-memory``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.store import current_build, new_build_dir, publish_build, write_lock

CHEAP = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"


def rollup(pid: int) -> tuple[int, int]:
    """(Pss, Rss) of ``pid`` in MiB (0, 0 if it has ended)."""
    values = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return values["Pss"] // 1024, values["Rss"] // 1024


def one_copy(store: Path) -> tuple[int, float]:
    """Pss in MiB of one query process holding its own in-memory copy of the build, and the
    seconds it took to be ready."""
    build = current_build(store)
    job_read, job_write = os.pipe()
    reply_read, reply_write = os.pipe()
    command = [sys.executable, "-m", "citygraph.engine.query_process", str(job_read)]
    command += [str(reply_write), str(build.path), build.version, "1", "1", "0"]
    started = time.monotonic()
    process = subprocess.Popen(command, pass_fds=(job_read, reply_write))
    os.close(job_read)
    os.close(reply_write)
    assert Connection(reply_read).recv()[0] == "ready"
    ready = time.monotonic() - started
    pss, rss = rollup(process.pid)
    os.close(job_write)
    process.kill()
    process.wait()
    print(
        f"one copy (one query process copying the build): PSS {pss} MiB, RSS {rss} MiB, "
        f"ready in {ready:.2f} s"
    )
    return pss, ready


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def role(pid: int, server: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return "ended"
    if pid == server:
        return "serve"
    if "citygraph.engine.zygote_host" in command:
        return "host"
    if "citygraph.engine.zygote" in command:
        return "query (forked)" if role(parent, server) == "zygote" else "zygote"
    if "citygraph.engine.query_process" in command:
        return "query (on disk)"
    if "resource_tracker" in command:
        return "other"
    return "worker" if "multiprocessing" in command or parent == server else "other"


def _measure_pool(store: Path, options: dict[str, int], one: int) -> None:
    pool = QueryPool(store, in_memory=True, **options)
    started = time.monotonic()
    pool.start()
    first = time.monotonic() - started
    assert pool.wait_for_copy(900)
    copied = time.monotonic() - started
    zygote = pool._zygote
    assert zygote is not None
    host = pool._processes._host
    pids = [*([host.process.pid] if host else []), zygote.pid, *pool.pids()]
    rollups = [rollup(pid) for pid in pids]
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
    pss = sum(p for p, _ in rollups)
    print(
        f"pool (host + zygote + {len(pids) - 2} forked): first generation (on disk) ready in "
        f"{first:.2f} s, from the copy after {copied:.2f} s; PSS {pss} MiB ({pss / one:.2f} "
        f"copies), RSS {sum(r for _, r in rollups)} MiB (per process PSS "
        f"{[p for p, _ in rollups]}); replacement ready in {respawn * 1000:.0f} ms; cheap query "
        f"median {statistics.median(latencies):.2f} ms"
    )


def republish(store: Path) -> str:
    """Publish a copy of the current build as a new build (as a rebuild would); its version."""
    build = current_build(store)
    version = time.strftime("%Y%m%dT%H%M%S000000Z-", time.gmtime()) + "5a17c4e000"
    with write_lock(store, timeout=60):
        tmp = new_build_dir(store, version)
        shutil.copytree(build.path, tmp, dirs_exist_ok=True)
        publish_build(store, tmp, version, build.metadata)
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--fast", type=int, default=3)
    parser.add_argument(
        "--one-copy", type=int, default=0, help="MiB of one copy, measured before (skips it)"
    )
    args = parser.parse_args()
    print(f"build {current_build(args.store).path.name}; load average {os.getloadavg()}")
    one = args.one_copy or one_copy(args.store)[0]
    options = {
        "size": args.processes,
        "fast_size": args.fast,
        "max_concurrent": 16,
        "check_interval": 3600,
    }
    _measure_pool(args.store, options, one)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
