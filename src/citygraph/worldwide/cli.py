"""``citygraph import twins``: the click group the main CLI registers (thin: parse, call, print).

Exit codes: 0 imported (rows with problems are counted in the report, they do not fail the
import), 1 the new version has SHACL Violations and was not published, 2 nothing was written
(malformed file, no built store, unreadable input).

The examples are here, not in the commands' docstrings, which click prints as their help
(tests/worldwide/test_cli.py runs real imports):

>>> from click.testing import CliRunner
>>> result = CliRunner().invoke(import_group, ["twins", "--help"])
>>> result.exit_code
0
>>> print(result.output)
Usage: import twins [OPTIONS] CSV_FILES...
<BLANKLINE>
  Import Wikipedia twin-town lists (CSV) into graph:worldwide.
...
  --report FILE         Write the full import report (every problem row, match
...
>>> result = CliRunner().invoke(import_group, ["twins", "missing.csv"])
>>> result.exit_code, result.output.splitlines()[-1]
(2, "Error: Invalid value for 'CSV_FILES...': File 'missing.csv' does not exist.")
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from citygraph.cli import (
    announced_shapes_check,
    backend_options,
    chosen_backend,
    exit_not_conforming,
    publish_to,
    store_option,
)
from citygraph.errors import CitygraphError, DataNotConformingError
from citygraph.worldwide.importer import import_twins

__all__ = ["import_group"]

EXIT_ERROR = 2


@click.group("import")
def import_group() -> None:
    """Import external data sets into their own named graphs of the store.

    \b
    Example:
      citygraph import twins ../shared/datasets/wikipedia-twin-cities/twin_cities_geocoded.csv
    """


@import_group.command("twins")
@click.argument(
    "csv_files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@store_option
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full import report (every problem row, match rates, diff) as JSON here.",
)
@backend_options
def twins(
    csv_files: tuple[Path, ...],
    store_dir: Path,
    report_file: Path | None,
    backend: str | None,
    backend_update: str | None,
    backend_store: str | None,
) -> None:
    """Import Wikipedia twin-town lists (CSV) into graph:worldwide.

    Both layouts are read (city1,country1,city2,country2 and the geocoded one with
    lat/lng), detected from the header. Places are reconciled with GeoNames and with the
    curated places; pairs the curated data already has are left to it. A malformed file is
    rejected with its line number and nothing is written. The new version of the store is
    validated against shapes/ like a build, and a Violation stops it before it is published.
    With --backend, the new build (made in the store directory) is then published to that
    remote SPARQL store like `citygraph build --backend` does.

    \b
    Example:
      citygraph import twins ../shared/datasets/wikipedia-twin-cities/twin_cities_raw.csv \\
          --report var/worldwide-report.json
    """
    from citygraph.validate import repository_root

    check = announced_shapes_check(repository_root() / "shapes", quiet=False)
    try:
        remote = chosen_backend(backend, backend_update, backend_store)
        report = import_twins(store_dir, list(csv_files), validate=check)
        publish_to(remote, store_dir)
    except DataNotConformingError as error:
        exit_not_conforming(error)
    except CitygraphError as error:
        click.echo(f"citygraph: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    for line in report.summary():
        click.echo(line)
    if report_file is not None:
        report.write(str(report_file))
        click.echo(f"full report: {report_file}")
