"""The query mix: ``bench/queries/*.rq`` with their ``#+`` headers, and parameter binding.

Each file is one query. Its header says what it measures and where its parameters come from::

    #+ summary: A city's partners with their English labels.
    #+ pool: hub_city      (a parameter pool of params.json, written by the generator)
    #+ weight: 20          (its share of requests in the whole mix)

Placeholders are variables whose name starts with an underscore (``?_city``), as in grlc; each
variant of the pool replaces them by a SPARQL term taken from the generated data. Without
substitution the file is still valid SPARQL (the placeholder is just an unbound variable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["QUERY_DIR", "Query", "bind", "load_queries"]

QUERY_DIR = Path(__file__).parent / "queries"
_HEADER = re.compile(r"^#\+\s*(\w+):\s?(.*)$")
_CONTINUATION = re.compile(r"^#\+\s{2,}(.*)$")
_PLACEHOLDER = re.compile(r"\?_(\w+)\b")
_FORM = re.compile(r"^\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE | re.MULTILINE)

ACCEPT_SOLUTIONS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples"


@dataclass(frozen=True)
class Query:
    """One query of the mix and the variants it is run with."""

    name: str
    text: str
    summary: str
    weight: int
    pool: str | None
    form: str
    variants: tuple[str, ...] = field(default=())

    @property
    def accept(self) -> str:
        """The result format asked for: SPARQL JSON for solutions, N-Triples for graphs."""
        return ACCEPT_GRAPH if self.form in ("CONSTRUCT", "DESCRIBE") else ACCEPT_SOLUTIONS


def bind(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``?_name`` placeholder in ``text`` by ``values[name]`` (a SPARQL term).

    >>> bind("SELECT * { ?_city ?p ?o }", {"city": "<http://example.org/c>"})
    'SELECT * { <http://example.org/c> ?p ?o }'

    Raises:
        KeyError: if a placeholder has no value.
    """
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def parse_query_file(path: Path) -> Query:
    """Read one ``.rq`` file and its ``#+`` headers.

    Raises:
        ValueError: if the query form (SELECT, ASK, CONSTRUCT, DESCRIBE) cannot be found.
    """
    text = path.read_text(encoding="utf-8")
    headers: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        continued = _CONTINUATION.match(line)
        if continued and last is not None:
            headers[last] += " " + continued.group(1).strip()
            continue
        match = _HEADER.match(line)
        if match:
            last = match.group(1)
            headers[last] = match.group(2).strip()
    form = _FORM.search(text)
    if form is None:
        raise ValueError(f"{path}: no SELECT, ASK, CONSTRUCT or DESCRIBE found")
    return Query(
        name=path.stem,
        text=text,
        summary=headers.get("summary", ""),
        weight=int(headers.get("weight", "1")),
        pool=headers.get("pool") or None,
        form=form.group(1).upper(),
    )


def load_queries(
    params: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
    *,
    directory: Path = QUERY_DIR,
    names: Sequence[str] | None = None,
) -> list[Query]:
    """Load the mix, each query with its bound variants (one per entry of its pool).

    Raises:
        KeyError: if a query names a pool that ``params`` does not have.
    """
    queries = []
    for path in sorted(directory.glob("*.rq")):
        query = parse_query_file(path)
        if names and query.name not in names:
            continue
        if query.pool is None:
            variants: tuple[str, ...] = (query.text,)
        elif params is None:
            variants = ()
        else:
            variants = tuple(bind(query.text, values) for values in params[query.pool])
        queries.append(
            Query(
                name=query.name,
                text=query.text,
                summary=query.summary,
                weight=query.weight,
                pool=query.pool,
                form=query.form,
                variants=variants,
            )
        )
    return queries
