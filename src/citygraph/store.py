"""The on-disk store: a directory of immutable builds and a ``current`` pointer.

Layout of a store directory ``DIR``::

    DIR/current -> builds/20261127T081500Z-3f2a1c   (a symbolic link, switched atomically)
    DIR/builds/20261127T081500Z-3f2a1c/             (an Oxigraph store, never written again)
    DIR/builds/20261127T081500Z-3f2a1c.json         (build metadata: version, format, counts…)
    DIR/builds/.tmp-…/                              (a build in progress; removed when it fails)

A build is written beside the published ones and only published by replacing the ``current``
link (``rename(2)`` is atomic), so a failed or killed build (even ``kill -9``) leaves the previous
store intact, and readers never see half a build. The build's name is the data version used for
ETags and caches.

A build of another format than this citygraph's (:mod:`citygraph.build_format`) is refused by
:func:`current_build`, so by everything that opens a store directory's build, except a rebuild.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from citygraph import build_format
from citygraph.errors import StoreBusyError, StoreNotFoundError

__all__ = [
    "Build",
    "current_build",
    "new_build_dir",
    "open_build",
    "open_current",
    "prune_builds",
    "publish_build",
    "write_lock",
]

CURRENT = "current"
BUILDS = "builds"
TMP_PREFIX = ".tmp-"
KEEP_BUILDS = 2
LOCK_FILE = ".write.lock"


@dataclass(frozen=True)
class Build:
    """One published build: its Oxigraph directory, its version and its metadata."""

    path: Path
    version: str
    metadata: Mapping[str, Any]


def current_build(root: Path, *, any_format: bool = False) -> Build:
    """Return the build ``root/current`` points to.

    ``any_format``: return it whatever format it was written in (only for a rebuild, which
    reads the graphs it carries over from it).

    Raises:
        StoreNotFoundError: if ``root`` holds no published build.
        BuildFormatError: the build is of another format than this citygraph's, or records
            none (a ``StoreNotFoundError`` too: there is no build this citygraph can read).
    """
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        raise StoreNotFoundError(
            f"no built store at {root}: run `citygraph build --store {root}` first"
        ) from None
    except OSError as error:
        raise StoreNotFoundError(f"{link} is not a store pointer: {error.strerror}") from None
    path = (root / target).resolve()
    if not path.is_dir():
        raise StoreNotFoundError(f"{link} points to {path}, which does not exist")
    meta_file = path.with_suffix(".json")
    metadata: Mapping[str, Any] = {}
    if meta_file.is_file():
        metadata = json.loads(meta_file.read_text(encoding="utf-8"))
    if not any_format:
        build_format.check(
            metadata.get(build_format.KEY),
            build=f"the build {path.name} of {root}",
            rebuild=f"citygraph build --store {root}",
        )
    return Build(path=path, version=path.name, metadata=metadata)


def open_build(build: Build, *, in_memory: bool = False) -> ox.Store:
    """Open a published build read-only, or copy it into a fresh in-memory store.

    Raises:
        StoreNotFoundError: if the directory is not an Oxigraph store.
    """
    try:
        disk = ox.Store.read_only(str(build.path))
    except (OSError, RuntimeError) as error:  # RuntimeError: RocksDB found it corrupted
        raise StoreNotFoundError(f"cannot open the store at {build.path}: {error}") from None
    if not in_memory:
        return disk
    memory = ox.Store()
    memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    return memory


def open_current(
    root: Path, *, in_memory: bool = False, any_format: bool = False
) -> tuple[ox.Store, Build]:
    """Open the current build of ``root`` read-only; see :func:`current_build` and
    :func:`open_build`."""
    build = current_build(root, any_format=any_format)
    return open_build(build, in_memory=in_memory), build


@contextmanager
def write_lock(root: Path, *, timeout: float) -> Iterator[None]:
    """Hold the exclusive write lock of the store directory ``root`` (``DIR/.write.lock``).

    Every producer of builds (``citygraph build``, importers, SPARQL Update and Graph Store
    writes) holds it, so there is one writer at a time across processes, and a build directory in
    progress (``builds/.tmp-…``) found while holding it was left by a writer that died. The lock
    is an ``flock``: the kernel releases it when its holder dies, even by ``kill -9``.

    Raises:
        StoreBusyError: the lock was not free within ``timeout`` seconds.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"another build or write has held {root} for more than {timeout:g} s;"
                        " retry later"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def new_build_dir(root: Path, version: str) -> Path:
    """Create and return an empty directory for a build in progress under ``root``.

    Call it while holding :func:`write_lock`: leftovers of builds that were killed before they
    finished are removed first.
    """
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    for stale in builds.glob(TMP_PREFIX + "*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    path = builds / f"{TMP_PREFIX}{version}"
    path.mkdir()
    return path


def publish_build(root: Path, tmp_dir: Path, version: str, metadata: Mapping[str, Any]) -> Build:
    """Make the finished build in ``tmp_dir`` the current one, atomically.

    The store in ``tmp_dir`` must be closed (all handles dropped) before this is called.
    """
    builds = root / BUILDS
    final = builds / version
    meta_file = final.with_suffix(".json")
    tmp_meta = builds / f"{TMP_PREFIX}{version}.json"
    tmp_meta.write_text(json.dumps(metadata, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp_dir, final)
    os.replace(tmp_meta, meta_file)
    link_tmp = root / f"{TMP_PREFIX}{CURRENT}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(Path(BUILDS) / version, link_tmp)
    _fsync_dir(builds)
    os.replace(link_tmp, root / CURRENT)
    _fsync_dir(root)
    return Build(path=final, version=version, metadata=metadata)


def prune_builds(root: Path, *, keep: int = KEEP_BUILDS) -> list[str]:
    """Delete all but the ``keep`` newest published builds; never the current one.

    The previous build is kept by default so that a server still reading it while it switches to
    the new one is not pulled from under its feet. Returns the removed versions.
    """
    current = current_build(root, any_format=True).version
    builds = sorted(
        (p for p in (root / BUILDS).iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = []
    for path in builds[keep:]:
        if path.name == current:
            continue
        shutil.rmtree(path, ignore_errors=True)
        path.with_suffix(".json").unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
