"""The response cache's memory against its budget (issue 9 §2), on a real ``citygraph serve``.

Run from the repository root (docs/endpoint.md, "Caching", has the figures)::

    python -m bench.cache_memory
    python -m bench.cache_memory --queries 6000 --cache-bytes 64000000

It serves a store of one triple with one worker and one query process, then POSTs
``--queries`` distinct ``ASK {} # <i> xxx…`` queries of about 95 kB (the issue's reproduction:
tiny answers, large keys) and prints, four times along the way, the worker's resident memory
(``VmRSS``) and the bytes the cache says it holds (``citygraph_cache_bytes``). Before the cache
counted its keys, the worker grew by the size of every query text it had seen; now it levels
off at about the budget. The machine's load average is printed: it does not change the memory
figures, only the time.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

from bench import servers
from citygraph import store

QUERY_BYTES = 95_000


def _rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _worker_pid(client: httpx.Client) -> int:
    match = re.search(r'citygraph_worker_info\{pid="(\d+)"', client.get("/metrics").text)
    assert match is not None, "no citygraph_worker_info in /metrics"
    return int(match.group(1))


def _cache_bytes(client: httpx.Client) -> float:
    match = re.search(r"^citygraph_cache_bytes (\S+)$", client.get("/metrics").text, re.M)
    assert match is not None, "no citygraph_cache_bytes in /metrics"
    return float(match.group(1))


def main() -> None:
    """Parse the arguments, run the measurement, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.cache_memory", description=__doc__)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--cache-bytes", type=int, default=64_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cache-memory-"))
    root = work / "store"
    version = "20260101T000000000000Z-0000000000"
    tmp = store.new_build_dir(root, version)
    target = ox.Store(str(tmp))
    target.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c")))
    target.flush()
    del target
    store.publish_build(root, tmp, version, {"version": version})
    env = {"CITYGRAPH_QUERY_PROCESSES": "1", "CITYGRAPH_CACHE_BYTES": str(args.cache_bytes)}
    server = servers.start(servers.citygraph_spec(root, workers=1, env=env), work / "logs")
    headers = {"Content-Type": "application/sparql-query"}
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            pid = _worker_pid(client)
            client.post("/sparql", content="ASK {}", headers=headers)
            print(f"load average {os.getloadavg()[0]:.1f}; worker RSS {_rss_mib(pid)} MiB at start")
            started = time.monotonic()
            for i in range(args.queries):
                query = f"ASK {{}} # {i} " + "x" * QUERY_BYTES
                response = client.post("/sparql", content=query, headers=headers)
                response.raise_for_status()
                if (i + 1) % max(1, args.queries // 4) == 0:
                    print(
                        f"after {i + 1} queries: worker RSS {_rss_mib(pid)} MiB, "
                        f"cache holds {_cache_bytes(client):,.0f} bytes "
                        f"(budget {args.cache_bytes:,})"
                    )
            print(f"{time.monotonic() - started:.0f} s")
    finally:
        servers.stop(server)


if __name__ == "__main__":
    main()
