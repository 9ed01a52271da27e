"""How deeply a request nests, measured before any engine parses it (issue 9 §3).

pyoxigraph's parsers and query evaluation recurse: a few thousand nested ``{`` (about 2,200 on
an 8 MiB stack), ``(``, ``!`` or a few thousand chained ``OPTIONAL``/``UNION``/``BIND``/``||``
overflow the stack and kill the process (a query process, or the server worker for an update or
an upload). So every text is measured first, and refused with 400 above :data:`MAX_NESTING`.

The measure over-approximates what the engine builds. For SPARQL it walks the tokens of
:mod:`citygraph.web.sparql_text` (strings, IRIs and comments are skipped there as the engine
skips them: ``tests/web/test_gate_differential.py``) and keeps a stack of open brackets; the
nesting at a token is the sum, over the open brackets, of 1 plus the operators and keywords that
chain into a tree at that level so far (``UNION``, ``OPTIONAL``, ``MINUS``, ``BIND``, ``FILTER``,
``GRAPH``, ``SERVICE``, ``VALUES``, ``SELECT``, ``EXISTS``, and the characters
``| & + - * / ! ^ = < >``). Inside ``DATA { … }`` only brackets count: data is flat triples.
For RDF bodies (Graph Store) it is the bracket depth: ``[``/``(`` in Turtle-family formats,
``{``/``[`` in JSON-LD, elements in RDF/XML.

The limit sits far below every measured crash (``tests/web/test_nesting.py`` runs the engine, in
a child process, on the deepest text of each construct the gate accepts).

>>> sparql_nesting("SELECT * { { ?s ?p ?o } UNION { ?s ?p ?o } }")
6
"""

from __future__ import annotations

import re

from citygraph.web.problems import BadRequestError
from citygraph.web.sparql_text import decode_escapes, tokenize, tokenize_sparse

__all__ = ["MAX_NESTING", "check_rdf", "check_sparql", "rdf_nesting", "sparql_nesting"]

#: The deepest nesting accepted (about a quarter of the shallowest crash measured, 2,187 ``{``).
MAX_NESTING = 500

_OPEN = frozenset("{([")
_CLOSE = frozenset("})]")
_CHAIN_CHARACTERS = frozenset("|&+-*/!^=<>")
_CHAIN_WORDS = frozenset(
    {"UNION", "OPTIONAL", "MINUS", "BIND", "FILTER", "GRAPH", "SERVICE", "VALUES", "SELECT"}
    | {"EXISTS"}
)
_XML_HIDDEN = re.compile(rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)", re.DOTALL)
_XML_TAG = re.compile(rb"<([/?!]?)(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")


def sparql_nesting(text: str, *, stop_above: int | None = None) -> int:
    """The nesting of a SPARQL query or update (see the module docstring).

    With ``stop_above``, stops as soon as the nesting exceeds it and returns that value. A text
    with codepoint escapes is measured as written (as pyoxigraph reads it) and decoded (as the
    SPARQL grammar does), and the deeper reading counts.
    """
    deepest = _nesting(text, stop_above)
    decoded = decode_escapes(text)
    if decoded != text and (stop_above is None or deepest <= stop_above):
        deepest = max(deepest, _nesting(decoded, stop_above))
    return deepest


def _nesting(decoded: str, stop_above: int | None) -> int:
    if stop_above is not None and 1 + _raw_weight(decoded) <= stop_above:
        return 0  # even counting every candidate (and the top level), it is within the limit
    chains: list[int] = [0]
    data_depth: int | None = None  # the stack height at which DATA { … } began
    total = 1
    deepest = 1
    previous = ""
    for token in tokenize_sparse(decoded):
        text_ = token.text
        if token.kind == "blank":
            continue  # DATA # comment\n { is still a DATA block
        if text_ in _OPEN:
            if data_depth is None and previous == "DATA" and text_ == "{":
                data_depth = len(chains)
            chains.append(0)
            total += 1
        elif text_ in _CLOSE:
            if len(chains) > 1:
                total -= 1 + chains.pop()
            if data_depth is not None and len(chains) <= data_depth:
                data_depth = None
        elif data_depth is None and (
            (token.kind == "other" and text_ in _CHAIN_CHARACTERS)
            or (token.kind == "word" and text_.upper() in _CHAIN_WORDS)
        ):
            chains[-1] += 1
            total += 1
        deepest = max(deepest, total)
        if stop_above is not None and deepest > stop_above:
            return deepest
        previous = text_.upper() if token.kind == "word" else ""
    return deepest


