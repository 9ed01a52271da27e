"""The ``citygraph`` command line: thin click commands over the library.

Exit codes, for every command: 0 success (for ``validate``: the data conforms), 1 the input does
not conform (``validate``, ``build``), 2 the command could not do its work (bad arguments, a
syntax error, a missing store).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

import click

from citygraph import __version__
from citygraph.config import DEFAULT_STORE, store_from_env
from citygraph.errors import CitygraphError, DataNotConformingError

if TYPE_CHECKING:
    import pyoxigraph as ox

    from citygraph.engine.remote import Backend
    from citygraph.project import Project

__all__ = [
    "announced_shapes_check",
    "backend_options",
    "chosen_backend",
    "exit_not_conforming",
    "main",
    "publish_to",
    "store_option",
]

EXIT_OK, EXIT_NONCONFORMING, EXIT_ERROR = 0, 1, 2
LANGUAGES = {"en": "en", "de": "de", "zh": "zh-Hans", "zh-Hans": "zh-Hans"}


def _store_or_default(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    return value if value is not None else store_from_env()


def lang_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--lang en|de|zh|zh-Hans`` (default en), with ``help_text``."""
    return click.option(
        "--lang",
        type=click.Choice(sorted(LANGUAGES)),
        default="en",
        show_default=True,
        help=help_text,
    )


project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Use the inputs (ontology/, data/, shapes/, queries/) of this directory instead of"
    " the working tree's (or, outside a checkout, the copies installed with citygraph).",
)

