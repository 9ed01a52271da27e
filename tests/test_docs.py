"""The README and docs tell the truth: their shell examples run, their tables match the code.

Drift is caught here rather than by a reader (issue 15 §2):

- every shell example in ``README.md`` and ``docs/*.md`` (``sh``, ``bash``, ``shell`` and
  ``console`` blocks) runs: ``citygraph`` commands in a scratch copy of the checkout with a
  built store, ``curl`` against a real server, ``make`` targets as a dry run, ``python -m``
  modules by their ``--help``; a transcript of another repository is fenced as ``text``;
- the README's command table names every command and every option of it;
- the settings table of ``docs/endpoint.md`` lists exactly the settings of
  :class:`citygraph.config.Settings`, with their defaults.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from tests.serving import running_server

from citygraph import cli as cli_module
from citygraph.cli import cli
from citygraph.config import describe_settings

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LOCAL_SERVER = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Example:
    """One shell command shown in a document."""

    document: str
    line: int
    command: str

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {self.command}"


def shell_examples() -> Iterator[Example]:
    """Commands of the ``sh``/``bash``/``console`` blocks (``$`` lines only in ``console``)."""
    fence = re.compile(r"^```(sh|bash|shell|console)\s*$")
    for path in DOCUMENTS:
        lines = path.read_text(encoding="utf-8").splitlines()
        kind: str | None = None
        pending: list[str] = []
        start = 0
        for number, line in enumerate(lines, start=1):
            if kind is None:
                match = fence.match(line)
                kind = match.group(1) if match else None
                continue
            if line.startswith("```"):
                kind = None
                continue
            text = line
            if not pending:
                if kind == "console":
                    if not text.startswith("$ "):
                        continue
                    text = text[2:]
                if not text.strip() or text.lstrip().startswith("#"):
                    continue
                start = number
            pending.append(text.rstrip().removesuffix("\\").rstrip())
            if not line.rstrip().endswith("\\"):
                command = " ".join(part.strip() for part in pending)
                pending = []
                yield Example(path.relative_to(ROOT).as_posix(), start, command)


EXAMPLES = list(shell_examples())


def _words(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    if words and words[0] in (".venv/bin/citygraph", "citygraph"):
        words[0] = "citygraph"
    return words


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout (its files linked, not copied) with its own built store."""
    directory = tmp_path_factory.mktemp("checkout")
    for entry in ROOT.iterdir():
        if entry.name not in {"var", ".git"}:
            (directory / entry.name).symlink_to(entry)
    result = subprocess.run(
        [sys.executable, "-m", "citygraph", "build", "--quiet"],
        cwd=directory,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def server(scratch: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running_server(scratch / "var" / "store", log) as url:
        yield url


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CITYGRAPH_")}


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.e2e
@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_shell_example_runs(example: Example, scratch: Path, server: str) -> None:
    text, redirect = example.command, ""
    if found := re.search(r"\s(>\s*\S+)\s*(#.*)?$", text):
        text, redirect = text[: found.start()], " " + found.group(1)
    words = _words(text)
    program = words[0]
    if program == "make":
        # The targets exist and their recipes expand (a dry run: make test *is* this suite).
        result = _run("make -n " + shlex.join(words[1:]), ROOT)
    elif program == "curl":
        command = example.command.replace(LOCAL_SERVER, server)
        result = _run(command.replace("curl ", "curl -fsS ", 1), scratch)
    elif program == "citygraph":
        if words[1:2] == ["serve"] and "--get" not in words:
            # A serve example would run until stopped: check its options with one request.
            words += ["--get", "/healthz"]
        command = shlex.join([sys.executable, "-m", "citygraph", *words[1:]])
        result = _run(command + redirect, scratch)
    elif program.endswith("python") and words[1:2] == ["-m"]:
        result = _run(shlex.join([sys.executable, "-m", words[2], "--help"]), ROOT)
    else:
        pytest.fail(f"{example}: no rule to run a {program!r} example; add one here")
    assert result.returncode == 0, f"{example}\n{result.stdout}\n{result.stderr}"


def test_examples_are_found() -> None:
    """The extraction above sees the README's own examples (else every check would be empty)."""
    readme = [e.command for e in EXAMPLES if e.document == "README.md"]
    assert any(c.startswith("make serve") for c in readme)
    assert any(c.startswith("curl ") for c in readme)


# --- the README's command table ---------------------------------------------------------------


def _commands() -> dict[str, click.Command]:
    cli_module._register_optional_commands()
    found: dict[str, click.Command] = {}

    def walk(prefix: str, group: click.Group) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(f"{prefix}{name} ", command)
            else:
                found[f"{prefix}{name}"] = command

    walk("", cli)
    return found


def _readme_rows() -> dict[str, str]:
    """The first cell of each row of the README's command table, by command name."""
    rows: dict[str, str] = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `citygraph ([a-z ]+?)(?: [\[A-Z(-].*)?` \|", line)
        if match:
            rows[match.group(1)] = re.split(r"(?<!\\)\|", line)[1]
    return rows


def test_the_readme_table_lists_every_command() -> None:
    assert sorted(_readme_rows()) == sorted(_commands())


@pytest.mark.parametrize("name", sorted(_commands()))
def test_the_readme_table_lists_every_option(name: str) -> None:
    row = _readme_rows().get(name, "")
    command = _commands()[name]
    missing = [
        max(param.opts, key=len)
        for param in command.params
        if isinstance(param, click.Option) and "--help" not in param.opts
        if not any(opt in row for opt in param.opts)
    ]
    assert not missing, f"README.md: the row of `citygraph {name}` does not mention {missing}"


# --- the settings table of docs/endpoint.md ----------------------------------------------------


def _settings_table() -> dict[str, str]:
    text = (ROOT / "docs" / "endpoint.md").read_text(encoding="utf-8")
    return {
        match.group(1): match.group(2).strip()
        for match in re.finditer(r"^\| `(CITYGRAPH_[A-Z_]+)` \| ([^|]*) \|", text, re.MULTILINE)
    }


def test_the_settings_table_lists_exactly_the_settings() -> None:
    assert sorted(_settings_table()) == sorted(info.env for info in describe_settings())


@pytest.mark.parametrize("info", list(describe_settings()), ids=lambda info: info.env)
def test_the_settings_table_gives_the_defaults(info: object) -> None:
    from citygraph.config import SettingInfo

    assert isinstance(info, SettingInfo)
    documented = _settings_table().get(info.env, "")
    default = info.default
    if default in ("", (), None):
        assert documented.startswith("("), f"{info.env}: documented as {documented!r}"
        return
    shown = re.match(r"`([^`]*)`", documented)
    assert shown, f"{info.env}: the default is not written as `value`: {documented!r}"
    value = shown.group(1)
    if isinstance(default, bool):
        assert value == str(default).lower(), info.env
    elif isinstance(default, int | float):
        assert float(value) == float(default), info.env
    else:
        assert value == str(default), info.env
