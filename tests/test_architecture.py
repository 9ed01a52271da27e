"""The dependency direction of docs/architecture.md: domain modules never import web or CLI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import citygraph

PACKAGE = Path(citygraph.__file__).resolve().parent
FRONT_ENDS = {"fastapi", "starlette", "uvicorn", "click", "jinja2"}
#: Modules that are front ends themselves (and so may import the packages above).
#: The command line is ``cli.py`` and its ``cli_*.py`` modules.
FRONT_END_MODULES = {"cli.py", "__main__.py", "web", "worldwide/cli.py"}


def is_front_end(relative: str) -> bool:
    return (
        relative in FRONT_END_MODULES
        or relative.split("/")[0] in FRONT_END_MODULES
        or re.fullmatch(r"cli_\w+\.py", relative) is not None
    )


def domain_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not is_front_end(path.relative_to(PACKAGE).as_posix())
    ]


def test_the_command_line_modules_are_front_ends() -> None:
    """The split command line (cli.py, cli_*.py) is all a front end, and nothing else is."""
    names = {path.relative_to(PACKAGE).as_posix() for path in domain_modules()}
    assert not {name for name in names if name.startswith("cli")}
    assert {"store.py", "build.py", "validate.py"} <= names


def imported_top_level_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_domain_modules_do_not_import_front_ends(path: Path) -> None:
    assert not imported_top_level_packages(path) & FRONT_ENDS


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_domain_modules_do_not_import_the_web_layer_or_the_cli(path: Path) -> None:
    """The engine and the other domain modules are called by the web layer, never the reverse."""
    front = {"citygraph.web", "citygraph.cli"}
    assert not {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith((f + ".", f + "_")) for f in front)
    }


def test_only_validate_and_report_import_pyshacl() -> None:
    importers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "pyshacl" in imported_top_level_packages(path)
    }
    assert importers <= {"validate.py", "report.py"}


def test_no_module_reads_the_environment_but_config() -> None:
    readers = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8")
        or "getenv" in path.read_text(encoding="utf-8")
    }
    assert readers <= {"config.py"}


WEB_FRAMEWORK = {"fastapi", "starlette", "uvicorn", "jinja2"}


def test_only_the_documented_web_modules_import_the_web_framework() -> None:
    text = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    paragraph = text[text.index("Within `web/`, only these") :].split("\n\n")[0]
    documented = set(re.findall(r"`(web/[\w/]+\.py)`", paragraph))
    importers = {
        path.relative_to(PACKAGE).as_posix()
        for path in (PACKAGE / "web").rglob("*.py")
        if imported_top_level_packages(path) & WEB_FRAMEWORK
    }
    assert importers == documented, (
        "docs/architecture.md lists the web modules that may import the web framework: "
        f"undocumented {sorted(importers - documented)}, listed but not importing "
        f"{sorted(documented - importers)}"
    )
