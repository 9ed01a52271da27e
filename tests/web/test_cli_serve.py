"""`citygraph serve`: its help, its one-request mode, its errors."""

from __future__ import annotations

import doctest
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from citygraph import cli_serve as cli_serve_module
from citygraph.cli_serve import serve
from citygraph.config import describe_settings
from citygraph.web.server import disable_nagle


def test_help_has_an_example_and_every_setting() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0, result.output
    assert "citygraph serve --port 8000" in result.output
    for info in describe_settings():
        assert info.env in result.output


def test_get_answers_one_request(store_dir: Path) -> None:
    result = CliRunner().invoke(
        serve, ["--store", str(store_dir), "--get", "/sparql?query=ASK%7B%7D&format=tsv"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "true"


def test_get_exits_1_on_an_error_status(store_dir: Path) -> None:
    result = CliRunner().invoke(serve, ["--store", str(store_dir), "--get", "/sparql?query=ASK"])
    assert result.exit_code == 1
    assert "syntax error" in result.output


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve, ["--store", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "citygraph build" in result.output


def test_connections_have_nagle_turned_off() -> None:
    """uvicorn --workers N leaves Nagle on (about 40 ms per request); the serve protocol not."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            transport = SimpleNamespace(get_extra_info=lambda name: accepted)
            disable_nagle(transport)  # type: ignore[arg-type]
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_get_prints_the_answer_and_nothing_else(store_dir: Path) -> None:
    command = [sys.executable, "-m", "citygraph", "serve", "--store", str(store_dir)]
    result = subprocess.run(
        [*command, "--get", "/sparql?query=ASK%7B%7D&format=tsv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "true"
    assert "Warning" not in result.stderr, result.stderr


def test_docstring_examples_run() -> None:
    result = doctest.testmod(cli_serve_module)
    assert result.attempted > 0
    assert result.failed == 0
