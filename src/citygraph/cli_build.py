"""``citygraph build``, and the steps it shares with ``citygraph import``: validating before
publishing (:func:`announced_shapes_check`), the report of a Violation
(:func:`~citygraph.cli_exits.exit_not_conforming`) and publishing to a remote store
(:func:`publish_to`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from citygraph.cli_exits import exit_not_conforming, fail
from citygraph.cli_options import backend_options, chosen_backend, project_option, store_option
from citygraph.errors import CitygraphError, DataNotConformingError

if TYPE_CHECKING:
    import pyoxigraph as ox

    from citygraph.engine.remote import Backend

__all__ = ["announced_shapes_check", "build", "publish_to"]


def publish_to(backend: Backend | None, store_dir: Path) -> None:
    """Publish the current build of ``store_dir`` to ``backend`` (if any) and say so.

    Raises:
        BackendError: the store refused it (it keeps serving the previous build; a
            :class:`~citygraph.engine.remote_switch.HalfSwitchedError` says it may not).
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


def announced_shapes_check(shapes_dir: Path, *, quiet: bool) -> Callable[[ox.Store], None]:
    """:func:`citygraph.build.shapes_check`, saying on stderr what it validates."""
    from citygraph.build import shapes_check

    check = shapes_check(shapes_dir)

    def announced(target: ox.Store) -> None:
        if not quiet:
            click.echo(f"validating {len(target):,} quads against {shapes_dir.name}/ …", err=True)
        check(target)

    return announced


@click.command()
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
        fail(error)
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
        fail(error)
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
        fail(error)
    if remote is not None:
        click.echo(f"serve it:  citygraph serve --backend {remote.query}")
        return
    click.echo(
        f'query it:  citygraph query --store {store_dir} "SELECT * WHERE {{ ?s ?p ?o }} LIMIT 10"'
    )
    click.echo(f"serve it:  citygraph serve --store {store_dir}")
