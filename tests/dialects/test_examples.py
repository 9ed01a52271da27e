"""The examples in the docstrings of the modules that name a remote store's datasets run."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "citygraph.engine.datasets",
        "citygraph.engine.remote_reads",
        "citygraph.engine.remote_staging",
    ],
)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
