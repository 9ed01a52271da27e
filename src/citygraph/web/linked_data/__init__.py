"""Linked data for people and machines (issue 4): dereferenceable IRIs, pages, the dataset.

Wire it into an app with one call (after the app is created, before it serves)::

    linked_data.install(app, settings)

which stores a :class:`~citygraph.web.linked_data.site.Site` on ``app.state.linked_data`` and
includes :data:`~citygraph.web.linked_data.routes.router`. Routes: ``/``, ``/id/…`` (303),
``/doc/…``, ``/vocab/…``, ``/ontology``, ``/shapes``, ``/dataset``, ``/.well-known/void``,
``/dumps/…``, ``/sitemap.xml``, ``/partnerships``, ``/places``, ``/sources``,
``/static/css/citygraph.css``. See docs/linked-data.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from citygraph.config import Settings
from citygraph.engine.builds import CurrentLink
from citygraph.project import Project
from citygraph.web.linked_data.routes import reader_for, router
from citygraph.web.linked_data.site import Site

__all__ = ["Site", "default_shapes_dir", "install", "reader_for", "router"]


def default_shapes_dir() -> Path | None:
    """The ``shapes/`` of the project's inputs (:class:`citygraph.project.Project`), if any."""
    candidate = Project.find().shapes
    return candidate if candidate.is_dir() else None


def install(
    app: FastAPI,
    settings: Settings,
    *,
    shapes_dir: Path | None = None,
    link: CurrentLink | None = None,
) -> Site:
    """Add the linked-data routes to ``app``; ``shapes_dir`` defaults to the checkout's;
    ``link``: the store's ``current`` link shared with the endpoint's query pool.

    Nothing is opened here: the store's current build is opened on the first request.
    """
    site = Site(settings, shapes_dir=shapes_dir or default_shapes_dir(), link=link)
    app.state.linked_data = site
    app.include_router(router)
    return site
