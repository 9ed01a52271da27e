"""What the fuzzer watches besides the responses: a canary listener, processes, metrics, data."""

from __future__ import annotations

import re
import socket
import threading
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EXPECTED_503",
    "Canary",
    "Proc",
    "canonical_dump",
    "expected_503",
    "process_tree",
    "read_metrics",
]

#: The 503s the server documents (docs/endpoint.md, docs/reliability.md) carry ``Retry-After``
#: (an overloaded server, a busy writer) or say that the query ran out of time or of memory;
#: ``/healthz`` answers 503 when it cannot take more. Any other status >= 500 is a finding.
EXPECTED_503 = re.compile(rb"ran out of time|memory", re.IGNORECASE)


def expected_503(path: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether a 503 on ``path`` with ``headers`` (lower-case names) is a documented one."""
    if path.startswith("/healthz") or "retry-after" in headers:
        return True
    # The whole body (bounded): an HTML error page says why below its header and navigation.
    return EXPECTED_503.search(body[:200_000]) is not None


class Canary:
    """A TCP listener on 127.0.0.1 that no request may make the server connect to.

    Queries name it as ``SERVICE``, ``FROM`` or ``LOAD`` target, each with its own path
    (``/c/<case number>``), so a connection names the request that caused it.
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.hits: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fuzz-canary", daemon=True)
        self._thread.start()

    def iri(self, case_number: int) -> str:
        return f"http://127.0.0.1:{self.port}/c/{case_number}"

    def case_numbers(self) -> list[int]:
        """The case numbers in the paths the canary was asked for so far."""
        found = (re.search(r"/c/(\d+)", hit) for hit in self.hits)
        return [int(m.group(1)) for m in found if m]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    head = conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]
                except OSError:
                    head = "(connected, sent nothing)"
                self.hits.append(head)
                # An answer a SERVICE client would accept, so nothing retries.
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    rss_kib: int
    command: str


def _read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace")
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    rss = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
    )
    return Proc(pid, ppid, rss, raw.replace(b"\0", b" ").decode("utf-8", "replace").strip())


def process_tree(root: int) -> dict[int, Proc]:
    """``root`` and all its live descendants (zombies excluded), by pid."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            proc = _read_proc(int(entry.name))
            if proc is not None:
                procs[proc.pid] = proc
    tree: dict[int, Proc] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in procs and pid not in tree and procs[pid].command:
            tree[pid] = procs[pid]
            pending.extend(p.pid for p in procs.values() if p.ppid == pid)
    return tree


SAMPLE = re.compile(r"^([a-z_:]+)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN|[+-]Inf)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def read_metrics(base: str) -> tuple[dict[str, float], dict[str, set[str]], int]:
    """``/metrics``: each metric's sum over its series and each labelled series' value (keyed
    ``name{labels}``), each label's values, and the body size."""
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text = response.read().decode("utf-8")
    sums: dict[str, float] = {}
    labels: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match is None:
            continue
        name, label_text, value = match.groups()
        sums[name] = sums.get(name, 0.0) + float(value)
        if label_text:  # each series too: citygraph_query_process_ends_total{reason="crash"}
            sums[f"{name}{{{label_text}}}"] = float(value)
        for label, label_value in LABEL.findall(label_text or ""):
            labels.setdefault(f"{name}.{label}", set()).add(label_value)
    return sums, labels, len(text)


def canonical_dump(store_root: Path, *, exclude: Iterable[str]) -> tuple[list[str], list[str]]:
    """The current build as sorted N-Quads lines: those outside ``exclude`` graphs, and those in.

    Blank node labels are the store's own, stable across the copy-on-write builds of one store.
    """
    import pyoxigraph as ox

    from citygraph.store import current_build

    excluded = {f"<{graph}>" for graph in exclude}
    store = ox.Store.read_only(str(current_build(store_root).path))
    kept: list[str] = []
    left: list[str] = []
    for quad in store:
        line = f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name} ."
        (left if str(quad.graph_name) in excluded else kept).append(line)
    del store
    return sorted(kept), sorted(left)
