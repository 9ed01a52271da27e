"""Shared by the linked-data tests: constants, the test client, reading pages."""

from __future__ import annotations

import re
import warnings
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

with warnings.catch_warnings():
    # Starlette deprecates its test client's use of httpx; the client still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

__all__ = ["BASE", "REPO", "TestClient", "links_of", "text_of"]

REPO = Path(__file__).resolve().parents[2]
BASE = "https://w3id.org/citygraph/"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "link"):
            for name, value in attrs:
                if name == "href" and value:
                    self.links.append(value)


def links_of(page: str) -> list[str]:
    """Every ``href`` of ``<a>`` and ``<link>`` elements, in document order."""
    parser = _Links()
    parser.feed(page)
    return parser.links


def text_of(page: str) -> str:
    """The page's text with tags removed and whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", unescape(without_tags)).strip()
