"""The one template environment (web/templating.py) every page renders with."""

from __future__ import annotations

import jinja2
import pytest

from citygraph.web.templating import TEMPLATES, environment


def test_every_template_compiles_in_the_one_environment() -> None:
    names = environment().list_templates()
    assert "thing.html" in names
    assert "frontend/map.html" in names
    assert "sitemap.xml" in names
    for name in names:
        environment().get_template(name)
    assert len(names) == sum(1 for path in TEMPLATES.rglob("*") if path.is_file())


def test_a_name_the_page_does_not_pass_is_an_error_not_an_empty_string() -> None:
    # The linked-data pages' own environment rendered it as "" (the copies disagreed).
    with pytest.raises(jinja2.UndefinedError, match="title"):
        environment().from_string("<h1>{{ title }}</h1>").render()


@pytest.mark.parametrize("name", ["page.html", "sitemap.xml", "page.txt", "page"])
def test_values_are_escaped_whatever_the_template_name(name: str) -> None:
    # The linked-data pages' own environment escaped only .html and .xml templates.
    loader = jinja2.DictLoader({name: "{{ value }}"})
    strict = environment().overlay(loader=loader)
    assert strict.get_template(name).render(value="<b>&") == "&lt;b&gt;&amp;"
