"""The whole site in Chinese (and German): names the data has only in another language are shown
in it and marked as such, visibly, never silently and never with an invented translation (issue 13
§3). Real Chromium, so that what is checked is what a reader sees (the style sheet's marks)."""

# The Chinese marks use full-width parentheses, as the pages do.
# ruff: noqa: RUF001

from __future__ import annotations

import re

import pytest
import rdflib
from playwright.sync_api import Page, expect

from .support import data_graph

pytestmark = pytest.mark.e2e

ID = "https://w3id.org/citygraph/id/"
NAMES = (rdflib.RDFS.label, rdflib.SKOS.prefLabel, rdflib.DCTERMS.title)
#: what a reader sees after a name in another language (web/ui_texts.py in_en)
ENGLISH = {"zh": "（英文）", "de": " (englisch)"}


DATA = data_graph()


def names(key: str) -> dict[str, str]:
    """The names of ``id/key`` in data/, by lower-case language tag."""
    thing = rdflib.URIRef(ID + key)
    found: dict[str, str] = {}
    for predicate in NAMES:
        for name in DATA.objects(thing, predicate):
            if isinstance(name, rdflib.Literal):
                found.setdefault((name.language or "").lower(), str(name))
    return found


def mark_after(page: Page, selector: str) -> str:
    """The text the style sheet writes after the element (its ::after content)."""
    content: str = page.locator(selector).first.evaluate(
        "el => getComputedStyle(el, '::after').content"
    )
    return content.strip('"') if content not in ("none", "normal") else ""


@pytest.mark.parametrize(
    "key",
    [
        "agreement/cn-beijing--de-east-berlin-1988-05-05-agreement",
        "source/berlin-de-beijing-de",
        "event/berlin-business-desk-china-opening",
    ],
    ids=["agreement", "source", "event"],
)
@pytest.mark.parametrize("lang", ["zh", "de"])
def test_a_title_the_data_lacks_in_the_readers_language_is_marked(
    page: Page, server: str, key: str, lang: str
) -> None:
    known = names(key)
    assert known, key
    page.goto(f"{server}doc/{key}?lang={lang}")
    heading = page.locator("h1")
    own = next((name for tag, name in known.items() if tag.split("-")[0] == lang), None)
    if own is not None:  # the data has it: shown as it is, unmarked
        expect(heading).to_have_text(own)
        assert mark_after(page, "h1") == ""
        return
    # else the English name, marked as English in the reader's language: never a translation
    expect(heading).to_have_text(known["en"])
    expect(heading).to_have_attribute("lang", "en")
    assert mark_after(page, "h1") == ENGLISH[lang]


def test_an_event_with_a_chinese_name_is_titled_in_chinese(page: Page, server: str) -> None:
    with_chinese = [
        key
        for s in DATA.subjects(rdflib.RDF.type, rdflib.URIRef(ID.replace("id/", "ontology#Event")))
        if (key := str(s).removeprefix(ID)) and "zh-hans" in names(key)
    ]
    assert with_chinese
    page.goto(f"{server}doc/{with_chinese[0]}?lang=zh")
    expect(page.locator("h1")).to_have_text(names(with_chinese[0])["zh-hans"])
    assert mark_after(page, "h1") == ""


def test_the_sources_list_marks_every_english_title_in_chinese(page: Page, server: str) -> None:
    page.goto(server + "sources?lang=zh")
    links = page.locator("main a[href*='/doc/source/']")
    expect(links.first).to_be_visible()
    for index in range(links.count()):
        key = (
            "source/"
            + (links.nth(index).get_attribute("href") or "").split("/doc/source/")[1].split("?")[0]
        )
        if not any(tag.startswith("zh") for tag in names(key)):
            expect(links.nth(index)).to_have_attribute("lang", re.compile(r"^(en|de)$"))


def test_filter_options_in_another_language_say_so(page: Page, server: str) -> None:
    page.goto(server + "partnerships?lang=zh")
    options = page.locator("select[name=country] option").all_inner_texts()
    germany = names("country/de")["zh-hans"]
    assert germany in options  # a name the data has in Chinese, as it is
    english_only = [
        name
        for key in ("country/jp", "country/be")
        if "zh-hans" not in (n := names(key))
        for name in [n["en"]]
    ]
    for name in english_only:
        assert name + ENGLISH["zh"] in options


def test_the_timeline_and_map_mark_names_in_another_language(page: Page, server: str) -> None:
    # Wuppertal's partners include places the data names in English only
    page.goto(server + "timeline/de-wuppertal?lang=zh")
    expect(page.locator("#timeline")).to_have_attribute("data-state", "ready")
    marked = page.locator("#partnerships td a.fallback[lang]")
    assert marked.count() > 0
    for text in marked.all_inner_texts():
        assert not re.search(r"[\u4e00-\u9fff]", text)
    page.goto(server + "map?city=de-wuppertal&lang=zh")
    expect(page.locator("#worldmap")).to_have_attribute("data-state", "ready")
    assert page.locator("#partnerships td a.fallback[lang]").count() > 0


def test_query_examples_written_in_english_are_marked_on_other_pages(
    page: Page, server: str
) -> None:
    page.goto(server + "sparql-ui?lang=zh")
    options = page.locator("#example-menu option")
    expect(options.first).to_have_attribute("lang", "en")
    assert all(text.endswith(ENGLISH["zh"]) for text in options.all_inner_texts())
    page.goto(server + "sparql-ui?lang=en")
    assert not any(
        "(" + "English" in t for t in page.locator("#example-menu option").all_inner_texts()
    )


@pytest.mark.parametrize("start", ["doc/city/de-berlin", "map", "sources"])
def test_the_navigation_keeps_the_readers_language(page: Page, server: str, start: str) -> None:
    # the browser asks for English (the fixture's en-GB); the reader chose Chinese on the page
    page.goto(f"{server}{start}?lang=zh")
    menu = page.locator("header nav a:not([hreflang])")  # not the language switch
    assert menu.count() >= 5
    for index in range(menu.count()):
        page.goto(f"{server}{start}?lang=zh")
        menu.nth(index).click()
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
