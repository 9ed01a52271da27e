"""The HTML answer to a browser that opens the SPARQL service without a query.

The default is a minimal page with a form that GETs ``/sparql`` (used by the endpoint alone, as
in its protocol tests); the app passes the YASGUI query UI (``web/frontend.py``) instead.
"""

from __future__ import annotations

from html import escape
from typing import Protocol

__all__ = ["QueryPageRenderer", "render_query_page"]


class QueryPageRenderer(Protocol):
    """Renders the HTML page for a browser's GET of the service without a query."""

    def __call__(
        self,
        *,
        endpoint: str,
        description_link: str,
        language: str = "en",
        languages: list[dict[str, str]] | None = None,
    ) -> str: ...


_EXAMPLE = """PREFIX cg: <https://w3id.org/citygraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?partnership ?place WHERE {
  ?partnership cg:partner ?place .
} LIMIT 10"""


def render_query_page(
    *,
    endpoint: str,
    description_link: str,
    language: str = "en",
    languages: list[dict[str, str]] | None = None,
) -> str:
    """Return the page (UTF-8 text) for the endpoint at ``endpoint``; this minimal page is in
    English whatever ``language`` asks (the query UI of the app is not)."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>citygraph SPARQL endpoint</title></head>
<body>
<h1>citygraph SPARQL endpoint</h1>
<p>SPARQL 1.1 endpoint at <code>{escape(endpoint)}</code>.
<a href="{escape(description_link)}">Service description (Turtle)</a>.</p>
<form method="get" action="{escape(endpoint)}">
<textarea name="query" rows="12" cols="80">{escape(_EXAMPLE)}</textarea><br>
<select name="format">
<option value="json">SPARQL JSON</option><option value="xml">SPARQL XML</option>
<option value="csv">CSV</option><option value="tsv">TSV</option>
<option value="turtle">Turtle (CONSTRUCT/DESCRIBE)</option>
</select>
<button type="submit">Run</button>
</form>
</body>
</html>
"""
