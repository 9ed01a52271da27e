"""How a ``citygraph`` command ends when it cannot do its work or the input does not conform.

Exit codes, for every command: 0 success (for ``validate``: the data conforms), 1 the input does
not conform (``validate``, ``build``, ``import``), 2 the command could not do its work (bad
arguments, a syntax error, a missing store), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from citygraph.errors import CitygraphError, DataNotConformingError

__all__ = ["EXIT_ERROR", "EXIT_NONCONFORMING", "EXIT_OK", "exit_not_conforming", "fail"]

EXIT_OK, EXIT_NONCONFORMING, EXIT_ERROR = 0, 1, 2


def fail(error: CitygraphError) -> NoReturn:
    """Say ``error`` in one line on stderr, and exit 2."""
    click.echo(f"citygraph: error: {error}", err=True)
    sys.exit(EXIT_ERROR)


def exit_not_conforming(error: DataNotConformingError) -> NoReturn:
    """Print the report of a build or import stopped by a Violation, and exit 1."""
    from citygraph.report import render

    click.echo(render(error.report, fmt="text", lang="en"), err=True, nl=False)
    click.echo(f"citygraph: {error}", err=True)
    sys.exit(EXIT_NONCONFORMING)
