"""Writes (SPARQL Update, Graph Store PUT/POST/DELETE) as new builds: copy on write.

Builds are immutable and shared read-only by every worker's query processes, so a write never
touches the served build. It takes the store's write lock (``DIR/.write.lock``, an ``flock``:
one writer at a time across all processes and workers), checkpoints the current build into a new
build directory (RocksDB hard links: fast, and no bigger on disk until data changes), applies the
change there, and publishes it as the new ``current``, like ``citygraph build`` does. Every worker
switches to it within ``version_check_interval``; the worker that wrote switches before it
answers, so a client reads its own writes. A failed write publishes nothing.

Cost: each write is a new build (and, with ``in_memory``, a reload in every query process), so
this suits occasional curation, not a stream of small writes.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from citygraph import __version__

# The build's own writers of graph:meta and of its counts, so that a write records itself as a
# build does (issue 10 wants these in one public place; until then they are shared from here).
from citygraph.build import _quads_per_graph, _write_meta, derive
from citygraph.errors import StoreBusyError as WriteBusyError
from citygraph.namespaces import GRAPH_META
from citygraph.store import (
    LOCK_FILE,
    Build,
    current_build,
    new_build_dir,
    prune_builds,
    publish_build,
    write_lock,
)

__all__ = ["LOCK_FILE", "WriteBusyError", "apply_write", "write_lock"]

#: Builds kept after a write: the new one, the one workers may still be reading, one more.
KEEP_AFTER_WRITE = 3

T = TypeVar("T")


def apply_write(
    root: Path,
    change: Callable[[ox.Store], T],
    *,
    description: str,
    lock_timeout: float,
) -> tuple[T, Build]:
    """Apply ``change`` to a copy of the current build and publish the copy.

    ``change`` gets a writable store and may raise to abandon the write (nothing is published).
    Returns what ``change`` returned and the published build.

    Raises:
        WriteBusyError: the write lock was not free in time.
        StoreNotFoundError: there is no current build to change.
    """
    with write_lock(root, timeout=lock_timeout):
        base = current_build(root)
        version = _new_version(base, description)
        tmp_dir = new_build_dir(root, version)
        try:
            tmp_dir.rmdir()  # the checkpoint creates the directory itself
            ox.Store.read_only(str(base.path)).backup(str(tmp_dir))
            target = ox.Store(str(tmp_dir))
            result = change(target)
            derive(target)  # the derived links follow the written data, as after a build
            # graph:meta and the build's metadata as a build writes them: the new version and
            # date (/dataset's dcterms:modified), the quads per graph (issue 15)
            target.clear_graph(ox.NamedNode(GRAPH_META))
            _write_meta(target, version)
            counts = _quads_per_graph(target)
            target.flush()
            del target  # close the store before its directory is renamed
            metadata: dict[str, Any] = {
                **base.metadata,
                "version": version,
                "built": datetime.now(UTC).isoformat(timespec="seconds"),
                "citygraph": __version__,
                "quads_per_graph": counts,
                "derived_from": base.version,
                "write": description,
            }
            build = publish_build(root, tmp_dir, version, metadata)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        prune_builds(root, keep=KEEP_AFTER_WRITE)
    return result, build


def _new_version(base: Build, description: str) -> str:
    # Same shape as `citygraph build` versions, so builds sort by time whoever made them.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    digest = hashlib.sha256(f"{base.version}\n{description}\n{time.time_ns()}".encode())
    return f"{stamp}-{digest.hexdigest()[:10]}"
