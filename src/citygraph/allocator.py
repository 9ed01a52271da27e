"""The C allocator of a long-running server worker: few arenas, so freed memory is reused.

glibc's ``malloc`` gives each thread that allocates concurrently an arena of its own, up to
eight per core. A server worker runs its request handlers in a pool of threads (Starlette's,
40), each allocating response bodies, query texts and cache entries in whichever arena it got;
memory freed in one arena (an evicted cache entry) serves only later allocations that land in
that arena, and the arenas' free chunks add up. Measured with ``python -m bench.soak`` (3
minutes, docs/reliability.md): with the caches already full, the worker's memory grew from 127
to 214 MiB (PSS) and was still growing; with two arenas, from 122 to 150 MiB, levelling off
after the first minute. The worker's threads take turns on the GIL anyway, so two arenas cost
no measurable contention.

No web framework here; the server worker calls :func:`limit_arenas` when it starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["ARENAS", "limit_arenas"]

#: Arenas a server worker's allocator may use (glibc's ``M_ARENA_MAX``).
ARENAS = 2

# <malloc.h>
_M_ARENA_MAX = -8


def limit_arenas(count: int = ARENAS) -> bool:
    """Let glibc's ``malloc`` use at most ``count`` arenas in this process (threads started
    later share them); whether it applied (False without glibc, e.g. musl or macOS).

    Like the ``MALLOC_ARENA_MAX`` environment variable, but for the calling process only, and
    once it runs (the variable must be set before the process starts).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)  # glibc only
    if mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, count))
