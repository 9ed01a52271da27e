"""Running SPARQL against a store, and the query files in ``queries/`` with their headers.

A query file documents itself in ``#+`` comment lines at its top (the grlc convention)::

    #+ summary: Berlin's partner cities as of a given date
    #+ description: ...
    #+ expect: expected/berlin-partners-2025.csv

so one file is documentation, example and test input.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from citygraph.errors import QueryError
from citygraph.namespaces import PREFIXES

__all__ = [
    "QueryFile",
    "format_result",
    "read_query_file",
    "run_query",
    "term_text",
]

FORMATS = ("table", "csv", "json", "turtle")
_HEADER = re.compile(r"^#\+\s*([A-Za-z_-]+)\s*:\s*(.*)$")

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


@dataclass(frozen=True)
class QueryFile:
    """A ``.rq`` file: its text and its ``#+`` header fields."""

    path: Path
    text: str
    header: Mapping[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The question the query answers, in plain words (``#+ summary:``)."""
        return self.header.get("summary", self.path.stem)


def read_query_file(path: Path) -> QueryFile:
    """Read a query file and its ``#+ key: value`` header lines.

    Header values may continue on following ``#+`` lines that have no key.
    """
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            last = match.group(1).lower()
            header[last] = match.group(2).strip()
        elif line.startswith("#+") and last is not None:
            header[last] = (header[last] + " " + line[2:].strip()).strip()
    return QueryFile(path=path, text=text, header=header)


def run_query(target: ox.Store, sparql: str, *, base_iri: str | None = None) -> QueryResult:
    """Evaluate ``sparql`` on ``target`` with the union of all graphs as default graph.

    Raises:
        QueryError: on a syntax or evaluation error, with the engine's message.
    """
    try:
        return target.query(sparql, base_iri=base_iri, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"syntax error: {error}") from None
    except (OSError, ValueError) as error:
        raise QueryError(str(error)) from None


def term_text(term: object, *, compact: bool = False) -> str:
    """A term as plain text: an IRI (optionally as a prefixed name), a literal's value, ``""``."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _compact(term.value) if compact else term.value
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def format_result(result: QueryResult, fmt: str) -> str:
    """Render a query result as ``table``, ``csv``, ``json`` or ``turtle`` text.

    ``json`` is the W3C SPARQL 1.1 Query Results JSON format for SELECT/ASK; ``turtle`` is for
    CONSTRUCT/DESCRIBE results.

    Raises:
        QueryError: if the format does not fit the kind of result.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(result, ox.QueryTriples):
        if fmt not in ("turtle", "table"):
            raise QueryError(f"a CONSTRUCT/DESCRIBE result cannot be shown as {fmt}; use turtle")
        data = ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=dict(PREFIXES))
        return data.decode("utf-8") if data is not None else ""
    if fmt == "turtle":
        raise QueryError("a SELECT/ASK result cannot be shown as turtle; use table, csv or json")
    if isinstance(result, ox.QueryBoolean):
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result)}) + "\n"
        return ("true" if result else "false") + "\n"
    if fmt == "json":
        data = result.serialize(format=ox.QueryResultsFormat.JSON)
        return (data or b"").decode("utf-8") + "\n"
    variables = [v.value for v in result.variables]
    rows = [[term_text(row[v], compact=fmt == "table") for v in variables] for row in result]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(variables)
        writer.writerows(rows)
        return buffer.getvalue()
    return _table(variables, rows)


def _table(variables: list[str], rows: list[list[str]]) -> str:
    widths = [len(v) for v in variables]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _compact(iri: str) -> str:
    best = ""
    best_prefix = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            local = iri[len(namespace) :]
            if local and "/" not in local and "#" not in local:
                best, best_prefix = namespace, prefix
    return f"{best_prefix}:{iri[len(best) :]}" if best else iri
