"""The docstring examples of the validation modules run, and each module has some."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["sourcemap", "report", "ci_formats"])
def test_docstring_examples_run(module: str) -> None:
    failures, attempted = doctest.testmod(importlib.import_module(f"citygraph.{module}"))
    assert attempted > 0
    assert failures == 0
