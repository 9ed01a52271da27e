"""The one current-build watcher that the query pool and the pages' snapshots both follow."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.web.conftest import CITY, make_build, tiny_quads

from citygraph.engine.builds import BuildWatcher, CurrentLink
from citygraph.engine.jobs import QueryJob
from citygraph.engine.pool import QueryPool
from citygraph.engine.snapshots import StoreHandle
from citygraph.errors import StoreNotFoundError

FIRST = "20260101T000000000000Z-aaaaaaaaaa"
SECOND = "20260102T000000000000Z-bbbbbbbbbb"


def test_examples_run() -> None:
    result = doctest.testmod(importlib.import_module("citygraph.engine.builds"))
    assert result.attempted > 0
    assert result.failed == 0


def test_a_published_build_is_reported_once_the_interval_allows(store_dir: Path) -> None:
    watcher = BuildWatcher(store_dir, check_interval=3600.0)
    assert watcher.current().version == FIRST
    make_build(store_dir, tiny_quads("v2"), SECOND)
    # just read by current(): not asked again within the interval
    assert not watcher.changed(FIRST)
    assert watcher.changed(FIRST, now=True)
    assert not watcher.changed(SECOND, now=True)
    assert watcher.current().version == SECOND


def test_a_store_without_a_build_is_reported_clearly(tmp_path: Path) -> None:
    watcher = BuildWatcher(tmp_path, check_interval=0.0)
    assert watcher.current_version() == ""
    assert not watcher.changed(FIRST)  # nothing to switch to: keep serving what one has
    with pytest.raises(StoreNotFoundError, match="citygraph build"):
        watcher.current()


def test_pages_switch_to_a_new_build_and_keep_it_when_the_link_goes(store_dir: Path) -> None:
    handle = StoreHandle(store_dir, in_memory=False, check_interval=0.0)
    first = handle.snapshot()
    assert first.version == FIRST
    assert handle.snapshot() is first  # the same build: the same snapshot and its caches
    make_build(store_dir, tiny_quads("v2"), SECOND)
    second = handle.snapshot()
    assert second.version == SECOND
    paris = ox.NamedNode(f"{CITY}fr-paris")
    assert [q.object.value for q in second.store.quads_for_pattern(paris, None, None)] == [
        "Paris v2"
    ]
    (store_dir / "current").unlink()
    assert handle.snapshot() is second


def test_pages_do_not_look_again_within_the_interval(store_dir: Path) -> None:
    handle = StoreHandle(store_dir, in_memory=False, check_interval=3600.0)
    assert handle.snapshot().version == FIRST
    make_build(store_dir, tiny_quads("v2"), SECOND)
    assert handle.snapshot().version == FIRST


def test_the_pool_switches_when_asked_to_wait(store_dir: Path) -> None:
    pool = QueryPool(store_dir, size=1, in_memory=False, max_concurrent=4, check_interval=3600.0)
    pool.start()
    try:
        assert pool.version == FIRST
        make_build(store_dir, tiny_quads("v2"), SECOND)
        pool.check_for_new_build()  # within the interval: not even looked at
        assert pool.version == FIRST
        pool.check_for_new_build(wait=True)  # after a write: now, and served on return
        assert pool.version == SECOND
        job = QueryJob(
            query=f"ASK {{ <{CITY}fr-paris> ?p 'Paris v2'@fr }}",
            base_iri="http://example.org/",
            default_graphs=None,
            named_graphs=None,
            union_default=True,
            solutions_format="JSON",
            graph_format=None,
            max_rows=10,
            max_bytes=10_000,
        )
        reply, version = pool.run(job, timeout=30)
        assert version == SECOND
        assert reply.error is None, reply.message
        assert b"true" in reply.body
    finally:
        pool.close()


def test_readers_sharing_the_link_look_again_when_one_sees_a_new_build(store_dir: Path) -> None:
    """The endpoint learns of a write at once; the pages, sharing its link, follow it on their
    next question rather than at the end of their interval (they read the write too)."""
    link = CurrentLink(store_dir)
    endpoint = BuildWatcher(store_dir, check_interval=3600.0, link=link)
    pages = StoreHandle(store_dir, in_memory=False, check_interval=3600.0, link=link)
    alone = StoreHandle(store_dir, in_memory=False, check_interval=3600.0)
    assert endpoint.current().version == FIRST
    assert pages.snapshot().version == FIRST
    assert alone.snapshot().version == FIRST
    make_build(store_dir, tiny_quads("v2"), SECOND)
    assert pages.snapshot().version == FIRST  # nobody has looked yet
    assert endpoint.changed(FIRST, now=True)
    assert pages.snapshot().version == SECOND
    assert alone.snapshot().version == FIRST  # its own link: waits for its interval
