"""The docstring examples of the validation modules run, and each module has some."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["sourcemap", "report", "ci_formats", "project", "diff", "diff_report"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    failures, attempted = doctest.testmod(importlib.import_module(f"citygraph.{module}"))
    assert attempted > 0
    assert failures == 0
