"""The server worker's allocator uses few arenas (citygraph.allocator), seen in glibc's own
account of its heaps (``malloc_info``), in a fresh process with threads that allocate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
import ctypes, ctypes.util, sys, threading
from citygraph import allocator
if sys.argv[1] == "limit":
    assert allocator.limit_arenas()
together = threading.Barrier(8)
def work():
    together.wait()  # all alive at once: none inherits an arena another thread left
    kept = [bytes(4096) for _ in range(200)]  # over pymalloc's 512 bytes: glibc's malloc
    together.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
out = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
"""


def _heaps(tmp_path: Path, mode: str) -> int:
    report = tmp_path / f"{mode}.xml"
    subprocess.run([sys.executable, "-c", PROGRAM, mode, str(report)], check=True, timeout=60)
    return report.read_text(encoding="utf-8").count("<heap nr=")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_info")
def test_threads_share_the_limited_arenas(tmp_path: Path) -> None:
    assert _heaps(tmp_path, "default") > 2  # each thread would get an arena of its own
    assert _heaps(tmp_path, "limit") <= 2
