"""Reading Turtle and N-Triples files into one rdflib graph, with where a syntax error is.

What pySHACL validates (:mod:`citygraph.validate`), what ``citygraph diff`` compares and what
``validate --store`` locates results in; a syntax error names the file, line and, for Turtle,
column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from rdflib import Graph
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax

from citygraph.errors import InputSyntaxError

__all__ = ["FORMATS", "expand", "load_graph"]

#: File suffixes read from directories, and the rdflib parser for each.
FORMATS: Final[Mapping[str, str]] = MappingProxyType({".ttl": "turtle", ".nt": "nt"})
_LINE_IN_MESSAGE: Final = re.compile(r"\bat line (\d+)\b")


def load_graph(paths: Sequence[Path]) -> Graph:
    """Parse Turtle (``.ttl``) and N-Triples (``.nt``) files into one graph.

    A directory stands for its ``*.ttl`` and ``*.nt`` files (recursively, sorted).

    Raises:
        InputSyntaxError: a file does not parse (with its path, 1-based line and, for Turtle,
            column), cannot be read or decoded, does not exist, or is not ``.ttl``/``.nt``.
    """
    graph = Graph()
    for path in expand(paths):
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise InputSyntaxError("not a Turtle (.ttl) or N-Triples (.nt) file", path=path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise InputSyntaxError(f"not UTF-8: {error.reason}", path=path) from error
        except OSError as error:
            raise InputSyntaxError(f"cannot read: {error.strerror}", path=path) from error
        try:
            graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
        except BadSyntax as error:
            raise _turtle_error(error, path) from error
        except ParserError as error:
            raise _ntriples_error(error, text, path) from error
    return graph


def expand(paths: Sequence[Path]) -> Iterator[Path]:
    """The files ``paths`` stand for: a directory for its ``*.ttl``/``*.nt`` (recursive, sorted),
    each file once.

    Raises:
        InputSyntaxError: a path does not exist.
    """
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS)
        elif path.exists():
            found = [path]
        else:
            raise InputSyntaxError("no such file or directory", path=path)
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                yield file


def _turtle_error(error: BadSyntax, path: Path) -> InputSyntaxError:
    # rdflib's message starts "at line N of <…>:"; the column comes from the offset it keeps.
    match = _LINE_IN_MESSAGE.search(str(error))
    line = int(match.group(1)) if match else None
    column = None
    offset = getattr(error, "_i", None)
    source = getattr(error, "_str", None)
    if isinstance(offset, int) and isinstance(source, bytes):
        before = source.decode("utf-8", errors="replace")[:offset]
        column = offset - (before.rfind("\n") + 1) + 1
    why = getattr(error, "_why", None)
    message = str(why) if why else str(error).splitlines()[0]
    return InputSyntaxError(message, path=path, line=line, column=column)


def _ntriples_error(error: ParserError, text: str, path: Path) -> InputSyntaxError:
    # rdflib's N-Triples parser does not say where: find the first line that fails on its own.
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            Graph().parse(data=line + "\n", format="nt")
        except ParserError as line_error:
            return InputSyntaxError(str(line_error), path=path, line=number)
    return InputSyntaxError(str(error), path=path)
