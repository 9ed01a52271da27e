"""The engine's errors: pyoxigraph's read into citygraph's (syntax errors with line and column,
and the rest), and what running a query in a query process can end in.

Shared by the server worker (query replies), the pool and its processes, the write process
(updates, uploads) and the Graph Store; framework-free, so the write process imports little.
No HTTP status here: the web layer maps each class to one (``web/error_handlers.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from citygraph.errors import CitygraphError, InputSyntaxError

__all__ = [
    "ChangeRefusedError",
    "ClientLimitError",
    "EngineDefectError",
    "EvaluationError",
    "GraphExistsError",
    "GraphNotFoundError",
    "InvalidChangeError",
    "NetworkRefusedError",
    "OrderByDefectError",
    "OverloadedError",
    "QueryCancelledError",
    "QueryMemoryError",
    "QueryProcessError",
    "QueryTimeoutError",
    "syntax_checked",
    "syntax_error",
]

_POSITION = re.compile(r"^error at (\d+):(\d+): ?(.*)$", re.DOTALL)
_RDF_POSITION = re.compile(r"^Parser error at line \d+ column \d+: ")

T = TypeVar("T")


class EvaluationError(CitygraphError):
    """The engine failed while evaluating (a failed SERVICE call, a store read error)."""


class QueryTimeoutError(CitygraphError):
    """The query did not finish within the timeout; its process was killed."""


class QueryCancelledError(CitygraphError):
    """The client of the request went away while its query ran or waited for a process; the
    query was ended (its process killed and replaced, as at a timeout), so that it no longer
    counts against the client's share (:mod:`citygraph.engine.clients`)."""


class OverloadedError(CitygraphError):
    """Too many queries at once, or no query process became free before the deadline."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientLimitError(OverloadedError):
    """One client has too many queries in progress (the others are still served)."""


class QueryProcessError(CitygraphError):
    """A query process died or could not start (a server fault, not the client's)."""


class EngineDefectError(CitygraphError):
    """The engine stopped on an internal error (a panic) on this query; its process was
    replaced: a fault on the server's side (500), unless it is a known one (below)."""


class OrderByDefectError(EngineDefectError):
    """The engine's known panic on ORDER BY, whose comparison of numbers with other literals is
    not a total order (Rust's sort panics when it notices): the query is valid but this engine
    cannot answer it as written, and the client can reword it (422)."""


class QueryMemoryError(CitygraphError):
    """The query needed more memory than a query process may use; its process was replaced."""


class ChangeRefusedError(CitygraphError):
    """A write (SPARQL Update, Graph Store) was refused for what it asks; nothing changed."""


class InvalidChangeError(ChangeRefusedError):
    """The change is malformed beyond syntax (a graph write whose body names other graphs)."""


class GraphNotFoundError(ChangeRefusedError):
    """The change needs a graph that does not exist (without ``SILENT``)."""


class GraphExistsError(ChangeRefusedError):
    """The change creates a graph that exists (``CREATE`` without ``SILENT``)."""


class NetworkRefusedError(ChangeRefusedError):
    """The change tried to reach another server (``LOAD``, ``SERVICE``); writes have no network."""


def syntax_checked(action: Callable[[], T]) -> T:
    """Run ``action``, reading a :class:`SyntaxError` from pyoxigraph's parsers (SPARQL or RDF)
    into an :class:`InputSyntaxError` with line and column.

    Raises:
        InputSyntaxError: ``action`` raised a :class:`SyntaxError`.
    """
    try:
        return action()
    except SyntaxError as error:
        if error.lineno is not None:  # the RDF parsers fill these in
            message = _RDF_POSITION.sub("", str(error.msg))
            raise InputSyntaxError(message, line=error.lineno, column=error.offset) from None
        raise syntax_error(str(error)) from None


def syntax_error(message: str) -> InputSyntaxError:
    """Read pyoxigraph's ``error at LINE:COLUMN: …`` into an :class:`InputSyntaxError`.

    pyoxigraph 0.5's SPARQL parser reports the column one past the offending character (in
    ``SELECT * {\\n}x`` it says 2:3 for the ``x`` at 2:2); we report the character itself.
    ``tests/web/test_protocol_query.py`` pins this, so a parser change shows up there.

    >>> error = syntax_error("error at 2:3: expected end")
    >>> error.line, error.column, error.message
    (2, 2, 'expected end')
    """
    match = _POSITION.match(message)
    if match is None:
        return InputSyntaxError(message)
    column = max(1, int(match.group(2)) - 1)
    return InputSyntaxError(match.group(3), line=int(match.group(1)), column=column)
