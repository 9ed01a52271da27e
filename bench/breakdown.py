"""Where a query's time goes: the engine, the serialisation, and what the request path adds.

``python -m bench breakdown [--triples 1M]`` times, in this process, for the first variant of
every query of the mix (median of ``--repeat`` runs):

- ``disk``: evaluating the query on the on-disk build and iterating the results (what Oxigraph's
  server does before serialising);
- ``memory``: the same on an in-memory copy (what citygraph's query processes hold by default);
- ``execute``: ``citygraph.engine.query_process.execute`` on the in-memory copy: evaluation plus
  citygraph's serialisation within the limits (what one query process does per job);
- ``pickle``: sending the reply to the server worker (pickling the serialised body).

Compare these with the latency the load driver measured: the remainder is the request path
(HTTP, framework, content negotiation, the hand-over to the query process, logging).
"""

from __future__ import annotations

import pickle
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import generate, servers
from bench.queries import load_queries

__all__ = ["breakdown"]


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _count(store: Any, text: str) -> int:
    """Evaluate ``text`` and iterate over every result (no serialisation)."""
    return sum(1 for _ in store.query(text, use_default_graph_as_union=True))


def _round_trip(reply: object) -> object:
    return pickle.loads(pickle.dumps(reply))


def breakdown(data_dir: Path, *, repeat: int = 5) -> str:
    """Return a Markdown table of the per-query time split for the data in ``data_dir``."""
    from citygraph.engine.jobs import QueryJob
    from citygraph.engine.query_process import execute
    from citygraph.namespaces import BASE
    from citygraph.store import current_build, open_build

    cg_root, _ = servers.prepare_stores(data_dir, log=data_dir / "logs" / "load.log")
    build = current_build(cg_root)
    disk = open_build(build)
    memory = open_build(build, in_memory=True)
    queries = load_queries(generate.load_params(data_dir)["params"])
    lines = [
        "| query | results | disk ms | memory ms | execute ms | pickle ms | body bytes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for query in queries:
        text = query.variants[0]
        graph = query.form in ("CONSTRUCT", "DESCRIBE")

        job = QueryJob(
            query=text,
            base_iri=BASE,
            default_graphs=None,
            named_graphs=None,
            union_default=True,
            solutions_format=None if graph else "JSON",
            graph_format="N_TRIPLES" if graph else None,
            max_rows=100_000,
            max_bytes=64_000_000,
        )
        results = _count(memory, text)
        on_disk = _median_ms(partial(_count, disk, text), repeat)
        in_memory = _median_ms(partial(_count, memory, text), repeat)
        executed = _median_ms(partial(execute, memory, job), repeat)
        reply = execute(memory, job)
        pickled = _median_ms(partial(_round_trip, reply), repeat)
        lines.append(
            f"| `{query.name}` | {results:,} | {on_disk:.2f} | {in_memory:.2f} | "
            f"{executed:.2f} | {pickled:.2f} | {len(reply.body):,} |"
        )
    return "\n".join(lines) + "\n"
