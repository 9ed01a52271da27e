"""Fixtures of the browser tests: a real `citygraph serve` over a store built from the repository's
data, and Debian's chromium driven by Playwright (both installed by scripts/browser.sh).

The store and the server are session-scoped, unlike the function-scoped fixtures elsewhere:
building the real data takes a minute, and every test here only reads.
``--citygraph-url URL`` runs the tests against a server that is already running instead.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.serving import running_server

from .support import ROOT, PageLog

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
#: How chromium runs here: headless, no sandbox (containers), and nothing that calls home, so a
#: request to anywhere but our server would show up as a failure.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--citygraph-url",
        default=None,
        help="Run the browser tests against this running server instead of starting one.",
    )


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL (ending in ``/``) of a `citygraph serve` process over the real data."""
    given = request.config.getoption("--citygraph-url", default=None)
    if given:
        yield given if given.endswith("/") else given + "/"
        return
    work = tmp_path_factory.mktemp("citygraph")
    store_dir = work / "store"
    built = subprocess.run(
        [sys.executable, "-m", "citygraph", "build", "--quiet", "--store", str(store_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    with running_server(store_dir, work / "server.log", cwd=ROOT, start_timeout=180) as url:
        yield url + "/"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium (never `playwright install`: its download host is unreachable here)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run scripts/browser.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A fresh page (own context: no cookies or storage shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    new = context.new_page()
    page_log.attach(new)
    yield new
    context.close()


@pytest.fixture
def browser_page_de(browser: Browser) -> Iterator[Page]:
    """A page whose browser asks for German first (``Accept-Language: de``)."""
    context = browser.new_context(locale="de-DE", extra_http_headers={"Accept-Language": "de"})
    yield context.new_page()
    context.close()


@pytest.fixture
def no_script_page(browser: Browser) -> Iterator[Page]:
    """A page with JavaScript switched off."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()
