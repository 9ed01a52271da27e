"""axe-core on every kind of page, in each language, at a phone's and a desktop's width, and no
page wider than a phone (issue 13 §4).

axe-core comes from npm (frontend/package.json, installed by scripts/frontend.sh); it is injected
into each page as it is, and its serious and critical violations fail the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .support import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = 390, 1280

#: One page of every kind.
PAGES = {
    "home": "",
    "partnerships": "partnerships",
    "places": "places",
    "sources": "sources",
    "search": "search?q=berlin",
    "place": "doc/city/de-berlin",
    "partnership": "doc/partnership/cn-beijing--de-berlin",
    "agreement": "doc/agreement/cn-beijing--de-east-berlin-1988-05-05-agreement",
    "source": "doc/source/berlin-de-beijing-de",
    "concept": "vocab/theme/sport",
    "dataset": "dataset",
    "ontology": "ontology",
    "error": "timeline/zz",
    "map": "map",
    "timeline": "timeline/de-berlin",
    "query": "sparql-ui",
}


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": request.param, "height": 844})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/frontend.sh")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["en", "de", "zh"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_no_serious_accessibility_violations(
    sized_page: Page, server: str, kind: str, lang: str
) -> None:
    path = PAGES[kind]
    sized_page.goto(f"{server}{path}{'&' if '?' in path else '?'}lang={lang}")
    sized_page.wait_for_load_state("networkidle")
    assert serious_violations(sized_page) == []
    width = sized_page.viewport_size["width"] if sized_page.viewport_size else 0
    assert sized_page.evaluate("document.documentElement.scrollWidth") <= width
