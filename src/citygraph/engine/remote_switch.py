"""The request that switches a remote store from its served build to a staged one, and the
checks around it (:mod:`citygraph.engine.remote_publish`, step 3): before it, each staging
graph holds what was uploaded there (:func:`check_staged`); after it, each graph the store
serves holds what the build has (:func:`check_switched`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from citygraph.engine import remote_staging
from citygraph.engine.errors import QueryTimeoutError
from citygraph.engine.remote import BackendError, SparqlClient
from citygraph.namespaces import GRAPH_META

__all__ = [
    "HalfSwitchedError",
    "UncountedSwitchError",
    "check_staged",
    "check_switched",
    "switch_update",
]

#: Seconds a count of the graphs may take.
COUNT_TIMEOUT = 600.0


class HalfSwitchedError(BackendError):
    """The switch request failed, timed out, or left the store's graphs different from the
    build's: the store may serve a mix of the previous build and the new one (under the
    previous version when the request did not get to its last operation); publishing the
    build again replaces it."""


class UncountedSwitchError(HalfSwitchedError):
    """The switch request succeeded (so the store applied all of it), but the graphs it served
    could not be counted to check it."""


def switch_update(
    staged: dict[str, str], dropped: Iterable[str], packed: Sequence[str] = ()
) -> str:
    """The one update request that replaces the served build by the staged one (``packed``:
    the graphs staged in :data:`~citygraph.engine.remote_staging.PACKED`).

    >>> meta = "https://w3id.org/citygraph/graph/meta"
    >>> print(switch_update({meta: "urn:s:0", "http://g/a": "urn:s:1"}, ["http://g/old"]))
    DROP SILENT GRAPH <http://g/old> ;
    MOVE GRAPH <urn:s:1> TO <http://g/a> ;
    MOVE GRAPH <urn:s:0> TO <https://w3id.org/citygraph/graph/meta>

    Not ``MOVE SILENT``: a staging graph that is missing (removed by someone else meanwhile)
    fails the whole request, so the store keeps serving the previous build, not a mix. The
    ``MOVE`` of graph:meta (the data version) is the last operation, after the unpacking of
    the ``packed`` graphs: on a store that keeps the operations before a failing one
    (Virtuoso), a switch cut short never advertises the new version.
    """
    if GRAPH_META in packed:
        raise ValueError("graph:meta is never packed: its MOVE ends the switch")
    operations = [f"DROP SILENT GRAPH <{g}>" for g in dropped]
    operations += [f"MOVE GRAPH <{s}> TO <{g}>" for g, s in staged.items() if g != GRAPH_META]
    operations += remote_staging.unpack_operations(packed)
    if GRAPH_META in staged:
        operations.append(f"MOVE GRAPH <{staged[GRAPH_META]}> TO <{GRAPH_META}>")
    return " ;\n".join(operations)


def _counts(client: SparqlClient, graphs: Iterable[str]) -> dict[str, int]:
    """The number of triples in each of ``graphs`` (0 for a graph the store does not have)."""
    names = list(graphs)
    values = " ".join(f"<{g}>" for g in names)
    rows = client.select(
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g",
        timeout=COUNT_TIMEOUT,
    )
    found = {row["g"].value: int(row["n"].value) for row in rows if row["n"] is not None}
    return {g: found.get(g, 0) for g in names}


def check_switched(client: SparqlClient, version: str, expected: dict[str, int]) -> None:
    """Check that each graph of the build ``version`` (and each graph the switch dropped)
    holds as many triples as ``expected``.

    Raises:
        HalfSwitchedError: one does not; :class:`UncountedSwitchError`, the store cannot
            be read to tell.
    """
    try:
        found = _counts(client, expected)
    except (BackendError, QueryTimeoutError) as error:
        raise UncountedSwitchError(
            f"the switch to {version} was applied, but the graphs it served could not be "
            f"counted ({error}): check them, or publish the build again"
        ) from None
    wrong = [
        f"<{g}> holds {found[g]:,} triples, not {n:,}" for g, n in expected.items() if found[g] != n
    ]
    if wrong:
        raise HalfSwitchedError(
            f"the store is half-switched: after the switch to {version}, {'; '.join(wrong)}; "
            "readers may see a mix of two builds (on a store whose queries read no snapshot, "
            "Virtuoso, citygraph's readers answer 503 instead until a publication ends, or the "
            'switch mark is removed: docs/backends.md, "A half-switched store"): publish the build '
            "again"
        )


def check_staged(client: SparqlClient, counts: dict[str, int]) -> None:
    """Check that each staging graph holds the number of triples uploaded there.

    Raises:
        BackendError: one does not (nothing was switched).
    """
    found = _counts(client, counts)
    wrong = [
        f"<{g}> holds {found[g]:,} triples, not the {n:,} uploaded"
        for g, n in counts.items()
        if found[g] != n
    ]
    if wrong:
        raise BackendError(
            "the staging graphs changed during the publication (another publisher wrote into "
            f"them): {'; '.join(wrong)}; nothing was switched"
        )
