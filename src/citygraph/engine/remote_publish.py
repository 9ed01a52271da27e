"""Publishing a build to a remote SPARQL 1.1 store, so that a reader never sees half of it.

A build is made and validated locally exactly as for the embedded store (:mod:`citygraph.build`:
nothing that fails validation gets this far). Then, with the standards only:

1. the publication takes the store's lock: it adds its own entry to the lock graph
   (:data:`~citygraph.engine.datasets.LOCK_GRAPH`), then reads the graph back, and goes on only
   if no other live entry is there (two publishers that add theirs at once both see the other
   and both give up: :class:`PublicationBusyError`). An entry is live while its heartbeat (the
   store's ``NOW()``, renewed by a background thread every third of :data:`LOCK_EXPIRES` for
   the whole publication, however long one upload takes) is younger than
   :data:`LOCK_EXPIRES` by the store's own clock (the store compares, in the query that reads
   the lock); an older one is a publisher that died, and is removed. No two
   publications stage at once, so none can move another's graphs into place;
2. every named graph of the build is uploaded with the Graph Store Protocol (``PUT``) under a
   *staging* name, ``urn:citygraph:staging:<n>`` (:mod:`citygraph.engine.remote_staging`),
   which no citygraph query reads: readers that name the build's graphs never name them,
   readers on Virtuoso exclude them by name, a small fixed set
   (:data:`~citygraph.engine.datasets.STAGING_GRAPHS`, see
   :func:`~citygraph.engine.datasets.union_dataset`); there the graphs of a build beyond it are
   uploaded together, packed, under the last one. Readers keep seeing the old build; an
   upload that fails leaves only staging graphs, removed by the next publication;
3. one SPARQL 1.1 Update request switches: ``DROP SILENT GRAPH`` for each graph of the served
   build the new one no longer has (the graphs of citygraph's namespace, and those of the
   served build when its directory is still beside the new one; other graphs are left alone),
   and ``MOVE GRAPH <staging> TO <served>`` for each graph of the build (not ``SILENT``: a
   staging graph gone missing fails the whole switch), for packed graphs one ``INSERT … WHERE``
   that unpacks them into their graphs, and last the ``MOVE`` of ``graph:meta``, which holds
   the data version (never packed). Right before it, the publication renews its heartbeat a
   last time (failing if its entry is gone) and checks that each staging graph holds exactly
   as many triples as it uploaded there: anything else (another publisher that took over a
   lock it thought dead) stops it before the switch. After it, the publication counts the
   triples of each graph the store serves against the build's (:class:`HalfSwitchedError
   <citygraph.engine.remote_switch.HalfSwitchedError>` if they differ), then removes its lock
   entry (:mod:`citygraph.engine.remote_switch`). The switch is marked begun before the request
   and ended after the count, each mark a request of its own, for the readers of a store
   whose queries read no snapshot (:mod:`citygraph.engine.remote_stamps`).

The guarantee rests on step 3 being atomic: SPARQL 1.1 Update §2 says a request SHOULD be
treated atomically, and a store must do so to serve citygraph (Oxigraph runs an update request
in one transaction). What a store must support: the Graph Store Protocol's ``PUT``, SPARQL
Update's ``MOVE`` and ``DROP``, and atomic update requests (docs/backends.md). Virtuoso 7.2
keeps the operations of a request before one that fails (docs/scaling.md): there a switch that
fails can leave half of it applied. Since ``graph:meta`` moves last, such a store still
advertises the previous version (readers keep their list of graphs for it, and never cache one
for the new version that lacks graphs); the publication says the store is half-switched
(``HalfSwitchedError``), and keeps its lock entry until it expires when the request itself
failed or timed out (the store may still be running it).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from citygraph.engine import remote_staging, remote_stamps, remote_switch
from citygraph.engine.datasets import LOCK_GRAPH, STAGING_PREFIX
from citygraph.engine.remote import VERSION_QUERY, Backend, BackendError, SparqlClient
from citygraph.engine.remote_reads import DATASET_QUERY, GRAPH_NAMES_QUERY
from citygraph.engine.remote_switch import HalfSwitchedError
from citygraph.errors import StoreBusyError
from citygraph.namespaces import GRAPH
from citygraph.store import Build, open_build

__all__ = [
    "LOCK_EXPIRES",
    "Publication",
    "PublicationBusyError",
    "download",
    "publish_build",
]

#: Seconds one upload or the switch may take.
REQUEST_TIMEOUT = 600.0
#: Seconds after its last heartbeat a lock entry is taken for a dead publisher's (a live
#: publisher renews it every third of this, from a thread of its own, whatever it is doing).
LOCK_EXPIRES = 3 * REQUEST_TIMEOUT
_SIZES_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_NT = ox.RdfFormat.N_TRIPLES
_BEAT = "<urn:citygraph:lock#beat>"
_VERSION = "<urn:citygraph:lock#version>"


class PublicationBusyError(StoreBusyError):
    """Another publication holds the store's lock (it is staging a build right now): the store
    is busy, not failing (a write gets 503 with ``Retry-After``, as when the store directory's
    write lock is taken)."""


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
        HalfSwitchedError: the switch request failed or timed out (the store may have applied
            part of it; the lock stays until it expires), or the graphs served after it are not
            the build's: publish again.
        BackendError: before the switch, the store has no Graph Store URL, cannot be reached or
            refused a request; readers still see the previous build then.
    """
    if not backend.store:
        raise BackendError(
            "publishing to a remote store needs its Graph Store Protocol URL (--backend-store)"
        )
    source = open_build(build)
    # An empty graph is no graph to SPARQL (and some stores keep none): not uploaded.
    sizes = {
        row["g"].value: int(row["n"].value)
        for row in cast(ox.QuerySolutions, source.query(_SIZES_QUERY))
        if isinstance(row["g"], ox.NamedNode)
    }
    graphs = sorted(sizes)
    client = SparqlClient(backend, connections=2)
    token = f"<urn:citygraph:publication:{uuid.uuid4()}>"
    heartbeat = _Heartbeat(backend, token)
    switch_sent = False  # and not known to be done: the lock entry stays until it expires
    try:
        try:  # the lock entry goes whatever happens (also when taking the lock failed)
            _lock(client, token, build.version)
            heartbeat.start()
            served = [
                row["g"].value
                for row in client.select(GRAPH_NAMES_QUERY, timeout=REQUEST_TIMEOUT)
                if isinstance(row["g"], ox.NamedNode)
            ]
            leftovers = [g for g in served if g.startswith(STAGING_PREFIX) and g != LOCK_GRAPH]
            if leftovers:  # from a publication that failed before its switch
                _update(client, "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in leftovers))
            started = time.monotonic()
            staging = remote_staging.plan(sizes, by_exclusion=client.dialect.union_by_exclusion)
            counts: dict[str, int] = {}  # triples uploaded, by staging graph
            for graph, name in staging.moved.items():
                data = source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
                assert data is not None
                heartbeat.check()
                _put(client, name, data)
                counts[name] = data.count(b"\n")
            if staging.packed:
                packed = (
                    q
                    for g in staging.packed
                    for q in source.quads_for_pattern(None, None, None, ox.NamedNode(g))
                )
                data = ox.serialize(remote_staging.packed_triples(packed), format=_NT)
                assert data is not None
                heartbeat.check()
                _put(client, remote_staging.PACKED, data)
                counts[remote_staging.PACKED] = data.count(b"\n")
            uploaded = time.monotonic()
            replaced = _graphs_of_served_build(client, build)
            dropped = tuple(
                g for g in served if (g.startswith(GRAPH) or g in replaced) and g not in sizes
            )
            heartbeat.stop()
            heartbeat.check()
            _beat(client, token)  # the last: the lock is ours for LOCK_EXPIRES from here
            remote_switch.check_staged(client, counts)
            _mark(client, remote_stamps.begin_update(token), ended=token)
            switch_sent = True
            _switch(
                client, remote_switch.switch_update(staging.moved, dropped, staging.packed), token
            )
            switch_sent = False
            switched = time.monotonic()
            try:
                remote_switch.check_switched(
                    client, build.version, {**dict.fromkeys(dropped, 0), **sizes}
                )
            except remote_switch.UncountedSwitchError:
                # Applied whole (the request succeeded): readers need not wait for a check.
                with contextlib.suppress(BackendError):
                    _update(client, remote_stamps.end_update(token))
                raise
            _mark(client, remote_stamps.end_update(token))
        finally:
            heartbeat.stop()
            if not switch_sent:
                _unlock(client, token)
    finally:
        client.close()
    return Publication(
        version=build.version,
        graphs=tuple(graphs),
        quads=sum(sizes.values()),
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
        rows = client.select(DATASET_QUERY, timeout=REQUEST_TIMEOUT)
    finally:
        client.close()
    target = ox.Store()
    target.bulk_extend(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)
    return target


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


@dataclass(frozen=True)
class _Entry:
    """A lock entry, as the store sees it: what the publication publishes, its last heartbeat
    (the store's lexical ``xsd:dateTime``), whether the store finds it older than
    :data:`LOCK_EXPIRES`, and its age in seconds (for messages; ``None`` if the store's
    subtraction of times gives nothing this reads)."""

    version: str
    beat: str
    stale: bool
    age: float | None


def _holders(client: SparqlClient) -> dict[str, _Entry]:
    """The lock's entries, by publication. Their staleness is decided by the store, against
    its own ``NOW()``, in one query: a comparison of times in Python would mix the store's
    time-zone forms (Virtuoso's ``NOW()`` has none, the store's local time)."""
    rows = client.select(
        f"SELECT ?holder ?version ?beat ?stale ?age WHERE {{ GRAPH <{LOCK_GRAPH}> {{ "
        f"?holder {_BEAT} ?beat OPTIONAL {{ ?holder {_VERSION} ?version }} }} "
        f"BIND(?beat < NOW() - {_expires()} AS ?stale) BIND(NOW() - ?beat AS ?age) }}",
        timeout=REQUEST_TIMEOUT,
    )
    holders: dict[str, _Entry] = {}
    for row in rows:
        stale = row["stale"]
        if stale is None or stale.value not in {"true", "false", "1", "0"}:
            # Oxigraph says true/false, Virtuoso 1/0; nothing: the store cannot compare them
            raise BackendError(f"the store's lock graph <{LOCK_GRAPH}> is unreadable")
        version = row["version"].value if row["version"] is not None else "?"
        age = row["age"]
        holders[str(row["holder"])] = _Entry(
            version=version,
            beat=row["beat"].value,
            stale=stale.value in {"true", "1"},
            age=_seconds(age.value) if age is not None else None,
        )
    return holders


def _expires() -> str:
    """:data:`LOCK_EXPIRES` as an ``xsd:dayTimeDuration`` (which both Oxigraph and Virtuoso
    subtract from ``NOW()``)."""
    return f'"PT{round(LOCK_EXPIRES)}S"^^<http://www.w3.org/2001/XMLSchema#dayTimeDuration>'


def _seconds(lexical: str) -> float | None:
    """Seconds in the difference of two times as a store gives it: an ``xsd:dayTimeDuration``
    (Oxigraph) or a number of seconds (Virtuoso); ``None`` for anything else.

    >>> _seconds("P1DT2H3M4.5S"), _seconds("PT0.25S"), _seconds("-PT2S"), _seconds("12.5")
    (93784.5, 0.25, -2.0, 12.5)
    """
    match = _DURATION.fullmatch(lexical)
    if match is None:
        try:
            return float(lexical)
        except ValueError:
            return None
    sign, days, hours, minutes, seconds = match.groups()
    total = (
        float(days or 0) * 86400 + float(hours or 0) * 3600 + float(minutes or 0) * 60
    ) + float(seconds or 0)
    return -total if sign else total


_DURATION = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?")


def _lock(client: SparqlClient, token: str, version: str) -> None:
    """Take the store's lock for the publication ``token`` (see the module docstring); the
    caller removes the entry (:func:`_unlock`) whatever happens.

    Raises:
        PublicationBusyError: another publication holds it.
    """
    # The entries of publishers that died, by the store's clock (Virtuoso refuses the
    # comparison in an update's FILTER: a query finds them).
    stale = [h for h, entry in _holders(client).items() if entry.stale]
    if stale:
        _update(
            client,
            " ;\n".join(f"DELETE WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {h} ?p ?o }} }}" for h in stale),
        )
    _update(
        client,
        f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ {token} {_BEAT} ?now ; {_VERSION} "
        f"{ox.Literal(version)} }} }} WHERE {{ BIND(NOW() AS ?now) }}",
    )
    holders = _holders(client)
    others = {h: e for h, e in holders.items() if h != token and not e.stale}
    if others:
        entries = "; ".join(_describe(h, e) for h, e in sorted(others.items()))
        raise PublicationBusyError(
            f"another publication is under way on this store, {entries}; try again when it "
            f"is done (an entry of a publisher that died can be removed: docs/backends.md, "
            f'"A stale lock")'
        )


def _describe(holder: str, entry: _Entry) -> str:
    """An entry of the lock, for the message of :class:`PublicationBusyError`."""
    said = f"{holder} (version {entry.version}): last heartbeat {entry.beat} (the store's clock)"
    if entry.age is None:
        return f"{said}, expires {LOCK_EXPIRES:.0f} s after it unless renewed"
    return (
        f"{said}, {entry.age:.0f} s ago; expires in {LOCK_EXPIRES - entry.age:.0f} s unless renewed"
    )


def _beat(client: SparqlClient, token: str) -> None:
    """Renew the heartbeat of ``token``'s lock entry; fail if another publisher removed it."""
    if token not in _holders(client):
        raise _LostLockError(
            f"the publication lost its lock (silent for more than {LOCK_EXPIRES:.0f} s, "
            "another publisher took over): nothing was switched"
        )
    _update(
        client,
        f"DELETE {{ GRAPH <{LOCK_GRAPH}> {{ {token} {_BEAT} ?beat }} }} "
        f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ {token} {_BEAT} ?now }} }} "
        f"WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {token} {_BEAT} ?beat }} BIND(NOW() AS ?now) }}",
    )


