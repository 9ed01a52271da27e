"""Publishing a build to a remote SPARQL 1.1 store, so that a reader never sees half of it.

A build is made and validated locally exactly as for the embedded store (:mod:`citygraph.build`:
nothing that fails validation gets this far). Then, with the standards only:

1. every named graph of the build is uploaded with the Graph Store Protocol (``PUT``) under a
   *staging* name, ``urn:citygraph:staging:<version>:<n>``, which no citygraph query reads
   (readers keep seeing the old build; an upload that fails leaves only staging graphs, removed
   by the next publication);
2. one SPARQL 1.1 Update request switches: ``DROP SILENT GRAPH`` for each graph of the served
   build the new one no longer has (the graphs of citygraph's namespace, and those of the
   served build when its directory is still beside the new one; other graphs are left alone),
   and ``MOVE GRAPH <staging> TO <served>`` for each graph of the build, ``graph:meta``
   (which holds the data version) included (not ``SILENT``: a staging graph gone missing fails
   the whole switch).

The guarantee rests on step 2 being atomic: SPARQL 1.1 Update §2 says a request SHOULD be
treated atomically, and a store must do so to serve citygraph (Oxigraph runs an update request
in one transaction). What a store must support: the Graph Store Protocol's ``PUT``, SPARQL
Update's ``MOVE`` and ``DROP``, and atomic update requests (docs/backends.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from citygraph.engine.remote import (
    GRAPH_NAMES_QUERY,
    STAGING,
    VERSION_QUERY,
    Backend,
    BackendError,
    SparqlClient,
)
from citygraph.namespaces import GRAPH
from citygraph.store import Build, open_build

__all__ = ["STAGING", "Publication", "download", "publish_build", "switch_update"]

#: Seconds one upload or the switch may take.
REQUEST_TIMEOUT = 600.0


@dataclass(frozen=True)
class Publication:
    """What a publication did: the version, the graphs and quads sent, the time it took."""

    version: str
    graphs: tuple[str, ...]
    quads: int
    dropped: tuple[str, ...]
    upload_seconds: float
    switch_seconds: float


def publish_build(build: Build, backend: Backend) -> Publication:
    """Publish the local ``build`` to the remote store ``backend`` (see the module docstring).

    Raises:
        BackendError: the store has no Graph Store URL, cannot be reached or refused a request;
            readers still see the previous build then.
    """
    if not backend.store:
        raise BackendError(
            "publishing to a remote store needs its Graph Store Protocol URL (--backend-store)"
        )
    source = open_build(build)
    graphs = sorted(g.value for g in source.named_graphs() if isinstance(g, ox.NamedNode))
    client = SparqlClient(backend, connections=2)
    try:
        served = [
            row["g"].value
            for row in client.select(GRAPH_NAMES_QUERY, timeout=REQUEST_TIMEOUT)
            if isinstance(row["g"], ox.NamedNode)
        ]
        leftovers = [g for g in served if g.startswith(STAGING)]
        if leftovers:  # from a publication that failed before its switch
            _update(client, "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in leftovers))
        started = time.monotonic()
        staged: dict[str, str] = {}
        quads = 0
        for number, graph in enumerate(graphs):
            staging = f"{STAGING}{build.version}:{number}"
            data = source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
            assert data is not None
            if not data:  # an empty graph is no graph to SPARQL (and some stores keep none)
                continue
            quads += data.count(b"\n")
            _put(client, staging, data)
            staged[graph] = staging
        uploaded = time.monotonic()
        replaced = _graphs_of_served_build(client, build)
        dropped = tuple(
            g for g in served if (g.startswith(GRAPH) or g in replaced) and g not in staged
        )
        _update(client, switch_update(staged, dropped))
        switched = time.monotonic()
    finally:
        client.close()
    return Publication(
        version=build.version,
        graphs=tuple(graphs),
        quads=quads,
        dropped=dropped,
        upload_seconds=uploaded - started,
        switch_seconds=switched - uploaded,
    )


def download(backend: Backend) -> ox.Store:
    """Everything the remote store serves in named graphs, in a new in-memory store (for
    ``citygraph validate --store --backend``).

    Raises:
        BackendError, QueryTimeoutError: the store cannot be read.
    """
    client = SparqlClient(backend, connections=1)
    try:
        rows = client.select(
            "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", timeout=REQUEST_TIMEOUT
        )
    finally:
        client.close()
    target = ox.Store()
    target.bulk_extend(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)
    return target


def switch_update(staged: dict[str, str], dropped: Iterable[str]) -> str:
    """The one update request that replaces the served build by the staged one.

    >>> print(switch_update({"http://g/a": "urn:s:0"}, ["http://g/old"]))
    DROP SILENT GRAPH <http://g/old> ;
    MOVE GRAPH <urn:s:0> TO <http://g/a>

    Not ``MOVE SILENT``: a staging graph that is missing (removed by someone else meanwhile)
    fails the whole request, so the store keeps serving the previous build, not a mix.
    """
    operations = [f"DROP SILENT GRAPH <{g}>" for g in dropped]
    operations += [f"MOVE GRAPH <{s}> TO <{g}>" for g, s in staged.items()]
    return " ;\n".join(operations)


def _graphs_of_served_build(client: SparqlClient, build: Build) -> set[str]:
    """The named graphs of the build the store serves, when it is one of ours (kept beside
    ``build``): with the graphs of citygraph's namespace, they are what the switch replaces;
    any other graph of the store is left alone."""
    rows = client.select(VERSION_QUERY, timeout=REQUEST_TIMEOUT)
    version = rows[0]["version"] if rows else None
    if (
        not isinstance(version, ox.Literal)
        or "/" in version.value
        or version.value == build.version
    ):
        return set()
    path = build.path.parent / version.value
    if not path.is_dir():
        return set()
    served = open_build(Build(path=path, version=version.value, metadata={}))
    return {g.value for g in served.named_graphs() if isinstance(g, ox.NamedNode)}


def _put(client: SparqlClient, graph: str, data: bytes) -> None:
    url = client.backend.store + ("&" if "?" in client.backend.store else "?")
    url += urlencode({"graph": graph})
    try:
        response = client.http.put(
            url,
            content=data,
            headers={"Content-Type": "application/n-triples"},
            timeout=REQUEST_TIMEOUT,
        )
    except httpx.HTTPError as error:
        raise BackendError(f"uploading to {client.backend.store} failed: {error}") from None
    if response.status_code >= 300:
        raise BackendError(
            f"the store refused the upload of a staging graph (HTTP {response.status_code}): "
            + response.text[:500]
        )


def _update(client: SparqlClient, update: str) -> None:
    try:
        response = client.http.post(
            client.backend.update_url,
            content=urlencode({"update": update}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=REQUEST_TIMEOUT,
        )
    except httpx.HTTPError as error:
        raise BackendError(f"the update at {client.backend.update_url} failed: {error}") from None
    if response.status_code >= 300:
        raise BackendError(
            f"the store refused the update (HTTP {response.status_code}): " + response.text[:500]
        )
