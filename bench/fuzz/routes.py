"""The routes to fuzz, read from the app's own router (a new route is covered without a change)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Route", "app_routes", "fill", "harvest_links"]

PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")


@dataclass(frozen=True)
class Route:
    """A path template (``/timeline/{key}``), its parameter names and the methods it serves."""

    template: str
    params: tuple[str, ...]
    methods: frozenset[str]


def _walk(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


def app_routes(store: Path) -> list[Route]:
    """Every route of ``create_app``'s app (mounts such as ``/assets`` get a ``{path}``)."""
    from citygraph.config import Settings
    from citygraph.web.app import create_app

    app = create_app(Settings(store=store))
    merged: dict[str, set[str]] = {}
    for route in _walk(app.routes):
        path = getattr(route, "path", None)
        if path is None:
            continue
        methods = getattr(route, "methods", None)
        if methods is None:  # a mount: everything below it
            path = path.rstrip("/") + "/{path:path}"
            methods = {"GET", "HEAD"}
        merged.setdefault(path, set()).update(methods)
    return [
        Route(template=t, params=tuple(PARAM.findall(t)), methods=frozenset(m))
        for t, m in sorted(merged.items())
    ]


def fill(template: str, values: dict[str, str]) -> str:
    """The template with each ``{name}`` (or ``{name:path}``) replaced by ``values[name]``."""
    return PARAM.sub(lambda m: values[m.group(1)], template)


HREF = re.compile(rb"""(?:href|src|action)=["']([^"'#]+)["']|<loc>([^<]+)</loc>""")


def harvest_links(body: bytes, base: str) -> set[str]:
    """Same-site paths (with their query strings) linked from an HTML page or a sitemap."""
    found = set()
    for match in HREF.finditer(body):
        link = (match.group(1) or match.group(2)).decode("utf-8", "replace").strip()
        link = link.replace("&amp;", "&")
        if link.startswith(base):
            link = link[len(base.rstrip("/")) :]
        if link.startswith("https://w3id.org/citygraph/"):
            link = link[len("https://w3id.org/citygraph") :]
        if link.startswith("/") and not link.startswith("//") and link.isascii():
            found.add(link)
    return found
