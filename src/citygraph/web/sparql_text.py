"""A small SPARQL tokenizer: what the endpoint must know about a request before evaluating it.

pyoxigraph evaluates ``SERVICE`` and ``LOAD`` by fetching URLs, and it applies the union default
graph over any ``FROM`` clause; so before a query reaches the engine the endpoint needs its form,
whether it has a dataset clause, the endpoints its ``SERVICE`` clauses call and whether it loads
anything. This module finds those with a tokenizer (strings, IRIs, comments and prefixed names
are recognised, so a keyword inside them does not count). It fails closed: a ``SERVICE`` whose
endpoint it cannot resolve is reported as ``None``, which the endpoint refuses.

Codepoint escapes (``\\u0053ERVICE``): the SPARQL grammar (§19.2) decodes them before parsing;
pyoxigraph 0.5 does not (``\\u0046ROM`` is a syntax error to it, and ``\\u000A`` does not end a
comment). A reading that decodes and one that does not can each hide text from the other (a
decoded quote opens a string), so a text with escapes is read both ways: the ``SERVICE``
endpoints and ``LOAD`` of either reading count (fail closed), the form and dataset clause are
those of the engine's reading. ``tests/web/test_gate_differential.py`` compares this module
with the engine on generated queries.

>>> a = analyse('PREFIX e: <http://ex.org/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }', base_iri="http://b/")
>>> a.form, a.services
('SELECT', ('http://ex.org/sparql',))
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

__all__ = ["Analysis", "Token", "add_using", "analyse", "tokenize", "tokenize_sparse"]

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)

#: Keywords that need the whole text tokenized (``USING`` and ``WITH`` for dataset clauses);
#: a superset of their occurrences as tokens (not inside a longer name).
_INTERESTING = re.compile(r"(?<![\w:?$])(?:SERVICE|LOAD|FROM|USING|WITH)(?![\w:])", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_WS = r"\s+|\#[^\n\r]*"
_STRING = r"""\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*'"""
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_VAR = r"[?$]\w+"
_LANG = r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*"
_PNAME = r"(?:[^\W\d][\w.-]*)?:(?:[\w.:%-]|\\.)*"
_TOKEN = re.compile(
    rf"""
      (?P<ws>{_WS})
    | (?P<string>{_STRING})
    | (?P<iri>{_IRI})
    | (?P<var>{_VAR})
    | (?P<lang>{_LANG})
    | (?P<pname>{_PNAME})
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
#: The same tokens, with runs of those no bracket or operator check needs taken as one match
#: (``skip``): at every position the alternatives are tried in the order of :data:`_TOKEN`, so
#: both split a text into the same tokens. Single characters that are not brackets, operators
#: or letters are "boring" others.
_BORING = r"[^\w{}()\[\]|&+\-*/!^=<>\s]|\d"
_SPARSE = re.compile(
    rf"""
      (?P<blank>(?:{_WS})+)
    | (?P<skip>(?:{_WS}|{_STRING}|{_IRI}|{_VAR}|{_LANG}|{_PNAME}|{_BORING})+)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    """A token: its kind (``iri``, ``pname``, ``word``…), text and offset in the decoded text."""

    kind: str
    text: str
    start: int


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyse` found in a query or update."""

    form: str | None
    is_update: bool
    has_dataset_clause: bool
    services: tuple[str | None, ...]
    has_load: bool


def decode_escapes(text: str) -> str:
    """Replace ``\\uXXXX`` and ``\\UXXXXXXXX`` codepoint escapes by their characters."""
    if "\\u" not in text and "\\U" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(replace, text)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the tokens of ``text`` (already decoded), skipping whitespace and comments."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            yield Token(kind, match.group(), match.start())


def tokenize_sparse(text: str) -> Iterator[Token]:
    """Like :func:`tokenize`, but runs of whitespace, comments, strings, IRIs, variables,
    language tags, prefixed names, digits and punctuation other than brackets and operators
    come as one token of kind ``skip`` (``blank`` if only whitespace and comments): far fewer
    tokens for a bracket count over a large text."""
    for match in _SPARSE.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        yield Token(kind, match.group(), match.start())


def analyse(text: str, *, base_iri: str) -> Analysis:
    """Find the form, dataset clauses, ``SERVICE`` endpoints and ``LOAD`` in ``text``.

    Relative IRIs resolve against the text's ``BASE`` or else ``base_iri``.
    """
    raw = _analyse(text, base_iri)
    decoded = decode_escapes(text)
    if decoded == text:
        return raw
    spec = _analyse(decoded, base_iri)
    return Analysis(
        form=raw.form or spec.form,
        is_update=raw.is_update or spec.is_update,
        has_dataset_clause=raw.has_dataset_clause,
        services=tuple(dict.fromkeys(raw.services + spec.services)),
        has_load=raw.has_load or spec.has_load,
    )


def _analyse(decoded: str, base_iri: str) -> Analysis:
    # Most queries name none of these: then only the tokens up to the form keyword are needed.
    complete = _INTERESTING.search(decoded) is not None
    tokens: list[Token] = []
    for token in tokenize(decoded):
        tokens.append(token)
        if not complete and token.kind == "word":
            word = token.text.upper()
            if word in QUERY_FORMS or word in UPDATE_KEYWORDS:
                break
    prefixes: dict[str, str] = {}
    base = base_iri
    form: str | None = None
    dataset_clause = False
    load = False
    services: list[str | None] = []
    for i, token in enumerate(tokens):
        word = token.text.upper() if token.kind == "word" else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if word == "BASE" and after is not None and after.kind == "iri":
            base = urljoin(base, after.text[1:-1])
        elif word == "PREFIX" and after is not None and after.kind == "pname":
            target = tokens[i + 2] if i + 2 < len(tokens) else None
            if target is not None and target.kind == "iri":
                prefixes[after.text[:-1]] = urljoin(base, target.text[1:-1])
        elif form is None and (word in QUERY_FORMS or word in UPDATE_KEYWORDS):
            form = word
        if word in ("FROM", "USING", "WITH"):
            dataset_clause = True
        elif word == "LOAD":
            load = True
        elif word == "SERVICE":
            services.append(_service_endpoint(tokens, i + 1, prefixes, base))
    return Analysis(
        form=form,
        is_update=form in UPDATE_KEYWORDS,
        has_dataset_clause=dataset_clause,
        services=tuple(services),
        has_load=load,
    )


def _service_endpoint(
    tokens: Sequence[Token], at: int, prefixes: dict[str, str], base: str
) -> str | None:
    if at < len(tokens) and tokens[at].text.upper() == "SILENT":
        at += 1
    if at >= len(tokens):
        return None
    token = tokens[at]
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1])
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes and "\\" not in local and "%" not in local:
            return prefixes[prefix] + local
    return None


def add_using(update: str, default_graphs: Sequence[str], named_graphs: Sequence[str]) -> str:
    """Give every ``DELETE``/``INSERT … WHERE`` operation of ``update`` the protocol's dataset.

    SPARQL 1.1 Protocol §2.2.3: ``using-graph-uri`` and ``using-named-graph-uri`` act as
    ``USING`` and ``USING NAMED``. The IRIs must already be valid (``<…>`` is written around
    them). ``DELETE WHERE`` and ``… DATA`` operations take no dataset and are left alone.

    >>> add_using("INSERT { ?s a <http://c> } WHERE { ?s ?p ?o }", ["http://g"], [])
    'INSERT { ?s a <http://c> } USING <http://g> WHERE { ?s ?p ?o }'
    """
    clause = "".join(f"USING <{g}> " for g in default_graphs)
    clause += "".join(f"USING NAMED <{g}> " for g in named_graphs)
    text = decode_escapes(update)
    inserts: list[int] = []
    depth = 0
    previous = ""
    for token in tokenize(text):
        # Only a keyword token's text can be WHERE or DELETE (IRIs keep their <>, strings their
        # quotes, variables their ?, prefixed names their colon).
        word = token.text.upper()
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
        elif depth == 0 and word == "WHERE" and previous != "DELETE":
            # At the top level of an update, WHERE only follows a DELETE/INSERT template, or
            # DELETE in the DELETE WHERE shorthand, which takes no dataset.
            inserts.append(token.start)
        previous = word
    for position in reversed(inserts):
        text = text[:position] + clause + text[position:]
    return text
