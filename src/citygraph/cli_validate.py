"""``citygraph validate`` and ``citygraph diff``: what the data says against the shapes, and
what a change changes in the graph."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from citygraph.cli_exits import EXIT_NONCONFORMING, fail
from citygraph.cli_options import (
    LANGUAGES,
    backend_options,
    chosen_backend,
    lang_option,
    project_option,
)
from citygraph.errors import CitygraphError

if TYPE_CHECKING:
    from citygraph.project import Project

__all__ = ["diff", "validate"]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Validate everything in this built store (curated and worldwide) instead of files.",
)
@lang_option("Language of the messages in the report.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "turtle", "json", "github", "junit", "sarif"]),
    default="text",
    show_default=True,
    help="Report format: readable text grouped by node, a SHACL report in Turtle, JSON, or for"
    " CI: GitHub annotations, JUnit XML, SARIF 2.1.0.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning", "info"]),
    default="violation",
    show_default=True,
    help="The lowest severity that makes the data not conform (exit 1).",
)
@click.option(
    "--changed-only",
    is_flag=True,
    help="Validate only the nodes written in files changed since --base, and the nodes that"
    " refer to them (everything, if shapes/ or ontology/ changed).",
)
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    help="The git revision --changed-only compares with.",
)
@project_option
@backend_options
def validate(
    paths: tuple[Path, ...],
    store_dir: Path | None,
    lang: str,
    fmt: str,
    fail_on: str,
    changed_only: bool,
    base: str,
    project_dir: Path | None,
    backend: str | None,
    backend_update: str | None,
    backend_store: str | None,
) -> None:
    """Validate the ontology, vocabularies and data against the shapes.

    PATHS are Turtle files or directories; without them, the project's ontology/, its
    vocabularies and data/ are validated (with pySHACL, the reference). The project is
    --project DIR, else the checkout around the working directory, else the copies installed
    with citygraph; stderr says which. Every result names the file, line and column where its
    node (or the offending triple) is written (for --store: in the inputs the build recorded,
    if unchanged since). With --store, the whole
    built store is validated with citygraph's SHACL-to-SPARQL engine, which gives pySHACL's
    results at the scale of the worldwide layer. Exit 0 conforms, 1 does not, 2 could not
    validate.

    \b
    Example:
      citygraph validate --lang de
      citygraph validate tests/data/shapes/Partnership-partner/fail.ttl --format json
      citygraph validate --store var/store --fail-on violation
      citygraph validate --store var/store --backend http://127.0.0.1:7878/query
      citygraph validate --changed-only --base origin/main --format github
    """
    from citygraph import fastshacl, store
    from citygraph.project import Project
    from citygraph.report import Format, render
    from citygraph.sizing import fits_in_memory
    from citygraph.store_sources import locate_in_build_inputs
    from citygraph.validate import Severity, default_inputs, validate_paths

    try:
        project = Project.find(project_dir)
        click.echo(f"citygraph: {project.describe()}", err=True)
        root, shapes, vocab = project.root, project.shapes, project.vocabulary_files()
        if store_dir is not None and paths:
            raise click.UsageError("give either PATHs or --store, not both")
        focus = _changed_focus(project, list(paths), base) if changed_only else None
        remote = chosen_backend(backend, backend_update, backend_store)
        if store_dir is not None and remote is not None:
            # What the remote store serves, read into memory (docs/backends.md), if it is of
            # this citygraph's build format (citygraph.build_format).
            from citygraph.engine.builds import check_served_format
            from citygraph.engine.remote_publish import REQUEST_TIMEOUT, download

            check_served_format(remote, timeout=REQUEST_TIMEOUT)  # as serve does
            target = download(remote)
            report = fastshacl.validate_store(target, shapes_dir=shapes, copy=False, focus=focus)
        elif store_dir is not None:
            target, built = store.open_current(store_dir)
            report = fastshacl.validate_store(
                target, shapes_dir=shapes, copy=fits_in_memory(len(target)), focus=focus
            )
            report = locate_in_build_inputs(report, built)
        else:
            inputs = list(paths) if paths else default_inputs(root)
            report = validate_paths(
                inputs, shapes_dir=shapes, vocab=vocab if paths else (), focus=focus
            )
    except CitygraphError as error:
        fail(error)
    gate = Severity[fail_on.upper()]
    click.echo(render(report, fmt=cast(Format, fmt), lang=LANGUAGES[lang], fail_on=gate), nl=False)
    if not report.conforms(gate):
        sys.exit(EXIT_NONCONFORMING)


def _changed_focus(project: Project, paths: list[Path], base: str) -> set[str] | None:
    """The IRIs ``--changed-only`` validates, or None (everything) when shapes or the
    ontology changed; says on stderr what it found."""
    from citygraph.diff import changed_nodes

    model = [project.shapes, project.root / "ontology"]
    files, nodes = changed_nodes([*(paths or [project.data]), *model], base)
    if any(folder in f.parents for f in files for folder in model):
        click.echo(
            "citygraph: --changed-only: shapes or ontology changed, validating all", err=True
        )
        return None
    click.echo(
        f"citygraph: --changed-only: {len(nodes):,} nodes in {len(files):,} files changed since"
        f" {base}, and the nodes that refer to them",
        err=True,
    )
    return nodes


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    help="The git revision to compare the working tree's files with.",
)
@click.option(
    "--store",
    "stores",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Compare two built stores instead: --store A --store B.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Text for people, JSON for tools, Markdown for a pull-request comment.",
)
@lang_option("Language of the report (names of classes and properties from the ontology).")
@project_option
def diff(
    paths: tuple[Path, ...],
    base: str,
    stores: tuple[Path, ...],
    fmt: str,
    lang: str,
    project_dir: Path | None,
) -> None:
    """Show what a change changes in the graph: things added, removed or changed.

    Compares the graph of PATHS (Turtle files or directories; default: the project's data/)
    at git revision --base with the working tree, or two built stores with --store A --store B.
    Per thing (an IRI): added, removed, or which values changed, were added or dropped (a
    corrected date, a new source, a status change); blank nodes are compared by content.
    Exit 0 whatever differs; 2 when the comparison cannot be made.

    \b
    Example:
      citygraph diff --base origin/main --format markdown
      citygraph diff data/berlin.ttl --base HEAD~1 --lang de
      citygraph diff --store var/old-store --store var/store --format json
    """
    from citygraph.diff import compare, graph_at_revision, graph_of_files, graph_of_store
    from citygraph.diff_report import DiffFormat, Labels, render_diff
    from citygraph.project import Project

    try:
        project = Project.find(project_dir)
        click.echo(f"citygraph: {project.describe()}", err=True)
        if stores:
            if len(stores) != 2 or paths:
                raise click.UsageError("give --store twice (A and B), without PATHs")
            old, new = graph_of_store(stores[0]), graph_of_store(stores[1])
            sides = (str(stores[0]), str(stores[1]))
        else:
            inputs = list(paths) or [project.data]
            old, new = graph_at_revision(inputs, base), graph_of_files(inputs)
            sides = (base, "working tree")
        labels = Labels(graph_of_files(project.vocabulary_files()))
    except CitygraphError as error:
        fail(error)
    text = render_diff(
        compare(old, new),
        fmt=cast(DiffFormat, fmt),
        lang=LANGUAGES[lang],
        labels=labels,
        base=sides[0],
        target=sides[1],
    )
    click.echo(text, nl=False)
