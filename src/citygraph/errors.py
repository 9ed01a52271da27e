"""Domain exceptions. No HTTP here: the web layer maps these to statuses in one place."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from citygraph.shacl.model import ValidationReport

__all__ = [
    "BuildError",
    "BuildFormatError",
    "CitygraphError",
    "DataNotConformingError",
    "InputSyntaxError",
    "QueryError",
    "StoreBusyError",
    "StoreNotFoundError",
]


class CitygraphError(Exception):
    """Base class of every error citygraph reports to a user."""


class InputSyntaxError(CitygraphError):
    """An RDF or SPARQL input could not be parsed.

    Carries the file (if any), the 1-based line and column (if known) and the parser's message,
    so a report can say exactly where the problem is.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class StoreNotFoundError(CitygraphError):
    """There is no built store at the given directory."""


class BuildFormatError(StoreNotFoundError):
    """The build was written in another format than this citygraph reads, or records none (a
    build from before formats were recorded): it is refused, never served as it is
    (:mod:`citygraph.build_format`). Carries what was ``found`` (``None``: no format) and what
    is ``expected``."""

    def __init__(self, message: str, *, found: object, expected: int) -> None:
        self.found = found
        self.expected = expected
        super().__init__(message)


class BuildError(CitygraphError):
    """The build stopped; the previous store is left as it was."""


class DataNotConformingError(CitygraphError):
    """A build or import found a SHACL Violation; nothing was published. Carries the report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        violations = sum(1 for r in report.results if r.severity.name == "VIOLATION")
        super().__init__(
            f"the data does not conform ({violations:,} Violations); the store was not changed"
        )


class QueryError(CitygraphError):
    """A SPARQL query or update was rejected by the engine (syntax or evaluation)."""


class StoreBusyError(CitygraphError):
    """Another build or write held the store's write lock for longer than the timeout."""
