"""Helpers of the browser tests (a module, not conftest, so that tests can import them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import rdflib

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]


class PageLog:
    """What a page did besides rendering: its requests, failures and script errors."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.errors: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failures.append(f"{r.url}: {r.failure}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        page.on(
            "response",
            lambda r: self.failures.append(f"{r.url}: {r.status}") if r.status >= 400 else None,
        )


def select(server: str, query: str) -> list[dict[str, Any]]:
    """The bindings of a SELECT query, asked of the server's own endpoint."""
    response = httpx.post(
        server + "sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    response.raise_for_status()
    bindings: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return bindings


def data_graph() -> rdflib.Graph:
    """data/ as rdflib reads it: the expected values come from here, not from the server."""
    graph = rdflib.Graph()
    for path in sorted((ROOT / "data").glob("*.ttl")):
        graph.parse(path)
    return graph
