"""Memory and start-up of the in-memory query processes (issue 10 §2).

Run from the repository root on a store directory (``citygraph build`` output; docs/
performance.md, "Memory: one copy of the build per machine", has the figures)::

    python -m bench.zygote_memory STORE_DIR [--processes 2] [--fast 1] [--workers 1,2,4]
        [--on-disk] [--no-pool] [--one-copy MIB]

It measures, in order:

- **one copy**: one query process that copies the build into memory (the design before the
  zygote), its proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``: shared pages
  split between the processes sharing them) once ready: the unit the other figures are
  divided by;
- **a pool** (one worker's query processes, in this process): the time until its first
  generation (on disk) is ready, until it serves from the zygote's copy, the Pss and ``Rss``
  summed over the zygote host, the zygote and the children, the time a replacement takes and
  the median latency of a cheap query;
- with ``--switch``, a new build published to each server (a copy of the current one, as a
  rebuild would publish it): the peak of the summed Pss, sampled every 0.5 s, until the new
  copy serves every query process;
- **the server**, for each ``--workers N``: ``citygraph serve --workers N`` started, the time
  until it first answers a cheap query (polled every 50 ms), until every worker's query
  processes are forked from the zygote, then Pss and Rss summed over every process of the
  server (the serve command, the workers, the host, the zygote, the query processes), by role;
  with ``--on-disk``, the same server with ``CITYGRAPH_IN_MEMORY=false`` first (its first answer
  is the floor of the in-memory server's, which answers on disk until the copy is ready).

The machine's load average is printed before and after: it changes the times, not the memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

from bench.servers import free_port, venv_bin
from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.store import current_build, new_build_dir, publish_build, write_lock

CHEAP = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"


def _rollup(pid: int) -> tuple[int, int]:
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


def _one_copy(store: Path) -> int:
    """Pss in MiB of one query process holding its own in-memory copy of the build."""
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
    pss, rss = _rollup(process.pid)
    os.close(job_write)
    process.kill()
    process.wait()
    print(
        f"one copy (one query process copying the build): PSS {pss} MiB, RSS {rss} MiB, "
        f"ready in {ready:.2f} s"
    )
    return pss


def _descendants(root: int) -> list[int]:
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


def _role(pid: int, server: int) -> str:
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
        return "query (forked)" if _role(parent, server) == "zygote" else "zygote"
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
    pss = sum(p for p, _ in rollups)
    print(
        f"pool (host + zygote + {len(pids) - 2} forked): first generation (on disk) ready in "
        f"{first:.2f} s, from the copy after {copied:.2f} s; PSS {pss} MiB ({pss / one:.2f} "
        f"copies), RSS {sum(r for _, r in rollups)} MiB (per process PSS "
        f"{[p for p, _ in rollups]}); replacement ready in {respawn * 1000:.0f} ms; cheap query "
        f"median {statistics.median(latencies):.2f} ms"
    )


def _answers(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": CHEAP})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _republish(store: Path) -> str:
    """Publish a copy of the current build as a new build (as a rebuild would); its version."""
    build = current_build(store)
    version = time.strftime("%Y%m%dT%H%M%S000000Z-", time.gmtime()) + "5a17c4e000"
    with write_lock(store, timeout=60):
        tmp = new_build_dir(store, version)
        shutil.copytree(build.path, tmp, dirs_exist_ok=True)
        publish_build(store, tmp, version, build.metadata)
    return version


def _switch(
    store: Path, server: int, port: int, workers: int, per_worker: int, one: int, old: int
) -> None:
    """Publish a new build and sample the server's Pss every 0.5 s until the new copy serves
    (with a few queries each time: a worker notices a new build when it gets a request)."""
    started = time.monotonic()
    version = _republish(store)
    peak, samples, at_peak = 0, 0, {}
    while True:
        role_of = {pid: _role(pid, server) for pid in _descendants(server)}
        roles = Counter(role_of.values())
        by_role: Counter[str] = Counter()
        for pid, role in role_of.items():
            by_role[f"{role} {pid}" if role == "zygote" else role] += _rollup(pid)[0]
        pss = sum(by_role.values())
        if pss > peak:
            peak, at_peak = pss, dict(by_role)
        samples += 1
        zygotes = [pid for pid, role in role_of.items() if role == "zygote"]
        if (
            zygotes
            and old not in zygotes
            and roles["query (forked)"] == workers * per_worker
            and not roles["query (on disk)"]
        ):
            break
        if time.monotonic() - started > 900:
            raise RuntimeError(f"the switch did not end in time: {roles}")
        for _ in range(4):
            _answers(port)
        time.sleep(0.5)
    print(
        f"  switch to {version}: served from the new copy after "
        f"{time.monotonic() - started:.1f} s; peak PSS {peak} MiB ({peak / one:.2f} copies, "
        f"{samples} samples), then {pss} MiB; at the peak, PSS by role (MiB; old zygote {old}): "
        f"{at_peak}"
    )


def _measure_server(
    store: Path,
    workers: int,
    per_worker: int,
    one: int,
    *,
    in_memory: bool = True,
    switch: bool = False,
) -> None:
    port = free_port()
    env = {**os.environ, "CITYGRAPH_CACHE_BYTES": "0", "CITYGRAPH_IN_MEMORY": str(in_memory)}
    command = [str(venv_bin("citygraph")), "serve", "--store", str(store), "--port", str(port)]
    started = time.monotonic()
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _answers(port):
            if server.poll() is not None or time.monotonic() - started > 900:
                raise RuntimeError("the server did not answer")
            time.sleep(0.05)
        first = time.monotonic() - started
        while in_memory:  # until every worker's query processes are the zygote's
            roles = Counter(_role(pid, server.pid) for pid in _descendants(server.pid))
            if roles["query (forked)"] == workers * per_worker and not roles["query (on disk)"]:
                break
            if time.monotonic() - started > 900:
                raise RuntimeError(f"the copy was not served in time: {roles}")
            time.sleep(0.5)
        copied = time.monotonic() - started
        time.sleep(1.0 if in_memory else 3.0)  # the processes replaced by the forked ones end
        by_role: dict[str, list[tuple[int, int]]] = {}
        for pid in _descendants(server.pid):
            by_role.setdefault(_role(pid, server.pid), []).append(_rollup(pid))
        _report_server(workers, in_memory, first, copied, by_role, one)
        if switch and in_memory:
            (zygote,) = [p for p in _descendants(server.pid) if _role(p, server.pid) == "zygote"]
            _switch(store, server.pid, port, workers, per_worker, one, zygote)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _report_server(
    workers: int,
    in_memory: bool,
    first: float,
    copied: float,
    by_role: dict[str, list[tuple[int, int]]],
    one: int,
) -> None:
    pss = sum(p for rollups in by_role.values() for p, _ in rollups)
    rss = sum(r for rollups in by_role.values() for _, r in rollups)
    roles = "; ".join(
        f"{role} x{len(rollups)}: {sum(p for p, _ in rollups)}" for role, rollups in by_role.items()
    )
    copy = f"every query process forked from the copy after {copied:.2f} s" if in_memory else ""
    print(
        f"serve --workers {workers}{'' if in_memory else ' (on disk)'}: first answer after "
        f"{first:.2f} s, {copy}; PSS {pss} MiB ({pss / one:.2f} copies), RSS {rss} MiB; PSS by "
        f"role (MiB): {roles}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--fast", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="comma-separated; empty: no server")
    parser.add_argument("--no-pool", action="store_true", help="skip the pool measurement")
    parser.add_argument(
        "--switch", action="store_true", help="publish a new build to each server (adds builds)"
    )
    parser.add_argument(
        "--one-copy", type=int, default=0, help="MiB of one copy, measured before (skips it)"
    )
    parser.add_argument(
        "--on-disk", action="store_true", help="also each server on disk (the first answer's floor)"
    )
    args = parser.parse_args()
    print(f"build {current_build(args.store).path.name}; load average {os.getloadavg()}")
    one = args.one_copy or _one_copy(args.store)
    options = {
        "size": args.processes,
        "fast_size": args.fast,
        "max_concurrent": 16,
        "check_interval": 3600,
    }
    if not args.no_pool:
        _measure_pool(args.store, options, one)
    for workers in filter(None, args.workers.split(",")):
        if args.on_disk:
            _measure_server(args.store, int(workers), 0, one, in_memory=False)
        _measure_server(
            args.store, int(workers), args.processes + args.fast, one, switch=args.switch
        )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
