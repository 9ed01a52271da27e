"""The messages between a server worker and its query processes (plain, picklable data).

A job says what to evaluate and in which formats; the reply carries the fully serialised
body, so nothing is sent to a client before the whole result exists within the limits.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DatasetJob", "GraphJob", "GraphNamesJob", "Job", "QueryJob", "Reply"]


@dataclass(frozen=True, slots=True)
class QueryJob:
    """Evaluate a query; serialise solutions as ``solutions_format`` or a graph as
    ``graph_format`` (pyoxigraph format names; ``None``: not acceptable to the client).

    ``default_graphs``/``named_graphs`` are the protocol dataset (``None``: not given);
    ``union_default`` makes the default graph the union of all graphs.
    """

    query: str
    base_iri: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    union_default: bool
    solutions_format: str | None
    graph_format: str | None
    max_rows: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class GraphJob:
    """Serialise one graph (``None``: the default graph) for a Graph Store read."""

    graph: str | None
    graph_format: str
    max_rows: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class DatasetJob:
    """Serialise the whole dataset (every quad) in a quad format."""

    graph_format: str
    max_rows: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class GraphNamesJob:
    """List the named graphs of the store."""


Job = QueryJob | GraphJob | DatasetJob | GraphNamesJob


@dataclass(frozen=True, slots=True)
class Reply:
    """The outcome of a job.

    ``error`` is ``None`` on success, else one of ``syntax``, ``rows``, ``bytes``,
    ``not_acceptable``, ``not_found``, ``argument``, ``evaluation``; ``message`` explains it.
    ``family`` is ``solutions`` or ``graph`` (what the query produced). ``last``: the process
    ends after this reply (it holds too much of its own: :data:`citygraph.engine.zygote.
    OWN_SHARE`); the pool replaces it instead of giving it another job.
    """

    body: bytes = b""
    family: str = ""
    format: str = ""
    count: int = 0
    graph_names: tuple[str, ...] = ()
    error: str | None = None
    message: str = ""
    last: bool = False
