"""The options the ``citygraph`` commands share (``--store``, ``--project``, ``--lang``, the
remote store's ``--backend…``), and the remote store they choose.

Used by the commands of :mod:`citygraph.cli`, :mod:`citygraph.cli_serve` and
:mod:`citygraph.worldwide.cli`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from citygraph.config import DEFAULT_STORE, store_from_env

if TYPE_CHECKING:
    from citygraph.engine.remote import Backend

__all__ = [
    "LANGUAGES",
    "backend_options",
    "chosen_backend",
    "lang_option",
    "project_option",
    "store_option",
]

#: ``--lang`` values and the language tags of the reports and pages.
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
