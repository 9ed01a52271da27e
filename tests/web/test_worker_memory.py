"""`citygraph serve --workers N` forks its HTTP workers from the serve command after it has
imported the app (``web/forked_workers.py``): the workers share those pages with it
instead of each holding an interpreter and imports of its own (issue 10 §2).

Real servers, measured through ``/proc/PID/smaps_rollup`` after the same requests: the
reference is ``serve --workers 1`` in the same test (one process, the app in it), so no figure
is copied from anywhere. Spawned workers (uvicorn's way, before) each held at least what that
one process holds, all of it their own.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from tests.serving import running_server
from tests.web.conftest import CITY
from tests.web.test_server import descendants

#: The build read on disk (no in-memory copy): what is measured is the HTTP side.
ENV = {
    "CITYGRAPH_IN_MEMORY": "false",
    "CITYGRAPH_QUERY_PROCESSES": "1",
    "CITYGRAPH_FAST_QUERY_PROCESSES": "1",
}


def rollup(pid: int) -> dict[str, int]:
    """The fields (kB) of ``/proc/PID/smaps_rollup``."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if value.endswith(" kB"):
            fields[name] = int(value.split()[0])
    return fields


def own(fields: dict[str, int]) -> int:
    """The pages only this process maps (its unique set), kB."""
    return fields["Private_Clean"] + fields["Private_Dirty"]


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def serve_and_workers(url: str) -> tuple[int, list[int]]:
    """The serve command this test started, and its HTTP workers (forked: its command line)."""
    port = url.rsplit(":", 1)[1].encode()
    (serve,) = [
        pid
        for pid in descendants(os.getpid())
        if parent(pid) == os.getpid() and port in command_line(pid).split(b"\0")
    ]
    workers = [pid for pid in descendants(serve) if command_line(pid) == command_line(serve)]
    return serve, workers


def ask(url: str) -> None:
    """Queries, each on a new connection (the kernel spreads them over the workers' sockets)."""
    for i in range(20):
        query = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }} LIMIT {100 + i}"
        response = httpx.get(url + "/sparql", params={"query": query}, timeout=30)
        assert response.status_code == 200, response.text


def test_a_second_worker_costs_far_less_than_a_second_server(
    store_dir: Path, tmp_path: Path
) -> None:
    with running_server(store_dir, tmp_path / "one.log", env=ENV) as url:
        serve, workers = serve_and_workers(url)
        assert workers == [], "one worker runs in the serve command"
        ask(url)
        alone = rollup(serve)
    with running_server(store_dir, tmp_path / "two.log", args=("--workers", "2"), env=ENV) as url:
        serve, workers = serve_and_workers(url)
        assert len(workers) == 2, "two workers forked from the serve command"
        ask(url)
        worker_fields = [rollup(pid) for pid in workers]
        together = rollup(serve)["Pss"] + sum(fields["Pss"] for fields in worker_fields)
    for fields in worker_fields:  # a spawned worker: at least own(alone)
        assert own(fields) < own(alone) / 2, (own(fields), own(alone))
    # Spawned: the serve command plus two processes each at least the size of ``alone``.
    assert together < 2 * alone["Pss"], (together, alone["Pss"])