store_option = click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_store_or_default,
    show_default=f"$CITYGRAPH_STORE, else {DEFAULT_STORE}",
    help="Directory of the on-disk store (made by `citygraph build`).",
)


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--backend QUERY_URL [--backend-update URL] [--backend-store URL]`` (else the
    ``CITYGRAPH_BACKEND…`` settings): a remote SPARQL store (docs/backends.md)."""
    for name, metavar, text in reversed(_BACKEND_OPTIONS):
        command = click.option(
            "--" + name.replace("_", "-"), name, default=None, metavar=metavar, help=text
        )(command)
    return command


_BACKEND_OPTIONS = (
    (
        "backend",
        "QUERY_URL",
        "SPARQL 1.1 query endpoint of a remote store to use instead of the embedded one "
        "(else $CITYGRAPH_BACKEND).",
    ),
    ("backend_update", "URL", "Its SPARQL Update endpoint (else the query URL)."),
    ("backend_store", "URL", "Its Graph Store Protocol endpoint (needed to publish to it)."),
)


def chosen_backend(
    backend: str | None, backend_update: str | None, backend_store: str | None
) -> Backend | None:
    """The remote store the options (else the environment's settings) choose, or ``None``.

    Raises:
        SettingError: a URL is not http(s), or update/store URLs without a query URL.
    """
    from citygraph.config import Settings
    from citygraph.engine.remote import backend_of

    given = {"backend": backend, "backend_update": backend_update, "backend_store": backend_store}
    settings = Settings.from_env(None, **{k: v for k, v in given.items() if v is not None})
    return backend_of(settings) if settings.backend else None


def publish_to(backend: Backend | None, store_dir: Path) -> None:
    """Publish the current build of ``store_dir`` to ``backend`` (if any) and say so.

    Raises:
        BackendError: the store refused it (it keeps serving the previous build).
    """
    if backend is None:
        return
    from citygraph.build import LOCK_TIMEOUT
    from citygraph.engine.remote_publish import publish_build
    from citygraph.store import current_build, write_lock

    with write_lock(store_dir, timeout=LOCK_TIMEOUT):  # one publisher at a time, as writes
        done = publish_build(current_build(store_dir), backend)
    click.echo(
        f"published {done.version} to {backend.query}: {done.quads:,} quads in "
        f"{len(done.graphs)} graphs (upload {done.upload_seconds:.1f} s, switch "
        f"{done.switch_seconds:.1f} s)"
    )


def _fail(error: CitygraphError) -> NoReturn:
    click.echo(f"citygraph: error: {error}", err=True)
    sys.exit(EXIT_ERROR)


def exit_not_conforming(error: DataNotConformingError) -> NoReturn:
    """Print the report of a build or import stopped by a Violation, and exit 1."""
    from citygraph.report import render

    click.echo(render(error.report, fmt="text", lang="en"), err=True, nl=False)
    click.echo(f"citygraph: {error}", err=True)
    sys.exit(EXIT_NONCONFORMING)


def announced_shapes_check(shapes_dir: Path, *, quiet: bool) -> Callable[[ox.Store], None]:
    """:func:`citygraph.build.shapes_check`, saying on stderr what it validates."""
    from citygraph.build import shapes_check

    check = shapes_check(shapes_dir)

    def announced(target: ox.Store) -> None:
        if not quiet:
            click.echo(f"validating {len(target):,} quads against {shapes_dir.name}/ …", err=True)
        check(target)

    return announced


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="citygraph")
def cli() -> None:
    """citygraph: the linked-open-data knowledge graph of municipal partnerships.

    \b
    Example:
      citygraph build && citygraph query "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    """


@cli.command()
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
            # What the remote store serves, read into memory (docs/backends.md).
            from citygraph.engine.remote_publish import download

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
        _fail(error)
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


@cli.command()
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
        _fail(error)
    text = render_diff(
        compare(old, new),
        fmt=cast(DiffFormat, fmt),
        lang=LANGUAGES[lang],
        labels=labels,
        base=sides[0],
        target=sides[1],
    )
    click.echo(text, nl=False)


@cli.command()
@store_option
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@project_option
@backend_options
def build(
    store_dir: Path,
    quiet: bool,
    project_dir: Path | None,
    backend: str | None,
    backend_update: str | None,
    backend_store: str | None,
) -> None:
    """Parse, load, derive and validate the data into the on-disk store.

    Everything that would be served (curated data, derived links, an imported worldwide layer)
    is validated against shapes/ before it is published; a Violation stops the build. The new
    store is published only when everything succeeded: a failed or interrupted build
    leaves the previous store intact and served.

    With --backend (and --backend-store), the validated build is then published to that
    remote SPARQL store, whose readers see the old build until one update switches to the new
    one (docs/backends.md); the store directory keeps the local copy it was built in.

    \b
    Example:
      citygraph build --store var/store
      citygraph build --backend http://127.0.0.1:7878/query \\
          --backend-update http://127.0.0.1:7878/update --backend-store http://127.0.0.1:7878/store
    """
    from citygraph.build import build_store, default_build_inputs
    from citygraph.project import Project

    try:
        project = Project.find(project_dir)
        remote = chosen_backend(backend, backend_update, backend_store)
    except CitygraphError as error:
        _fail(error)
    root = project.root
    if not quiet:
        click.echo(f"citygraph: {project.describe()}", err=True)

    def progress(what: str, count: int) -> None:
        if not quiet:
            click.echo(f"  loaded {count:>12,} quads from {what}", err=True)

    try:
        result = build_store(
            store_dir,
            default_build_inputs(root),
            validate=announced_shapes_check(root / "shapes", quiet=quiet),
            progress=progress,
        )
    except DataNotConformingError as error:
        exit_not_conforming(error)
    except CitygraphError as error:
        _fail(error)
    total = sum(result.quads_per_graph.values())
    click.echo(f"built {result.build.version}: {total:,} quads in {result.seconds:.1f} s")
    where = "in memory" if result.in_memory else "on disk"
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.steps.items())
    click.echo(f"  assembled {where}: {steps}")
    for graph, count in result.quads_per_graph.items():
        click.echo(f"  {count:>10,}  {graph}")
    click.echo(f"store: {store_dir.resolve()}")
    try:
        publish_to(remote, store_dir)
    except CitygraphError as error:
        _fail(error)
    if remote is not None:
        click.echo(f"serve it:  citygraph serve --backend {remote.query}")
        return
    click.echo(
        f'query it:  citygraph query --store {store_dir} "SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10"'
    )
    click.echo(f"serve it:  citygraph serve --store {store_dir}")


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
        _fail(error)


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
        _fail(error)
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

    Usage errors are one line on stderr and exit 2, never a traceback.
    """
    _register_optional_commands()
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("citygraph: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        if isinstance(error, click.UsageError):
            command = error.ctx.command_path if error.ctx else "citygraph"
            click.echo(
                f"citygraph: error: {error.format_message()} (see '{command} --help')", err=True
            )
        else:
            error.show()
        sys.exit(error.exit_code)
