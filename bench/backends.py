"""``python -m bench backends``: citygraph on each backend against the same store queried directly.

Issue 11 §4. The same generated data is served by three pairs of servers, all running at once on
127.0.0.1 and measured in turn, query by query, with the machinery of ``python -m bench run``
(:mod:`bench.run`: validation, quiet-machine wait, interleaving, medians):

- ``embedded``: ``citygraph serve --store`` against ``oxigraph serve-read-only`` of the same
  quads (the pair of ``bench run``);
- ``oxigraph``: a writable ``oxigraph serve`` holding the build (published to it as ``citygraph
  build --backend`` publishes), queried directly and through ``citygraph serve --backend``;
- ``virtuoso``: a private Virtuoso Open Source (started by ``tests/virtuoso.py``, Debian's
  package) holding the build, queried directly and through ``citygraph serve --backend``.

The report gives, per query and concurrency, the ratio citygraph / the store queried directly
(the cost of the citygraph layer), and the embedded backend against Virtuoso queried directly
on every query, the aggregations of ``bench/queries/aggregations/`` included (not in the mix).
citygraph's response cache is off unless ``--cache``: with it, repeated requests measure the
cache, not the layer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import driver, generate, report, servers
from bench.backends_report import Pair, agrees, render
from bench.queries import QUERY_DIR, Query, load_queries
from bench.run import (
    RunConfig,
    measure_workloads,
    parse_names,
    prepare,
    results_path,
    say,
    validate_queries,
    workloads_for,
)

__all__ = [
    "AGGREGATIONS",
    "BACKENDS",
    "CACHE_OFF",
    "BackendsRun",
    "parse_backends",
    "rerender_backends",
    "run_backends",
]

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ("embedded", "oxigraph", "virtuoso")
AGGREGATIONS = QUERY_DIR / "aggregations"
CACHE_OFF = ("CITYGRAPH_CACHE_BYTES", "0")
#: Seconds citygraph may take to answer its first query; on a store where it cannot, the store
#: is still measured directly (against the embedded backend) and the report says why.
READY_TIMEOUT = 180.0


@dataclass(frozen=True)
class BackendsRun:
    """What ``python -m bench backends`` was asked to do, beyond a :class:`RunConfig`."""

    config: RunConfig
    backends: tuple[str, ...] = BACKENDS
    label: str = ""  # section of docs/performance.md (default: "backends, <size>")


def run_backends(run: BackendsRun) -> Path:
    """Run the comparison; return the JSON file with every measurement."""
    config = run.config
    began = time.monotonic()
    prepared = prepare(config)
    directory, log_dir, wrk = prepared.directory, prepared.log_dir, prepared.wrk
    cg_root, ox_dir, params = prepared.citygraph_store, prepared.oxigraph_store, prepared.params
    names = config.queries or None
    mix = load_queries(params["params"], names=names)
    heavy = load_queries(params["params"], directory=AGGREGATIONS, names=names)
    load_before = os.getloadavg()
    with _started(run, directory, cg_root, ox_dir, log_dir) as (targets, pairs):
        _, validations = validate_queries([*mix, *heavy], targets)
        # A query is timed on the backends where citygraph and the store agree (a store's own
        # DESCRIBE form, say, excludes only that store); the mix holds those valid everywhere.
        groups: dict[tuple[str, ...], list[Query]] = {}
        for query, check in zip([*mix, *heavy], validations, strict=True):
            names = measured_servers(check, pairs)
            if names:
                groups.setdefault(names, []).append(query)
        measurements = []
        mix_names = {q.name for q in mix}
        everyone = tuple(t.name for t in targets)
        for names, queries in groups.items():
            chosen = [t for t in targets if t.name in names]
            in_mix = [q for q in queries if q.name in mix_names]
            workloads = workloads_for(in_mix, validations, mix=names == everyone)
            workloads += workloads_for(
                [q for q in queries if q.name not in mix_names], validations, mix=False
            )
            measurements += measure_workloads(chosen, workloads, config, wrk)
    out = results_path(directory, "backends")
    meta = report.run_metadata(config, params, directory, cand_name="citygraph", wrk=wrk)
    meta.update(
        elapsed_s=round(time.monotonic() - began, 1),
        load_before=[round(x, 2) for x in load_before],
        load_after=[round(x, 2) for x in os.getloadavg()],
        pairs=[p.__dict__ for p in pairs],
        aggregations=[q.name for q in heavy],
        size=generate.size_label(config.triples),
    )
    report.save_results(out, meta, validations, measurements)
    markdown = render(meta, [*mix, *heavy], validations, measurements, pairs)
    print(markdown)
    if config.write_docs:
        label = run.label or f"backends, {generate.size_label(config.triples)}"
        report.update_docs(config.docs, label, markdown)
        say(f"wrote {config.docs}")
    say(f"results in {out}; took {time.monotonic() - began:.0f} s")
    return out


@contextlib.contextmanager
def _started(
    run: BackendsRun, directory: Path, cg_root: Path, ox_dir: Path, log_dir: Path
) -> Iterator[tuple[list[servers.Endpoint], list[Pair]]]:
    """Start each backend's pair of servers (the store, citygraph on it); stop them at the end."""
    from citygraph.engine.remote import Backend
    from citygraph.engine.remote_publish import publish_build
    from citygraph.store import current_build

    config = run.config
    build = current_build(cg_root)
    env = dict(config.env)
    targets: list[servers.Endpoint] = []
    pairs: list[Pair] = []

    def on(backend_name: str, direct: servers.Endpoint, remote: Backend | None) -> None:
        """Start citygraph on ``remote`` (None: the embedded store) and add the pair."""
        name = "citygraph" if remote is None else f"citygraph-{backend_name}"
        spec = servers.citygraph_spec(
            cg_root, workers=config.workers, env=env, backend=remote, name=name
        )
        started = time.monotonic()
        try:
            server = servers.start(spec, log_dir, ready_timeout=READY_TIMEOUT)
        except RuntimeError as error:  # the store is still measured directly
            note = str(error).splitlines()[0]
            say(f"{name} did not start: {note}")
            targets.append(direct)
            pairs.append(Pair(backend_name, direct.name, "", note=note))
            return
        stack.callback(servers.stop, server)
        say(f"{name} ready on port {server.port} ({time.monotonic() - started:.1f} s)")
        targets.extend([direct, server])
        pairs.append(Pair(backend_name, direct.name, name))

    def publish(backend: Backend, name: str) -> None:
        started = time.monotonic()
        publication = publish_build(build, backend)
        say(
            f"published {publication.quads:,} quads to {name} in {time.monotonic() - started:.1f} s"
        )

    with contextlib.ExitStack() as stack:
        if "embedded" in run.backends:
            (direct,) = stack.enter_context(
                servers.running([servers.oxigraph_spec(ox_dir)], log_dir)
            )
            on("embedded", direct, None)
        if "oxigraph" in run.backends:
            location = directory / "oxigraph-serve-store"
            shutil.rmtree(location, ignore_errors=True)  # a fresh store each run
            (direct,) = stack.enter_context(
                servers.running(
                    [servers.oxigraph_spec(location, name="oxigraph-serve", writable=True)], log_dir
                )
            )
            remote = Backend(
                query=direct.endpoint, update=direct.base + "/update", store=direct.base + "/store"
            )
            publish(remote, direct.name)
            on("oxigraph", direct, remote)
        if "virtuoso" in run.backends:
            if str(REPO) not in sys.path:
                sys.path.insert(0, str(REPO))
            from tests.virtuoso import running_virtuoso

            database = directory / "virtuoso"
            shutil.rmtree(database, ignore_errors=True)
            instance = stack.enter_context(running_virtuoso(database))
            direct_v = servers.External("virtuoso", instance.base, "/sparql", instance.pid)
            say(f"virtuoso ready on port {instance.http_port} ({instance.startup_seconds:.1f} s)")
            remote = Backend(
                query=instance.query_url, update=instance.update_url, store=instance.store_url
            )
            publish(remote, direct_v.name)
            on("virtuoso", direct_v, remote)
        yield targets, pairs


