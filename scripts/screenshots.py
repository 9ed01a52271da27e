"""Screenshots of citygraph's main pages into docs/screenshots/ (issue 4 §6).

Needs a running server (`make serve`) and the browser of scripts/browser.sh::

    .venv/bin/python scripts/screenshots.py                 # http://127.0.0.1:8000/
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8765/

Exit codes: 0 all shots taken, 1 a page failed to load or draw, 2 bad arguments.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def drawn(selector: str) -> Callable[[Page], None]:
    """Wait until the page's script marks ``selector`` as drawn (data-state="ready")."""

    def wait(page: Page) -> None:
        page.wait_for_selector(f"{selector}[data-state=ready]", timeout=60_000)

    return wait


def query_run(page: Page) -> None:
    """Run the Berlin partners example in the query UI and wait for its table."""
    page.locator(".yasgui .tabsList .tab", has_text="1 January 2025").click()
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    panel.locator(".yasr table.dataTable tbody tr").first.wait_for(timeout=60_000)
    panel.locator(".yasr").scroll_into_view_if_needed()
    page.mouse.wheel(0, -250)


def loaded(page: Page) -> None:
    page.wait_for_load_state("networkidle")


#: file name → (path on the server, how to know the page is ready)
SHOTS: dict[str, tuple[str, Callable[[Page], None]]] = {
    "home.png": ("", loaded),
    "map.png": ("map", drawn("#worldmap")),
    "map-berlin.png": ("map?city=de-berlin", drawn("#worldmap")),
    "timeline-berlin.png": ("timeline/de-berlin", drawn("#timeline")),
    "timeline-berlin-zh.png": ("timeline/de-berlin?lang=zh", drawn("#timeline")),
    "query-ui.png": ("sparql-ui", query_run),
    "city-berlin.png": ("doc/city/de-berlin", loaded),
    "partnership-beijing-berlin.png": ("doc/partnership/cn-beijing--de-berlin", loaded),
    "partnerships.png": ("partnerships", loaded),
}


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    base = argv[0] if argv else "http://127.0.0.1:8000/"
    base = base if base.endswith("/") else base + "/"
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        for name, (path, ready) in SHOTS.items():
            page = context.new_page()
            if "lang=" not in path:
                path += ("&" if "?" in path else "?") + "lang=en"
            response = page.goto(base + path)
            try:
                if response is None or response.status != 200:
                    raise RuntimeError(f"status {response.status if response else 'none'}")
                ready(page)
            except Exception as error:  # noqa: BLE001 -- report every page, then fail
                print(f"{name}: {base}{path}: {error}", file=sys.stderr)
                failed += 1
            else:
                page.screenshot(path=OUT / name)
                print(f"{OUT / name}")
            page.close()
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
