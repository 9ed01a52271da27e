"""Serialising results within the row and byte limits, both counted on what is sent.

A query process (and the remote store's answers, :mod:`citygraph.engine.remote_answers`) must
refuse a result with more rows than ``max_rows`` or a body larger than ``max_bytes``
(``CITYGRAPH_MAX_RESULT_ROWS``, ``CITYGRAPH_MAX_RESPONSE_BYTES``, docs/endpoint.md), without
holding more than about the limit in memory, and tell which limit was passed:

- TSV, N-Triples and N-Quads are written by pyoxigraph into a :class:`_LimitedBuffer`, which
  counts their lines (one per row) and bytes, and stops the serialiser at a limit.
- JSON and XML solutions too, their rows counted by a marker (:func:`serialise_solutions`).
- CSV: its rows may span lines (a quoted newline), so the TSV of the same solutions is counted
  and converted to CSV in batches as it arrives (:class:`_CsvFromTsv`); the bytes counted are
  the CSV's.
- Turtle, TriG and the other graph formats: the triples (quads) are counted as they are handed
  to pyoxigraph's serialiser, the bytes as it writes them; Turtle and TriG then declare only the
  prefixes of :data:`~citygraph.namespaces.PREFIXES` an IRI is written with
  (:func:`_only_used_prefixes`).

So a body is refused when it, and not a larger intermediate form, passes the limit: Turtle,
TriG and CSV are smaller than the N-Triples or TSV they were once converted from. JSON and XML
converted from TSV (a remote store's answer; a JSON answer recounted) are bounded by the TSV
as well, which is smaller than they are except for rows of mostly unbound variables.
"""

from __future__ import annotations

import functools
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

import pyoxigraph as ox

from citygraph.engine.jobs import QueryJob
from citygraph.namespaces import PREFIXES

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "LimitExceededError",
    "serialise_quads",
    "serialise_solutions",
    "serialise_solutions_via_tsv",
    "serialise_triples",
]

_TSV = ox.QueryResultsFormat.TSV
_CSV = ox.QueryResultsFormat.CSV
_NT = ox.RdfFormat.N_TRIPLES
_NQ = ox.RdfFormat.N_QUADS
_PREFIXED = frozenset({"TURTLE", "TRIG"})
#: Bytes of TSV converted to CSV at a time (pyoxigraph writes about 8 kB at a time).
CONVERT_BATCH = 1 << 18

_Term = TypeVar("_Term", ox.Triple, ox.Quad)