def measured_servers(check: driver.Validation, pairs: Sequence[Pair]) -> tuple[str, ...]:
    """The servers a query is timed on: both of each pair that agrees on it; and the store of
    a pair without citygraph when it answers as the first pair's store does."""
    names: list[str] = []
    reference = pairs[0].direct if pairs else ""
    for pair in pairs:
        if agrees(check, pair):
            names += [pair.direct, pair.citygraph]
        elif (
            not pair.citygraph
            and all(s == 200 for s in check.statuses[pair.direct])
            and check.counts[pair.direct] == check.counts[reference]
        ):
            names.append(pair.direct)
    return tuple(names)


def rerender_backends(results: Path, *, label: str = "", docs: Path | None = None) -> str:
    """The report of a saved ``backends-*.json`` again; written to ``docs`` when given."""
    meta, validations, measurements = report.load_results(results)
    queries = [*load_queries(None), *load_queries(None, directory=AGGREGATIONS)]
    pairs = [Pair(**p) for p in meta["pairs"]]
    markdown = render(meta, queries, validations, measurements, pairs)
    if docs is not None:
        size = meta.get("size") or generate.size_label(meta["triples"])
        report.update_docs(docs, label or f"backends, {size}", markdown)
    return markdown


def parse_backends(text: str) -> tuple[str, ...]:
    """``embedded,virtuoso`` → the backends in that order; unknown names are an error."""
    return parse_names(text, BACKENDS, "backend")
