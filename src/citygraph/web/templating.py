"""The one template environment of the web layer, and where templates and static files are.

Every HTML (and XML) page is rendered by :func:`environment`: the linked-data pages
(:mod:`citygraph.web.linked_data.site`), the query UI, the map and the timeline
(:mod:`citygraph.web.frontend`). One set of rules for all of them:

- autoescaping on for ``.html`` and ``.xml`` templates and for any other template name
  (``default=True``: a template of an unknown kind is escaped, never trusted);
- :class:`jinja2.StrictUndefined`: a name a template uses but the page does not pass is an
  error in the tests, not an empty string on a live page.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

__all__ = ["STATIC", "TEMPLATES", "environment"]

_WEB = Path(__file__).resolve().parent
#: The Jinja templates (``frontend/`` holds those of the query UI, the map and the timeline).
TEMPLATES = _WEB / "templates"
#: The files served under ``/assets/`` (and the favicon and stylesheet of the pages).
STATIC = _WEB / "static"


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment, made on first use (no import-time side effects)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
