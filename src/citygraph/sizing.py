"""How large a build will be, and whether it fits in memory (:func:`fits_in_memory`).

A build is assembled in an in-memory Oxigraph store when it fits, else on disk
(:mod:`citygraph.build`); ``citygraph validate --store`` copies a store into memory on the same
condition.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "BYTES_PER_TRIPLE",
    "BYTES_PER_TRIPLE_DEFAULT",
    "CURATED_SHARE",
    "DERIVED_SHARE",
    "MEMORY_PER_QUAD",
    "estimated_build_quads",
    "estimated_quads",
    "fits_in_memory",
]

#: What one quad of a build assembled in memory costs at the build's peak: the store, its share
#: of the strings, and validation's intermediate results (measured: a 3.0 GB peak for the 4.99M
#: quads of the synthetic 1M graph's build, 2026-12-07, docs/performance.md; the store alone
#: takes about 400 bytes a quad).
MEMORY_PER_QUAD = 600
#: Input bytes per triple, to estimate a build's size before parsing: N-Triples of the
#: synthetic graph take about 170 bytes a triple; Turtle is denser (prefixes, ``;`` and ``,``).
BYTES_PER_TRIPLE = {".nt": 120, ".nq": 120}
BYTES_PER_TRIPLE_DEFAULT = 40
#: Derived links and superclass types add about a fifth to the loaded quads.
DERIVED_SHARE = 1.25
#: Curated data grows five-fold: each triple about a thing with a source also becomes an
#: ``rdf:Statement`` of five quads or more in graph:derived (statement-level provenance,
#: :data:`citygraph.publish.DERIVE_UPDATES`; measured: 4.99M quads published from the 1.0M
#: triples of the synthetic 1M graph).
CURATED_SHARE = 5.0


def fits_in_memory(quads: int) -> bool:
    """Whether an in-memory store of ``quads`` quads takes at most half the available memory."""
    return quads * MEMORY_PER_QUAD <= _available_memory() // 2


def estimated_quads(paths: Iterable[Path]) -> int:
    """About how many quads the RDF files ``paths`` hold, from their sizes."""
    return sum(
        p.stat().st_size // BYTES_PER_TRIPLE.get(p.suffix, BYTES_PER_TRIPLE_DEFAULT) for p in paths
    )


def estimated_build_quads(
    *, curated: Iterable[Path], other: Iterable[Path] = (), carried: int = 0
) -> int:
    """About how many quads a build publishes from ``curated`` files (graph:curated), ``other``
    files (ontology, vocabularies…) and ``carried`` quads of graphs it copies over: what
    :func:`citygraph.build.build_store` passes to :func:`fits_in_memory`."""
    loaded = estimated_quads(other) + carried
    return int(estimated_quads(curated) * CURATED_SHARE + loaded * DERIVED_SHARE)


def _available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), else physical RAM."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