class _Heartbeat:
    """Renews the heartbeat of a publication's lock entry every third of :data:`LOCK_EXPIRES`,
    from a thread of its own (with a connection of its own), until :meth:`stop`; a renewal
    that finds the entry gone ends it, and :meth:`check` raises that error."""

    def __init__(self, backend: Backend, token: str) -> None:
        self._backend = backend
        self._token = token
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publication-heartbeat", daemon=True)
        self._lost: BackendError | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def check(self) -> None:
        """Raises: BackendError: another publisher took the lock over."""
        if self._lost is not None:
            raise self._lost

    def _run(self) -> None:
        client = SparqlClient(self._backend, connections=1)
        try:
            while not self._stopped.wait(LOCK_EXPIRES / 3):
                try:
                    _beat(client, self._token)
                except _LostLockError as error:
                    self._lost = error
                    return
                except BackendError:  # the store cannot be reached now: the next beat may
                    continue
        finally:
            client.close()


class _LostLockError(BackendError):
    """The publication's lock entry is gone (another publisher took it over)."""


def _switch(client: SparqlClient, update: str, token: str) -> None:
    """Send the switch request ``update``.

    Raises:
        HalfSwitchedError: it failed or timed out (the lock entry ``token`` is kept).
    """
    try:
        _update(client, update)
    except BackendError as error:
        raise HalfSwitchedError(
            f"the switch to the new build failed ({error}); the store may be half-switched (a "
            "store that does not apply an update request atomically, such as Virtuoso, keeps "
            "the operations before a failing one, and may still be running it): publish the "
            f"build again once its lock entry {token} expires, {LOCK_EXPIRES:.0f} s after its "
            "last heartbeat, right before the switch (kept so that no other publication stages "
            'meanwhile; to remove it sooner once the store is done: docs/backends.md, "A stale '
            'lock")'
        ) from None


def _mark(client: SparqlClient, update: str, *, ended: str = "") -> None:
    """Send a switch mark (:mod:`citygraph.engine.remote_stamps`); if it fails and ``ended``
    names the publication, mark its switch ended (nothing was switched: readers need not wait).

    Raises:
        BackendError: the mark failed.
    """
    try:
        _update(client, update)
    except BackendError as error:
        if ended:
            with contextlib.suppress(BackendError):
                _update(client, remote_stamps.end_update(ended))
        raise BackendError(
            f"marking the switch failed ({error}): "
            + (
                "nothing was switched"
                if ended
                else "the build was switched, but readers on a store whose queries read no "
                "snapshot (Virtuoso) wait until a publication ends: publish the build again"
            )
        ) from None


def _unlock(client: SparqlClient, token: str) -> None:
    """Remove ``token``'s lock entry (if the store cannot be reached now, it expires)."""
    with contextlib.suppress(BackendError):
        _update(client, f"DELETE WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {token} ?p ?o }} }}")


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
