"""Screenshots of every kind of citygraph page, in each language, at a desktop's and a phone's
width, into docs/screenshots/ (issue 13): ``{kind}-{lang}-{desktop|phone}.png``.

One command, which builds the store, starts a server on a free port and stops it afterwards::

    make screenshots

or against a server that is already running (the browser of scripts/browser.sh)::

    .venv/bin/python scripts/screenshots.py                 # http://127.0.0.1:8000/
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8765/
    .venv/bin/python scripts/screenshots.py --store var/store   # start `citygraph serve` on it

Exit codes: 0 all shots taken, 1 a page failed to load or draw, 2 bad arguments.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
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
LANGUAGES = ("en", "de", "zh")
#: name -> viewport (a desktop, and a phone 390 px wide as in issue 13 §4)
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def drawn(selector: str) -> Callable[[Page], None]:
    """Wait until the page's script marks ``selector`` as drawn (data-state="ready")."""

    def wait(page: Page) -> None:
        page.wait_for_selector(f"{selector}[data-state=ready]", timeout=60_000)

    return wait


def query_run(page: Page) -> None:
    """Run the Berlin partners example in the query UI and wait for its table."""
    page.locator("#example-menu").select_option("berlin-partners-2025-01-01.rq")
    panel = page.locator(".tabPanel.active")
    panel.locator(".yasqe_queryButton").click()
    panel.locator(".yasr table.dataTable tbody tr").first.wait_for(timeout=60_000)
    panel.locator(".yasr").scroll_into_view_if_needed()
    page.mouse.wheel(0, -250)


def loaded(page: Page) -> None:
    page.wait_for_load_state("networkidle")


#: kind of page -> (path on the server, how to know the page is ready)
SHOTS: dict[str, tuple[str, Callable[[Page], None]]] = {
    "home": ("", loaded),
    "search": ("search?q=be", loaded),
    "partnerships": ("partnerships", loaded),
    "places": ("places", loaded),
    "sources": ("sources", loaded),
    "place": ("doc/city/de-berlin", drawn("#map")),
    "partnership": ("doc/partnership/cn-beijing--de-berlin", loaded),
    "source": ("doc/source/berlin-de-beijing-de", loaded),
    "map": ("map?city=de-berlin", drawn("#worldmap")),
    "timeline": ("timeline/de-berlin", drawn("#timeline")),
    "query": ("sparql-ui", query_run),
    "error": ("timeline/zz", loaded),
}
#: kinds whose page answers with an error status on purpose
EXPECTED_STATUS = {"error": 404}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(store: Path) -> Iterator[str]:
    """`citygraph serve --store STORE` on a free port until the block ends (its base URL)."""
    port = _free_port()
    command = [sys.executable, "-m", "citygraph", "serve", "--store", str(store)]
    # its access log would drown the list of shots: the server's output is not shown
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"citygraph serve exited with {process.returncode}: "
                    f"try `citygraph serve --store {store}` to see why"
                )
            try:
                if httpx.get(url + "healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("citygraph serve did not start within 120 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def shoot(base: str) -> int:
    """Take every screenshot from the server at ``base``; the number that failed."""
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width_name, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            for kind, (path, ready) in SHOTS.items():
                for lang in LANGUAGES:
                    name = f"{kind}-{lang}-{width_name}.png"
                    url = base + path + ("&" if "?" in path else "?") + "lang=" + lang
                    page = context.new_page()
                    response = page.goto(url)
                    try:
                        status = response.status if response else 0
                        if status != EXPECTED_STATUS.get(kind, 200):
                            raise RuntimeError(f"status {status}")
                        ready(page)
                    except Exception as error:  # noqa: BLE001 -- report every page, then fail
                        print(f"{name}: {url}: {error}", file=sys.stderr)
                        failed += 1
                    else:
                        page.screenshot(path=OUT / name)
                        print(OUT / name)
                    page.close()
            context.close()
        browser.close()
    return failed


def main(argv: list[str]) -> int:
    if argv[:1] == ["--store"] and len(argv) == 2:
        with serving(Path(argv[1])) as base:
            return 1 if shoot(base) else 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    base = argv[0] if argv else "http://127.0.0.1:8000/"
    return 1 if shoot(base if base.endswith("/") else base + "/") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
