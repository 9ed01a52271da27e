"""The store directory (architecture.md): immutable builds, a ``current`` pointer switched
atomically, the builds kept, one writer at a time. Real Oxigraph stores on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph import build_format, store
from citygraph.errors import StoreBusyError, StoreNotFoundError

QUAD = ox.Quad(
    ox.NamedNode("http://example.org/a"),
    ox.NamedNode("http://example.org/p"),
    ox.Literal("1"),
    ox.NamedNode("http://example.org/g"),
)


def publish(root: Path, version: str, quads: tuple[ox.Quad, ...] = (QUAD,)) -> store.Build:
    tmp = store.new_build_dir(root, version)
    target = ox.Store(str(tmp))
    target.bulk_extend(quads)
    target.flush()
    del target
    metadata = {"version": version, "quads": len(quads), build_format.KEY: build_format.FORMAT}
    return store.publish_build(root, tmp, version, metadata)


def test_a_published_build_is_current_with_its_metadata(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    published = publish(tmp_path, "v2", ())

    current = store.current_build(tmp_path)

    assert (published.path.resolve(), published.version) == (current.path, current.version)
    assert published.metadata == current.metadata

    assert current.version == "v2"
    assert current.path == (tmp_path / "builds" / "v2").resolve()
    assert current.metadata == {"version": "v2", "quads": 0, "format": build_format.FORMAT}
    assert os.readlink(tmp_path / "current") == "builds/v2"  # relative: the directory can move
    assert (tmp_path / "builds" / "v1").is_dir()  # the previous build is still there
    assert not list(tmp_path.glob(".tmp-*"))


def test_publishing_replaces_a_pointer_left_by_a_killed_publish(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    os.symlink("builds/nowhere", tmp_path / ".tmp-current")

    publish(tmp_path, "v2")

    assert store.current_build(tmp_path).version == "v2"


def test_a_build_without_metadata_has_none(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    (tmp_path / "builds" / "v1.json").unlink()

    # read only by a rebuild: without metadata, a build records no format
    # (tests/test_build_format.py)
    assert store.current_build(tmp_path, any_format=True).metadata == {}


def test_no_store_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="run `citygraph build --store"):
        store.current_build(tmp_path / "empty")


def test_a_current_that_is_not_a_link_is_no_store(tmp_path: Path) -> None:
    (tmp_path / "current").mkdir()
    with pytest.raises(StoreNotFoundError, match="is not a store pointer"):
        store.current_build(tmp_path)


def test_a_current_pointing_nowhere_is_no_store(tmp_path: Path) -> None:
    os.symlink("builds/gone", tmp_path / "current")
    with pytest.raises(StoreNotFoundError, match="which does not exist"):
        store.current_build(tmp_path)


def test_the_current_build_opens_read_only_or_as_a_copy(tmp_path: Path) -> None:
    publish(tmp_path, "v1")

    disk, build = store.open_current(tmp_path)
    memory, _ = store.open_current(tmp_path, in_memory=True)

    assert build.version == "v1"
    assert list(disk) == [QUAD]
    with pytest.raises(RuntimeError, match="read-write"):
        disk.add(QUAD)  # a published build is never written again
    memory.remove(QUAD)  # the copy is the caller's
    assert list(memory) == []
    assert list(store.open_current(tmp_path)[0]) == [QUAD]
    with pytest.raises(RuntimeError, match="read-write"):
        store.open_build(build).add(QUAD)  # read-only unless asked for a copy


@pytest.mark.parametrize("current_file", [None, "garbage"], ids=["emptied", "corrupted"])
def test_a_directory_that_is_no_oxigraph_store_does_not_open(
    tmp_path: Path, current_file: str | None
) -> None:
    publish(tmp_path, "v1")
    broken = tmp_path / "builds" / "v1"
    for child in broken.iterdir():
        child.unlink()
    if current_file is not None:
        (broken / "CURRENT").write_text(current_file, encoding="utf-8")
    with pytest.raises(StoreNotFoundError, match="cannot open the store"):
        store.open_current(tmp_path)


def test_a_new_build_directory_clears_what_killed_builds_left(tmp_path: Path) -> None:
    builds = tmp_path / "builds"
    (builds / ".tmp-old").mkdir(parents=True)
    (builds / ".tmp-old" / "data").write_text("x", encoding="utf-8")
    (builds / ".tmp-old.json").write_text("{}", encoding="utf-8")
    (builds / "kept").mkdir()

    path = store.new_build_dir(tmp_path, "v9")
    first = store.new_build_dir(tmp_path / "new" / "store", "v1")  # a store not made yet

    assert path == builds / ".tmp-v9"
    assert path.is_dir()
    assert not list(path.iterdir())
    assert sorted(p.name for p in builds.iterdir()) == [".tmp-v9", "kept"]
    assert first.is_dir()


def test_pruning_keeps_the_newest_two_by_default(tmp_path: Path) -> None:
    """architecture.md: a build keeps the newest two, so a server still reading the previous
    one is not pulled from under its feet."""
    for version in ("v1", "v2", "v3", "v4"):
        publish(tmp_path, version)

    removed = store.prune_builds(tmp_path)

    assert sorted(removed) == ["v1", "v2"]
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == [
        "v3",
        "v3.json",
        "v4",
        "v4.json",
    ]


def test_pruning_never_removes_the_current_build(tmp_path: Path) -> None:
    for version in ("v1", "v2", "v3", "v4"):
        publish(tmp_path, version)
    (tmp_path / "builds" / "v1.json").unlink()  # a build without metadata is pruned all the same
    os.replace(tmp_path / "current", tmp_path / "old")
    os.symlink("builds/v2", tmp_path / "current")  # an older build made current again

    removed = store.prune_builds(tmp_path, keep=1)

    assert removed == ["v3", "v1"]
    assert (tmp_path / "builds" / "v2").is_dir()
    assert (tmp_path / "builds" / "v2.json").is_file()


def test_pruning_leaves_a_build_in_progress(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    publish(tmp_path, "v2")
    in_progress = store.new_build_dir(tmp_path, "v3")

    store.prune_builds(tmp_path, keep=1)

    assert in_progress.is_dir()


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    with (
        store.write_lock(tmp_path, timeout=1),
        pytest.raises(StoreBusyError) as busy,
        store.write_lock(tmp_path, timeout=0.1),
    ):
        pass  # pragma: no cover - never reached

    assert str(tmp_path) in str(busy.value)
    assert "retry later" in str(busy.value)
    with store.write_lock(tmp_path, timeout=0):  # released when its holder left
        pass


def test_the_lock_is_released_when_the_writer_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), store.write_lock(tmp_path, timeout=1):
        raise RuntimeError("the build failed")

    with store.write_lock(tmp_path, timeout=0):
        pass
