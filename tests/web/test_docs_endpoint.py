"""docs/endpoint.md stays true to the code: the modules it says import the web framework."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import citygraph.web

WEB = Path(citygraph.web.__file__).resolve().parent
DOC = WEB.parents[2] / "docs" / "endpoint.md"
FRAMEWORK = {"fastapi", "starlette", "uvicorn", "jinja2"}


def imports_the_framework(path: Path) -> bool:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return bool(names & FRAMEWORK)


def documented_importers() -> set[str]:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    match = re.search(r"Only these modules import the web framework \([^)]*\): (.*?);", text)
    assert match, "docs/endpoint.md lost its list of the modules that import the web framework"
    modules: set[str] = set()
    listed = match.group(1)
    for package, members in re.findall(r"the `(\w+)` package \(([^)]*)\)", listed):
        modules |= {f"{package}/{member}" for member in re.findall(r"`(\w+)`", members)}
    listed = re.sub(r"the `\w+` package \([^)]*\)", "", listed)
    return modules | set(re.findall(r"`(\w+)`", listed))


def test_the_documented_list_is_exactly_the_importers() -> None:
    actual = {
        path.relative_to(WEB).with_suffix("").as_posix()
        for path in WEB.rglob("*.py")
        if imports_the_framework(path)
    }
    assert documented_importers() == actual