def _raw_weight(text: str) -> int:
    """An upper bound of what the token walk counts: every bracket and operator character and
    every occurrence of a chaining keyword, wherever it is (``str.count`` runs in C)."""
    upper = text.upper()
    return (
        sum(text.count(c) for c in "{([")
        + sum(text.count(c) for c in _CHAIN_CHARACTERS)
        + sum(upper.count(word) for word in _CHAIN_WORDS)
    )


def check_sparql(text: str, *, what: str = "query", limit: int = MAX_NESTING) -> None:
    """Refuse a query or update nested deeper than ``limit``.

    Raises:
        BadRequestError: it is; the message says how deep and what the limit is.
    """
    depth = sparql_nesting(text, stop_above=limit)
    if depth > limit:
        raise BadRequestError(
            f"the {what} nests too deeply: more than {limit} levels of brackets, operators or "
            "chained UNION/OPTIONAL/MINUS/BIND/FILTER (a guard against deep nesting, which "
            "would crash the SPARQL engine); flatten it or split it into several requests"
        )


def rdf_nesting(body: bytes, media_type: str, *, stop_above: int | None = None) -> int:
    """The bracket (or element) depth of an RDF document in ``media_type``.

    Unknown media types measure 0 (the caller refuses them anyway).
    """
    if media_type in ("application/ld+json", "application/json"):
        return _json_nesting(body, stop_above)
    if media_type in ("application/rdf+xml", "application/xml", "text/xml"):
        return _xml_nesting(body, stop_above)
    if media_type in ("text/turtle", "application/n-triples", "application/trig", "text/n3"):
        return _turtle_nesting(body, stop_above)
    return 0


def check_rdf(body: bytes, media_type: str, *, limit: int = MAX_NESTING) -> None:
    """Refuse an RDF body nested deeper than ``limit``.

    Raises:
        BadRequestError: it is.
    """
    if rdf_nesting(body, media_type, stop_above=limit) > limit:
        raise BadRequestError(
            f"the {media_type} body nests too deeply: more than {limit} levels of brackets "
            "(a guard against deep nesting, which would crash the RDF parser); flatten it"
        )


def _json_nesting(body: bytes, stop_above: int | None) -> int:
    # JSON strings are "…" with backslash escapes, nothing else hides a bracket.
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        elif byte in (0x7D, 0x5D) and depth > 0:
            depth -= 1
    return deepest


def _xml_nesting(body: bytes, stop_above: int | None) -> int:
    # Comments and CDATA hide tags; a tag ends at a ">" outside quoted attribute values.
    depth = deepest = 0
    for match in _XML_TAG.finditer(_XML_HIDDEN.sub(b"", body)):
        if match.group(1) == b"/":
            depth = max(0, depth - 1)
        elif match.group(1) or match.group(2):
            continue  # <?…?>, <!DOCTYPE…>, <x/>
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
    return deepest


def _turtle_nesting(body: bytes, stop_above: int | None) -> int:
    # Turtle's strings, IRIs and comments are SPARQL's (Turtle does not decode \\u escapes
    # outside them, so the text is tokenized as it is).
    if stop_above is not None and body.count(b"[") + body.count(b"(") <= stop_above:
        return 0
    depth = deepest = 0
    for token in tokenize(body.decode("utf-8", "replace")):
        if token.text in ("[", "("):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        elif token.text in ("]", ")") and depth > 0:
            depth -= 1
    return deepest
