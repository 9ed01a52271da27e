"""A path with a trailing slash: redirected to its canonical form with a bounded address, or 404.

Starlette's own ``redirect_slashes`` answers ``/timeline/x/?from=…`` with a 307 whose
``Location`` is the request's whole URL: a 300 kB query string becomes a 300 kB header line no
client can read (found by ``make fuzz``, issue 9 §6). So the app turns it off
(``FastAPI(redirect_slashes=False)``) and its router's fallback is :func:`install`'s handler:

- ``GET`` or ``HEAD`` of ``/x/`` where ``/x`` is a route of that method, with no query string
  or only a known ``lang``: 308 to ``/x`` (relative, so no ``Host`` is echoed), keeping that
  ``lang``;
- anything else (another method, other parameters, a path longer than :data:`MAX_LOCATION`):
  the router's 404, which says what is missing (``error_handlers``).

A ``Location`` is therefore at most :data:`MAX_LOCATION` bytes plus ``?lang=`` and a language.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from citygraph.web import i18n

__all__ = ["MAX_LOCATION", "canonical_location", "install"]

#: The longest path a redirect carries (bytes, percent-encoded); longer ones get 404.
MAX_LOCATION = 2000


def canonical_location(app: FastAPI, scope: Scope) -> str | None:
    """Where a ``GET``/``HEAD`` with a trailing slash is redirected, or None (then 404)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = scope["path"]
    if (
        scope["type"] != "http"
        or scope["method"] not in ("GET", "HEAD")
        or path == "/"
        or not path.endswith("/")
        # an escaped slash (`/sparql%2F`) decodes to one, but stripping the raw path would
        # give the same URL back: a redirect to itself
        or not raw_path.endswith(b"/")
        or len(raw_path) > MAX_LOCATION
        # "//host" or "/\host" in a Location leaves this site (an open redirect)
        or raw_path[1:2] in (b"/", b"\\")
    ):
        return None
    query = scope["query_string"].decode("latin-1")
    if query and query not in {f"lang={code}" for code in i18n.LANGUAGES}:
        return None
    canonical = {**scope, "path": path.rstrip("/"), "raw_path": raw_path.rstrip(b"/")}
    if not canonical["path"] or not any(
        route.matches(canonical)[0] is Match.FULL for route in app.router.routes
    ):
        return None
    location = bytes(canonical["raw_path"]).decode("latin-1")
    return location + (f"?{query}" if query else "")


def install(app: FastAPI) -> None:
    """Make ``app``'s router answer unmatched paths as this module says (after its routes)."""
    app.router.redirect_slashes = False
    not_found = app.router.not_found

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        location = canonical_location(app, scope)
        if location is None:
            await not_found(scope, receive, send)
            return
        headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 308, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    app.router.default = fallback