class LimitExceededError(Exception):
    """A result grew past a limit: ``what`` is ``rows`` or ``bytes``."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message


class _LimitedBuffer(io.BytesIO):
    """A buffer that counts a marker and bytes, and stops the serialiser at a limit.

    With line-based formats (TSV, N-Triples, N-Quads) one line is one solution or one triple
    (newlines inside values are escaped), so counting ``\\n`` counts rows exactly; other
    markers are given for other formats (see :func:`serialise_solutions`).
    """

    def __init__(self, max_lines: int, max_bytes: int, *, marker: bytes = b"\n") -> None:
        super().__init__()
        self.lines = 0
        self.size = 0
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.marker = marker
        self._tail = b""
        self.exceeded: LimitExceededError | None = None

    def write(self, data: ReadableBuffer) -> int:
        if self.exceeded is not None:  # pyoxigraph writes once more (a flush) after a refusal
            raise self.exceeded
        written = super().write(data)
        self.size += written
        chunk = bytes(data)
        if len(self.marker) == 1:
            self.lines += chunk.count(self.marker)
        else:  # a marker may straddle two writes
            joined = self._tail + chunk
            self.lines += joined.count(self.marker)
            self._tail = joined[-(len(self.marker) - 1) :]
        if self.lines > self.max_lines:
            self.exceeded = LimitExceededError("rows", "")
            raise self.exceeded
        if self.size > self.max_bytes:
            self.exceeded = LimitExceededError("bytes", "")
            raise self.exceeded
        return written


class _CsvFromTsv(io.BytesIO):
    """Takes the TSV pyoxigraph writes (one line per solution after the header, counted as
    :class:`_LimitedBuffer` does) and holds its CSV, converted in batches of whole lines of
    about :data:`CONVERT_BATCH` bytes: the bytes counted are the CSV's. :meth:`finish` converts
    the rest and returns the CSV."""

    def __init__(self, max_rows: int, max_bytes: int) -> None:
        super().__init__()
        self.lines = 0
        self.max_lines = max_rows + 1  # the header is a line
        self.max_bytes = max_bytes
        self.exceeded: LimitExceededError | None = None
        self._pending = bytearray()
        self._header = b""  # the TSV header line, once converted
        self._csv_header = b""

    def write(self, data: ReadableBuffer) -> int:
        if self.exceeded is not None:
            raise self.exceeded
        chunk = bytes(data)
        self.lines += chunk.count(b"\n")
        if self.lines > self.max_lines:
            self.exceeded = LimitExceededError("rows", "")
            raise self.exceeded
        self._pending += chunk
        if len(self._pending) >= CONVERT_BATCH:
            self._convert(self._pending.rfind(b"\n") + 1)
            if self.tell() > self.max_bytes:
                self.exceeded = LimitExceededError("bytes", "")
                raise self.exceeded
        return len(chunk)

    def finish(self) -> bytes:
        """The CSV of everything written."""
        self._convert(len(self._pending))
        return self.getvalue()

    def _convert(self, end: int) -> None:
        if not self._header:
            cut = self._pending.find(b"\n") + 1
            self._header = bytes(self._pending[:cut])
            del self._pending[:cut]
            end -= cut
            self._csv_header = _tsv_to_csv(self._header)
            super().write(self._csv_header)
        if end > 0:
            rows = bytes(self._pending[:end])
            del self._pending[:end]
            super().write(_tsv_to_csv(self._header + rows)[len(self._csv_header) :])


def _tsv_to_csv(tsv: bytes) -> bytes:
    body = ox.parse_query_results(tsv, format=_TSV).serialize(format=_CSV)
    assert body is not None
    return body


def serialise_solutions(
    result: ox.QuerySolutions, job: QueryJob, fmt_name: str, rerun: Callable[[], object]
) -> tuple[bytes, int]:
    """Serialise solutions within the limits, counting rows exactly and cheaply; ``rerun``
    evaluates the query again.

    XML: each solution is one ``<result>`` (a ``<`` inside a value is escaped), so counting it
    is exact. JSON: solutions are separated by ``},{``, which may also occur inside a value, so
    that count is an upper bound; only when it passes the limit is the query run again and its
    rows counted exactly. TSV counts lines; CSV goes through TSV (quoted newlines).

    Raises:
        LimitExceededError: more than ``job.max_rows`` rows or ``job.max_bytes`` bytes.
    """
    if fmt_name in ("XML", "JSON"):
        if fmt_name == "XML":
            buffer = _LimitedBuffer(job.max_rows, job.max_bytes, marker=b"<result>")
        else:
            buffer = _LimitedBuffer(job.max_rows - 1, job.max_bytes, marker=b"},{")
        fmt = getattr(ox.QueryResultsFormat, fmt_name)
        try:
            _run_limited(
                lambda: result.serialize(buffer, format=fmt), buffer, job.max_rows, job.max_bytes
            )
        except LimitExceededError as error:
            if error.what != "rows" or fmt_name == "XML":
                raise
            again = rerun()
            assert isinstance(again, ox.QuerySolutions)
            return serialise_solutions_via_tsv(again, job)
        body = buffer.getvalue()
        rows = buffer.lines if fmt_name == "XML" else buffer.lines + (b'"bindings":[{' in body)
        return body, rows
    return serialise_solutions_via_tsv(result, job)


def serialise_solutions_via_tsv(result: ox.QuerySolutions, job: QueryJob) -> tuple[bytes, int]:
    """Serialise ``result`` as ``job.solutions_format`` by way of TSV, which has one line per
    solution and is lossless: rows are counted while streaming and the serialiser is stopped at
    the limit, then the TSV is converted (in Rust) to the requested format (CSV as it streams).

    Raises:
        LimitExceededError: more than ``job.max_rows`` rows or ``job.max_bytes`` bytes.
    """
    if job.solutions_format == "CSV":
        csv = _CsvFromTsv(job.max_rows, job.max_bytes)
        _run_limited(lambda: result.serialize(csv, format=_TSV), csv, job.max_rows, job.max_bytes)
        body = csv.finish()
        _check_size(body, job.max_bytes)
        return body, max(csv.lines - 1, 0)
    buffer = _LimitedBuffer(job.max_rows + 1, job.max_bytes)
    _run_limited(lambda: result.serialize(buffer, format=_TSV), buffer, job.max_rows, job.max_bytes)
    tsv = buffer.getvalue()
    count = max(buffer.lines - 1, 0)
    if job.solutions_format == "TSV":
        return tsv, count
    fmt = getattr(ox.QueryResultsFormat, job.solutions_format or "JSON")
    converted = ox.parse_query_results(tsv, format=_TSV).serialize(format=fmt)
    assert converted is not None
    _check_size(converted, job.max_bytes)
    return converted, count


def serialise_triples(
    triples: ox.QueryTriples | Iterable[ox.Triple], fmt_name: str, max_rows: int, max_bytes: int
) -> tuple[bytes, int]:
    """Serialise ``triples`` as ``fmt_name`` within the limits; returns the body and count.

    Raises:
        LimitExceededError: more than ``max_rows`` triples or ``max_bytes`` bytes.
    """
    if fmt_name != "N_TRIPLES":
        return _serialise_counted(triples, fmt_name, max_rows, max_bytes)
    buffer = _LimitedBuffer(max_rows, max_bytes)

    def serialise() -> object:
        if isinstance(triples, ox.QueryTriples):
            return triples.serialize(buffer, format=_NT)
        return ox.serialize(triples, buffer, format=_NT)

    _run_limited(serialise, buffer, max_rows, max_bytes)
    return buffer.getvalue(), buffer.lines


def serialise_quads(
    quads: Iterable[ox.Quad], fmt_name: str, max_rows: int, max_bytes: int
) -> tuple[bytes, int]:
    """Serialise ``quads`` as ``fmt_name`` within the limits; returns the body and count.

    Raises:
        LimitExceededError: more than ``max_rows`` quads or ``max_bytes`` bytes.
    """
    if fmt_name != "N_QUADS":
        return _serialise_counted(quads, fmt_name, max_rows, max_bytes)
    buffer = _LimitedBuffer(max_rows, max_bytes)
    _run_limited(lambda: ox.serialize(quads, buffer, format=_NQ), buffer, max_rows, max_bytes)
    return buffer.getvalue(), buffer.lines


def _serialise_counted(
    items: Iterable[_Term], fmt_name: str, max_rows: int, max_bytes: int
) -> tuple[bytes, int]:
    """Serialise ``items`` as ``fmt_name``, counting them as the serialiser takes them and its
    bytes as it writes them. Turtle and TriG are written with every prefix declared, then only
    those used are kept: the bytes of the others are allowed for while streaming, and the body
    sent is checked against ``max_bytes`` exactly."""
    fmt = getattr(ox.RdfFormat, fmt_name)
    prefixed = fmt_name in _PREFIXED
    buffer = _LimitedBuffer(sys.maxsize, max_bytes + (_prefix_lines(fmt_name) if prefixed else 0))
    count = 0

    def counted() -> Iterator[_Term]:
        nonlocal count
        for item in items:
            count += 1
            if count > max_rows:
                buffer.exceeded = LimitExceededError("rows", "")
                raise buffer.exceeded
            yield item

    prefixes = PREFIXES if prefixed else None
    _run_limited(
        lambda: ox.serialize(counted(), buffer, format=fmt, prefixes=prefixes),
        buffer,
        max_rows,
        max_bytes,
    )
    body = buffer.getvalue()
    if prefixed:
        body = _only_used_prefixes(body, fmt_name)
    _check_size(body, max_bytes)
    return body, count


@functools.cache
def _prefix_lines(fmt_name: str) -> int:
    """The bytes pyoxigraph writes to declare every prefix of :data:`PREFIXES`."""
    return len(_declarations(fmt_name, tuple(PREFIXES)))


@functools.cache
def _declarations(fmt_name: str, names: tuple[str, ...]) -> bytes:
    """The ``@prefix`` lines pyoxigraph writes for the prefixes ``names``, in its own order
    (which depends on the set of prefixes only): the lines a body that uses exactly these
    prefixes starts with."""
    node = ox.NamedNode("urn:x")
    # a quad in the default graph is written as the triple
    written = ox.serialize(
        [ox.Quad(node, node, node)],
        format=getattr(ox.RdfFormat, fmt_name),
        prefixes={name: PREFIXES[name] for name in names},
    )
    assert written is not None
    return b"".join(line for line in written.splitlines(keepends=True) if line.startswith(b"@"))


def _only_used_prefixes(body: bytes, fmt_name: str) -> bytes:
    """``body`` (Turtle or TriG that starts with one ``@prefix`` line per prefix of
    :data:`PREFIXES`) declaring only the prefixes an IRI of the rest is written with, in the
    order pyoxigraph declares them when given only those: the bytes of ``ox.serialize(...,
    prefixes=used)``. No namespace of :data:`PREFIXES` is inside another, so each IRI is
    written with the same prefix either way."""
    end = 0
    while body.startswith(b"@prefix ", end):
        end = body.index(b"\n", end) + 1
    rest = body[end:]
    # pyoxigraph writes a prefixed name at the start of a line, after a space or a tab, or
    # after ``^^``; never one of these inside an IRI or a prefixed name, so only a literal
    # can hold ``name:`` at such a place.
    spaced = b" " + rest.translate(_TO_SPACE)  # spaced[i] precedes rest[i]
    used = tuple(name for name in PREFIXES if _written(rest, spaced, name.encode() + b":"))
    return _declarations(fmt_name, used) + rest


_TO_SPACE = bytes.maketrans(b"\t\n^", b"   ")
#: A literal as pyoxigraph writes it: in double quotes, with ``\"`` and ``\\`` escaped, on one
#: line (a line break in it is written ``\n``).
_LITERAL = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')


def _written(rest: bytes, spaced: bytes, token: bytes) -> bool:
    """Whether ``token`` (``name:``) starts a prefixed name in ``rest`` (Turtle or TriG
    without its ``@prefix`` lines), not text inside a literal; ``spaced`` is ``rest`` after a
    space, its delimiters made spaces."""
    at = spaced.find(b" " + token)
    while at >= 0:
        line = rest.rfind(b"\n", 0, at) + 1
        for literal in _LITERAL.finditer(rest, line):
            if literal.start() >= at:
                return True
            if literal.end() > at:
                break  # inside this literal
        else:
            return True
        at = spaced.find(b" " + token, at + 1)
    return False


def _run_limited(
    serialise: Callable[[], object],
    buffer: _LimitedBuffer | _CsvFromTsv,
    max_rows: int,
    max_bytes: int,
) -> None:
    try:
        serialise()
    except (OSError, LimitExceededError):
        # pyoxigraph re-raises an exception from write() as OSError; the buffer knows why.
        if buffer.exceeded is None:
            raise
    if buffer.exceeded is not None:
        # Its traceback's frames hold the buffer (a cycle) and, through their callers, what was
        # being serialised: on a remote store a pyoxigraph answer bound to this thread, which
        # the collector would free in whichever thread it runs in (a leak, reported). Without
        # the traceback, all of it is freed here and now.
        buffer.exceeded.__traceback__ = None
        if buffer.exceeded.what == "rows":
            raise LimitExceededError(
                "rows",
                f"the result has more than {max_rows:,} rows or triples, this endpoint's limit; "
                "add LIMIT (and OFFSET to page) or narrow the query",
            )
        _check_size(b"", max_bytes, exceeded=True)


def _check_size(body: bytes, max_bytes: int, *, exceeded: bool = False) -> None:
    if exceeded or len(body) > max_bytes:
        raise LimitExceededError(
            "bytes",
            f"the result is larger than {max_bytes:,} bytes, this endpoint's limit; "
            "add LIMIT (and OFFSET to page) or narrow the query",
        )
