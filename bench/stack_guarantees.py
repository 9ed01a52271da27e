"""citygraph's real-server tests, run against citygraph's app on another server stack.

Issue 10 §3: before another stack (``bench/stack_server.py``) could serve citygraph, what
``citygraph serve`` guarantees of its connections must hold on it too: the header deadline, a
readable 413 for a long GET, a readable 400 and a lingering close for a head over the bound,
one 413 for an upload over the limit and a lingering close after it, pipelining,
``TCP_NODELAY``, several workers, a worker that outlives a crashed engine, and so on. This is a
pytest plugin: the test modules' ``running_server`` (``tests/serving.py``: ``citygraph serve``)
is replaced by the same app on the stack named by ``CITYGRAPH_BENCH_STACK``; the tests
themselves are unchanged::

    CITYGRAPH_BENCH_STACK=granian .venv/bin/pytest -p bench.stack_guarantees \\
        tests/web/test_server.py tests/web/test_e2e.py tests/web/test_zygote_server.py

Not part of ``make test``: ``citygraph serve`` runs uvicorn with h11 only, and on another stack
some of these tests fail (``docs/performance.md``, the floor, lists which and why).
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from bench.stack_server import HTTP_STACKS

__all__ = ["running_on_stack"]

REPO = Path(__file__).resolve().parent.parent
VARIABLE = "CITYGRAPH_BENCH_STACK"


def _stack() -> str:
    stack = os.environ.get(VARIABLE, "")
    if stack not in HTTP_STACKS:
        raise pytest.UsageError(f"{VARIABLE} must be one of {', '.join(HTTP_STACKS)}")
    return stack


def running_on_stack(
    store_dir: Path, log_path: Path, **options: Any
) -> AbstractContextManager[str]:
    """``tests.serving.running_server``, with citygraph's app on the stack of the environment
    (the same arguments; ``args`` may give ``--workers``)."""
    from tests.serving import running_server

    program = (sys.executable, "-m", "bench.stack_server", "serve", "--app", "citygraph")
    program += ("--http", _stack())
    env = {"PYTHONPATH": str(REPO), **(options.pop("env", None) or {})}
    return running_server(store_dir, log_path, program=program, env=env, **options)


def pytest_configure(config: pytest.Config) -> None:
    _stack()  # a clear error before anything runs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every collected test module that starts ``citygraph serve`` starts the stack instead."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "running_server"):
            module.running_server = running_on_stack
