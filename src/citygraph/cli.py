"""The ``citygraph`` command line: thin click commands over the library.

The group, ``query`` and ``stats`` live here; ``validate`` and ``diff`` in
:mod:`citygraph.cli_validate`, ``build`` in :mod:`citygraph.cli_build`, ``serve`` in
:mod:`citygraph.cli_serve`, ``import`` in :mod:`citygraph.worldwide.cli`; the options they share
in :mod:`citygraph.cli_options`, the exit codes in :mod:`citygraph.cli_exits` (0 success, 1 the
input does not conform, 2 the command could not do its work).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from citygraph import __version__
from citygraph.cli_build import announced_shapes_check, build, publish_to
from citygraph.cli_exits import EXIT_ERROR, exit_not_conforming, fail
from citygraph.cli_options import backend_options, chosen_backend, store_option
from citygraph.cli_validate import diff, validate
from citygraph.errors import CitygraphError

# The options and steps the other front ends (cli_serve, worldwide.cli) take from here.
__all__ = [
    "announced_shapes_check",
    "backend_options",
    "chosen_backend",
    "cli",
    "exit_not_conforming",
    "main",
    "publish_to",
    "store_option",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="citygraph")
def cli() -> None:
    """citygraph: the linked-open-data knowledge graph of municipal partnerships.

    \b
    Example:
      citygraph build && citygraph query "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    """


for _command in (validate, diff, build):
    cli.add_command(_command)


@cli.command()
@click.argument("sparql", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the query from a file (e.g. one of queries/*.rq).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "turtle"]),
    default="table",
    show_default=True,
    help="Output format (turtle for CONSTRUCT/DESCRIBE).",
)
@store_option
def query(sparql: str | None, query_file: Path | None, fmt: str, store_dir: Path) -> None:
    """Run a SPARQL query against the store (default graph: the union of all graphs).

    \b
    Example:
      citygraph query "SELECT ?p WHERE { ?p a <https://w3id.org/citygraph/ontology#Partnership> }"
      citygraph query -f queries/berlin-partners.rq --format csv
    """
    from citygraph import query as q
    from citygraph import store

    if (sparql is None) == (query_file is None):
        raise click.UsageError("give either a SPARQL query or -f FILE, not both or neither")
    text = query_file.read_text(encoding="utf-8") if query_file else str(sparql)
    try:
        target, _ = store.open_current(store_dir)
        click.echo(q.format_result(q.run_query(target, text), fmt), nl=False)
    except CitygraphError as error:
        fail(error)


@cli.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(store_dir: Path, as_json: bool) -> None:
    """Show triples (all, and per graph), entities, instances per class and links per target.

    \b
    Example:
      citygraph stats --store var/store
    """
    from citygraph import store
    from citygraph.query import term_text
    from citygraph.stats import LINK_SETS, store_stats

    try:
        target, build = store.open_current(store_dir)
    except CitygraphError as error:
        fail(error)
    result = store_stats(target)
    links = {link.label: result.links[link.name] for link in LINK_SETS}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "version": build.version,
                    "triples": result.triples,
                    "triples_per_graph": result.quads_per_graph,
                    "instances_per_class": result.instances_per_class,
                    "entities": result.entities,
                    "links_per_target": links,
                },
                indent=2,
            )
        )
        return
    click.echo(f"store {store_dir} (version {build.version})")
    click.echo(f"\n{result.triples:,} distinct triples, {result.entities:,} entities")
    for title, counts in (
        ("triples per graph", result.quads_per_graph),
        ("instances per class", result.instances_per_class),
        ("links out per target", links),
    ):
        click.echo(f"\n{title}:")
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            click.echo(f"  {count:>10,}  {term_text(_iri(key), compact=True)}")


def _iri(value: str) -> object:
    import pyoxigraph as ox

    return ox.NamedNode(value) if ":" in value else value


def _register_optional_commands() -> None:
    """Commands that live beside the web and import layers (they import heavier packages)."""
    from citygraph.cli_serve import serve
    from citygraph.worldwide.cli import import_group

    cli.add_command(serve)
    cli.add_command(import_group)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``citygraph`` console script.

    Usage errors, and errors a command reports through click, are one line on stderr and exit
    2 (:data:`~citygraph.cli_exits.EXIT_ERROR`), never a traceback.
    """
    _register_optional_commands()
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("citygraph: aborted", err=True)
        sys.exit(130)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "citygraph"
        click.echo(f"citygraph: error: {error.format_message()} (see '{command} --help')", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        # serve's missing store: click would say "Error: …" and exit 1, unlike every other
        # command's error (2).
        click.echo(f"citygraph: error: {error.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
