"""The format of a build: one number, bumped whenever what a build holds changes.

A build made by another citygraph may lack what this one reads, or hold it differently: a build
from before 7 December 2026 has no ``cg:startYear`` and no ``cg:searchKey`` in graph:derived,
and served as it is, the year filter of ``/partnerships``, the name search and the queries that
use them would silently find nothing. So the build transaction (:func:`citygraph.publish.publish`)
records the format it wrote, :data:`FORMAT`, in two places that carry the build:

- its metadata file (``builds/VERSION.json``: ``"format": 1``), which everything that opens a
  build of a store directory reads (:func:`citygraph.store.current_build`);
- graph:meta (``<https://w3id.org/citygraph/dataset> cg:buildFormat 1``), which a publication
  to a remote store carries with the data: read where a remote store is served or validated
  (:data:`QUERY`).

Every reader refuses a build of another format, and a build that records none (made before
formats were recorded), with :class:`~citygraph.errors.BuildFormatError`: what it found, what
it expects, and the command that rebuilds it. A server refuses it at start (exit 2); a running
server to which one is published keeps serving the build it has and logs the refusal once, on a
store directory (:class:`~citygraph.engine.generations.Generations`) as on a remote store (the
:class:`~citygraph.engine.remote.RemotePool` reads version and format with one query,
:func:`citygraph.engine.builds.served_version`). Only a rebuild (``citygraph build``) reads such
a build, for the graphs it carries over. The formats so far are listed in docs/model.md ("Build
formats").

>>> check(FORMAT, build="the build v1", rebuild="citygraph build")
>>> check(None, build="the build v1", rebuild="citygraph build --store s")
Traceback (most recent call last):
...
citygraph.errors.BuildFormatError: the build v1 records no build format (it was made by a \
citygraph from before build formats were recorded); this citygraph reads builds of format 1 \
only: rebuild it with `citygraph build --store s`
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pyoxigraph as ox

from citygraph.errors import BuildFormatError
from citygraph.namespaces import CG, GRAPH_META

__all__ = ["FORMAT", "KEY", "PREDICATE", "QUERY", "check", "check_solutions", "found_in"]

#: The format of the builds this citygraph writes, and the only one it reads. Bump it whenever
#: what a build holds changes (a derivation added to graph:derived, a graph renamed…), and add
#: the new format to docs/model.md ("Build formats").
FORMAT: Final = 1
#: The key of the format in a build's metadata file.
KEY: Final = "format"
#: The predicate of the format in graph:meta (an ``xsd:integer``).
PREDICATE: Final = ox.NamedNode(CG + "buildFormat")
#: The data version and the format graph:meta records (no row: no build at all).
QUERY: Final = (
    "SELECT ?version ?format WHERE { GRAPH <" + GRAPH_META + "> { "
    "?dataset <http://www.w3.org/2002/07/owl#versionInfo> ?version "
    "OPTIONAL { ?dataset <" + PREDICATE.value + "> ?format } } }"
)
_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def check(found: object, *, build: str, rebuild: str) -> None:
    """Refuse unless ``found`` (a format as recorded, ``None`` when none is) is :data:`FORMAT`.

    ``build`` names the build in the message, ``rebuild`` is the command that makes a build of
    this format.

    Raises:
        BuildFormatError: ``found`` is another format, or none.
    """
    if type(found) is int and found == FORMAT:  # not True, which equals 1
        return
    reads = f"this citygraph reads builds of format {FORMAT} only"
    if found is None:
        said = (
            f"{build} records no build format (it was made by a citygraph from before build "
            f"formats were recorded); {reads}: rebuild it with `{rebuild}`"
        )
    elif type(found) is int and found > FORMAT:
        said = (
            f"{build} is of build format {found}, made by a newer citygraph; {reads}: "
            f"upgrade citygraph, or rebuild it with this one: `{rebuild}`"
        )
    else:
        said = f"{build} is of build format {found!r}; {reads}: rebuild it with `{rebuild}`"
    raise BuildFormatError(said, found=found, expected=FORMAT)


def found_in(solutions: Iterable[ox.QuerySolution]) -> tuple[bool, object]:
    """Whether the answer of :data:`QUERY` shows a build, and the format it records (an
    ``int``; the lexical form of anything else but an integer; ``None`` when none).

    >>> store = ox.Store()
    >>> found_in(store.query(QUERY))
    (False, None)
    >>> meta, dataset = ox.NamedNode(GRAPH_META), ox.NamedNode("https://w3id.org/citygraph/dataset")
    >>> owl_version = ox.NamedNode("http://www.w3.org/2002/07/owl#versionInfo")
    >>> store.add(ox.Quad(dataset, owl_version, ox.Literal("v1"), meta))
    >>> found_in(store.query(QUERY))
    (True, None)
    >>> store.add(ox.Quad(dataset, PREDICATE, ox.Literal(FORMAT), meta))
    >>> found_in(store.query(QUERY))
    (True, 1)
    """
    built = False
    found: object = None
    for row in solutions:
        built = True
        value = row["format"]
        if isinstance(value, ox.Literal):
            found = value.value
            if value.datatype == _INTEGER and value.value.lstrip("+-").isdigit():
                found = int(value.value)
    return built, found


def check_solutions(solutions: Iterable[ox.QuerySolution], *, build: str, rebuild: str) -> None:
    """:func:`check` the format in the answer of :data:`QUERY`; an answer without a build (no
    version in graph:meta) passes: what reads it next says that there is no build.

    Raises:
        BuildFormatError: graph:meta records another format, or none.
    """
    built, found = found_in(solutions)
    if built:
        check(found, build=build, rebuild=rebuild)
