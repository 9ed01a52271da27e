"""The examples in the docstrings of the linked-data modules run (they are documentation)."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest
from tests.backends import every_backend

pytestmark = [every_backend, pytest.mark.virtuoso]

MODULES = [
    "citygraph.documents",
    "citygraph.indexes",
    "citygraph.dataset",
    "citygraph.web.i18n",
    "citygraph.web.linked_data.iris",
    "citygraph.web.linked_data.representations",
    "citygraph.web.linked_data.search",
    "citygraph.web.linked_data.identifiers",
    "citygraph.web.linked_data.schema_org",
    "citygraph.web.linked_data.vocabulary_labels",
    "citygraph.web.linked_data.document_rdf",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


PUBLIC = [
    *MODULES,
    "citygraph.web.linked_data",
    "citygraph.engine.snapshots",
    "citygraph.web.linked_data.listings",
    "citygraph.web.linked_data.pages",
    "citygraph.web.linked_data.routes",
    "citygraph.web.linked_data.site",
    "citygraph.web.linked_data.term_pages",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_all_names_exist_and_are_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for item in module.__all__:
        value = getattr(module, item)
        if callable(value):
            assert value.__doc__, f"{name}.{item} has no docstring"


def test_every_interface_text_of_the_templates_exists_in_every_language() -> None:
    from citygraph.web import i18n
    from citygraph.web.templating import TEMPLATES

    keys = set()
    for template in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"""\bt\(["']([a-z_-]+)["']\)""", template.read_text("utf-8")))
    # the query UI, map and timeline read the same table as a mapping: {{ t.map_title }}
    for template in (TEMPLATES / "frontend").glob("*.html"):
        keys |= set(re.findall(r"\bt\.([a-z_]+)\b", template.read_text("utf-8")))
    assert {"zoom_in", "legend_arc", "query_intro"} <= keys
    keys |= {"classes", "object-properties", "datatype-properties", "annotation-properties"}
    assert len(keys) > 60
    missing = [
        (key, language)
        for key in sorted(keys)
        for language in i18n.LANGUAGES
        if key not in i18n._UI or language not in i18n._UI[key]
    ]
    assert not missing


def test_the_one_table_has_every_text_in_every_language() -> None:
    from citygraph.web import i18n

    incomplete = [
        (key, language)
        for key, texts in i18n._UI.items()
        for language in i18n.LANGUAGES
        if not texts.get(language)
    ]
    assert not incomplete
    assert set(i18n.LANGUAGE_NAMES) == set(i18n.LANGUAGES)
    assert i18n.texts("de")["zoom_in"] == "Vergrößern"
