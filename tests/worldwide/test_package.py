"""Every module of the package has examples that run, explicit exports, and no web framework."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import citygraph.worldwide

PACKAGE = Path(citygraph.worldwide.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"citygraph.worldwide.{name}")
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no docstring example: show how its API is called"
    assert failures == 0, f"{failures} of the {attempted} examples of {name} failed"


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(f"citygraph.worldwide.{name}")
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing


@pytest.mark.parametrize("name", MODULES)
def test_no_web_framework_and_click_only_in_the_cli(name: str) -> None:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert not imported & {"fastapi", "starlette"}
    if name != "cli":
        assert "click" not in imported
