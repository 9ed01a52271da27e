"""The response caches' budget counts everything they hold (issue 9 §2), measured apart."""

from __future__ import annotations

import doctest
import gc
import importlib
import tracemalloc
from collections.abc import Callable, Hashable

import pytest

from citygraph.engine.cache import ResponseCache, entry_size
from citygraph.engine.jobs import QueryJob

BUDGET = 4_000_000
QUERY_LENGTH = 95_000  # the 95 kB `ASK {} # …` queries of the issue


def query_key(i: int) -> Hashable:
    """A key of Endpoint.cache: (version, job), the job holding the whole query text."""
    job = QueryJob(
        query=f"ASK {{}} # {i} " + "x" * QUERY_LENGTH,
        base_iri="https://w3id.org/citygraph/",
        default_graphs=None,
        named_graphs=None,
        union_default=True,
        solutions_format="JSON",
        graph_format=None,
        max_rows=100_000,
        max_bytes=64_000_000,
    )
    return ("20260101T000000000000Z-aaaaaaaaaa", job)


def get_key(i: int) -> Hashable:
    """A key of the fast path's cache: (version, path, raw query string, Accept)."""
    raw = f"query=ASK+%7B%7D+%23+{i}+".encode() + b"x" * QUERY_LENGTH
    return ("20260101T000000000000Z-aaaaaaaaaa", "/sparql", raw, b"*/*")


@pytest.mark.parametrize("make_key", [query_key, get_key], ids=["endpoint-cache", "get-cache"])
def test_memory_held_stays_within_the_budget(make_key: Callable[[int], Hashable]) -> None:
    """Distinct large keys with tiny bodies: the keys are what grew each worker to 341 MiB."""
    body = b'{"head":{},"boolean":true}'
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = ResponseCache(max_bytes=BUDGET)
        for i in range(400):  # 38 MB of keys offered to a 4 MB cache
            cache.put(make_key(i), body, "application/sparql-results+json")
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(cache) > 1
    assert cache.size <= BUDGET
    assert held <= BUDGET, f"the cache holds {held:,} bytes for a budget of {BUDGET:,}"
    # and the accounting is close to the truth, not an arbitrary large number
    assert held >= cache.size * 0.9


def test_an_entry_over_half_the_budget_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=150_000)
    cache.put(query_key(1), b"small", "text/csv")  # a 95 kB key
    assert len(cache) == 0
    cache.put(("v", "q"), b"small", "text/csv")
    assert cache.get(("v", "q")) == (b"small", "text/csv")
    assert cache.size == entry_size(("v", "q"), b"small", "text/csv")


def test_a_key_it_cannot_measure_is_refused() -> None:
    cache = ResponseCache(max_bytes=400_000)
    with pytest.raises(TypeError, match="cannot measure a object"):
        cache.put(("v", object()), b"x", "text/csv")
    assert len(cache) == 0


def test_replacing_an_entry_keeps_the_count_right() -> None:
    cache = ResponseCache(max_bytes=400_000)
    cache.put(("v", "q"), b"a" * 100, "text/csv")
    cache.put(("v", "q"), b"b", "text/csv")
    assert cache.size == entry_size(("v", "q"), b"b", "text/csv")


@pytest.mark.parametrize(
    "name",
    [
        "citygraph.engine.cache",
        "citygraph.web.formats",
        "citygraph.web.negotiation",
        "citygraph.web.protocol",
    ],
)
def test_examples_in_docstrings_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
