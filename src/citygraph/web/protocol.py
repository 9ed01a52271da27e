"""Reading SPARQL 1.1 Protocol requests: which operation, which text, which dataset.

Framework-free: takes the method, the raw URL query string, the ``Content-Type`` and the body,
and returns a :class:`SparqlRequest` or raises a :class:`~citygraph.web.problems.ProblemError` that
says what is wrong. Section numbers refer to https://www.w3.org/TR/sparql11-protocol/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl

import pyoxigraph as ox

from citygraph.web.problems import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = [
    "FORM",
    "SPARQL_QUERY",
    "SPARQL_UPDATE",
    "Operation",
    "SparqlRequest",
    "check_graph_iri",
    "parse_content_type",
    "parse_params",
    "read_sparql_request",
]

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

_QUERY_DATASET = ("default-graph-uri", "named-graph-uri")
_UPDATE_DATASET = ("using-graph-uri", "using-named-graph-uri")


class Operation(Enum):
    """What a request to the SPARQL service asks for."""

    QUERY = "query"
    UPDATE = "update"
    DESCRIPTION = "description"


@dataclass(frozen=True)
class SparqlRequest:
    """A protocol request, read: the text and the dataset given by protocol parameters.

    ``default_graphs``/``named_graphs`` are ``None`` when the request does not set them
    (``default-graph-uri``/``named-graph-uri`` for queries, ``using-…`` for updates).
    ``formats`` holds every value of the ``format`` parameter (clients such as SPARQLWrapper
    repeat it); :func:`citygraph.web.formats.choose` reads them.
    """

    operation: Operation
    text: str = ""
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    formats: tuple[str, ...] = ()

    @property
    def has_protocol_dataset(self) -> bool:
        """Whether the request defines the dataset itself (it then wins over the text's)."""
        return self.default_graphs is not None or self.named_graphs is not None


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """Split a ``Content-Type`` into its lower-case media type and its ``charset`` (if any).

    >>> parse_content_type("Application/SPARQL-Query; charset=UTF-8")
    ('application/sparql-query', 'utf-8')
    """
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def parse_params(raw: bytes | str, *, where: str) -> list[tuple[str, str]]:
    """Decode ``application/x-www-form-urlencoded`` pairs; percent-escapes must be UTF-8.

    Raises:
        BadRequestError: the pairs are not valid UTF-8.
    """
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequestError(f"the {where} parameters are not valid UTF-8 when decoded") from None


def check_graph_iri(value: str, *, parameter: str) -> str:
    """Return ``value`` if it is an absolute IRI, else raise :class:`BadRequestError`."""
    try:
        ox.NamedNode(value)
    except ValueError as error:
        raise BadRequestError(f"{parameter}={value!r} is not an absolute IRI: {error}") from None
    return value


def read_sparql_request(
    *,
    method: str,
    query_string: bytes | str,
    content_type: str | None,
    body: bytes,
    max_length: int,
) -> SparqlRequest:
    """Read a request to the SPARQL service (§2.1 query operation, §2.2 update operation).

    Raises:
        BadRequestError: parameters missing, repeated or in conflict; text not UTF-8. (Repeated
            ``format`` parameters are read by :func:`citygraph.web.formats.choose`.)
        UnsupportedMediaTypeError: a POST body that is not one of the three protocol media types,
            or not in UTF-8.
        PayloadTooLargeError: the query or update is longer than ``max_length`` characters.
    """
    params = parse_params(query_string, where="URL")
    body_text: str | None = None
    if method == "POST":
        media, charset = parse_content_type(content_type)
        if charset is not None and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaTypeError(
                f"the request body is in charset {charset!r}; this endpoint reads UTF-8 only"
            )
        if media == FORM:
            params += parse_params(body, where="body")
        elif media in (SPARQL_QUERY, SPARQL_UPDATE):
            if len(body) > 4 * max_length:
                raise _too_long("query" if media == SPARQL_QUERY else "update", max_length)
            body_text = _decode_body(body)
            if _values(params, "query") or _values(params, "update"):
                raise BadRequestError(
                    f"a POST with Content-Type {media} carries its text in the body; "
                    "do not also send a query or update parameter"
                )
            params.append(("query" if media == SPARQL_QUERY else "update", body_text))
        elif not media:
            raise UnsupportedMediaTypeError(
                "a POST to the SPARQL service needs a Content-Type: "
                f"{FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}"
            )
        else:
            raise UnsupportedMediaTypeError(
                f"Content-Type {media} is not a SPARQL protocol request; use "
                f"{FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}"
            )
    queries = _values(params, "query")
    updates = _values(params, "update")
    fmt = tuple(_values(params, "format"))
    if len(queries) > 1:
        raise BadRequestError(f"the request has {len(queries)} query parameters; send exactly one")
    if len(updates) > 1:
        raise BadRequestError(f"the request has {len(updates)} update parameters; send exactly one")
    if queries and updates:
        raise BadRequestError("the request has both a query and an update; send one of them")
    if updates and method != "POST":
        raise BadRequestError(
            "SPARQL Update must be sent with POST (as the update form parameter or with "
            f"Content-Type {SPARQL_UPDATE}), never with {method}"
        )
    if queries:
        _check_length(queries[0], "query", max_length)
        _refuse(params, _UPDATE_DATASET, "queries", "default-graph-uri / named-graph-uri")
        default, named = _dataset(params, _QUERY_DATASET)
        return SparqlRequest(Operation.QUERY, queries[0], default, named, fmt)
    if updates:
        _check_length(updates[0], "update", max_length)
        _refuse(params, _QUERY_DATASET, "updates", "using-graph-uri / using-named-graph-uri")
        default, named = _dataset(params, _UPDATE_DATASET)
        return SparqlRequest(Operation.UPDATE, updates[0], default, named, fmt)
    if method == "POST":
        raise BadRequestError("the POST has neither a query nor an update parameter")
    if any(name in _QUERY_DATASET for name, _ in params):
        raise BadRequestError("default-graph-uri / named-graph-uri need a query parameter")
    return SparqlRequest(Operation.DESCRIPTION, formats=fmt)


def _values(params: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def _dataset(
    params: Sequence[tuple[str, str]], names: tuple[str, str]
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    default = tuple(check_graph_iri(v, parameter=names[0]) for v in _values(params, names[0]))
    named = tuple(check_graph_iri(v, parameter=names[1]) for v in _values(params, names[1]))
    if not default and not named:
        return None, None
    return default, named


def _refuse(
    params: Sequence[tuple[str, str]], names: tuple[str, str], what: str, instead: str
) -> None:
    for name, _ in params:
        if name in names:
            raise BadRequestError(f"{name} does not apply to {what}; use {instead}")


def _decode_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestError(
            f"the request body is not valid UTF-8 (byte {error.start}); send UTF-8"
        ) from None


def _check_length(text: str, what: str, max_length: int) -> None:
    if len(text) > max_length:
        raise _too_long(what, max_length)


def _too_long(what: str, max_length: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the {what} is longer than {max_length:,} characters, this endpoint's limit"
    )
