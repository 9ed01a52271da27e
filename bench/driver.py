"""The load driver: validation of answers, timed load with ``wrk`` (or Python threads), CPU use.

Measurements follow ``shared/BENCHMARKING.md``: GET requests to servers on 127.0.0.1, every
loop bounded in time and in requests, answers validated before timing, and the CPU used by
other processes recorded for each measurement (if it is not near zero, the run was disturbed).
``wrk`` is used when installed (a Python client costs 1-3 ms of CPU per request and becomes the
bottleneck on small queries); the threaded Python client is the fallback.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Measurement",
    "Request",
    "Validation",
    "ensure_wrk",
    "measure",
    "validate",
]

MAX_REQUESTS = 200_000
REQUEST_TIMEOUT_S = 120


@dataclass(frozen=True)
class Request:
    """One GET request: the query text and the Accept header."""

    query: str
    accept: str

    def path(self, query_path: str) -> str:
        return query_path + "?" + urllib.parse.urlencode({"query": self.query})


@dataclass
class Measurement:
    """The result of one timed load run against one server."""

    server: str
    query: str
    concurrency: int
    run: int
    tool: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # cores used by the measured server's processes
    client_cpu: float  # cores used by the load generator
    other_cpu: float  # cores used by everything else (should be near zero)
    load1: float = 0.0  # the machine's 1-minute load average at the end (it is shared)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["throughput"] = self.throughput
        return data


@dataclass
class Validation:
    """The answers of every server to every variant of one query."""

    query: str
    counts: dict[str, list[int]]  # server -> result count per variant
    bytes: dict[str, list[int]]  # server -> body size per variant
    statuses: dict[str, list[int]]
    same_content: list[bool]
    seconds: dict[str, list[float]] = field(default_factory=dict)  # server -> cold latencies

    @property
    def ok(self) -> bool:
        servers = list(self.counts)
        if any(status != 200 for s in servers for status in self.statuses[s]):
            return False
        first = self.counts[servers[0]]
        return all(self.counts[s] == first for s in servers[1:])


# -- validation ------------------------------------------------------------------------------


def fetch(base: str, path: str, accept: str) -> tuple[int, bytes]:
    """GET ``path`` from ``base`` (``http://host:port``); return the status and body."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(
        parsed.hostname or "127.0.0.1", parsed.port, timeout=REQUEST_TIMEOUT_S
    )
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def canonical(body: bytes, accept: str) -> Counter[str]:
    """The answer as a multiset of rows or triples, independent of order and formatting."""
    if accept == "application/n-triples":
        return Counter(line.strip() for line in body.decode().splitlines() if line.strip())
    data = json.loads(body)
    if "boolean" in data:
        return Counter([str(data["boolean"])])
    rows: Counter[str] = Counter()
    for binding in data["results"]["bindings"]:
        rows[json.dumps(binding, sort_keys=True)] += 1
    return rows


def validate(
    name: str, requests: Sequence[Request], servers: Sequence[tuple[str, str, str]]
) -> Validation:
    """Send every request to every server (``(name, base, query_path)``) and compare answers.

    Counts must be equal; whether the contents are equal is recorded (a ``LIMIT`` without
    ``ORDER BY`` may legitimately return different rows).
    """
    counts: dict[str, list[int]] = {s[0]: [] for s in servers}
    sizes: dict[str, list[int]] = {s[0]: [] for s in servers}
    statuses: dict[str, list[int]] = {s[0]: [] for s in servers}
    seconds: dict[str, list[float]] = {s[0]: [] for s in servers}
    same: list[bool] = []
    for request in requests:
        answers = []
        for server, base, query_path in servers:
            began = time.perf_counter()
            status, body = fetch(base, request.path(query_path), request.accept)
            seconds[server].append(time.perf_counter() - began)
            statuses[server].append(status)
            sizes[server].append(len(body))
            if status == 200:
                rows = canonical(body, request.accept)
                counts[server].append(sum(rows.values()))
                answers.append(rows)
            else:
                counts[server].append(-1)
                answers.append(Counter({body.decode(errors="replace")[:200]: 1}))
        same.append(all(a == answers[0] for a in answers[1:]))
    return Validation(name, counts, sizes, statuses, same, seconds)


# -- CPU accounting --------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int:
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                rest = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(rest[1]), []).append(int(entry))
    return tree


def _tree_ticks(roots: Sequence[int]) -> dict[int, int]:
    """CPU ticks (user + system) of each live process in the trees rooted at ``roots``."""
    tree = _children()
    pending = list(roots)
    ticks: dict[int, int] = {}
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
                rest = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(rest[11]) + int(rest[12])
        pending.extend(tree.get(pid, []))
    return ticks


def wait_until_quiet(
    pids: Sequence[int], *, threshold: float = 0.25, max_wait: float = 20.0
) -> float:
    """Wait (at most ``max_wait`` s) until the machine, less ``pids``, uses < ``threshold`` cores.

    Returns the cores used by the others in the last sample. The machines are shared: starting a
    measurement while someone's test suite runs measures them, not us.
    """
    if max_wait <= 0:
        return 0.0
    deadline = time.monotonic() + max_wait
    while True:
        busy, tree = _busy_ticks(), _tree_ticks(pids)
        time.sleep(0.5)
        busy_after, tree_after = _busy_ticks(), _tree_ticks(pids)
        others = max(0, (busy_after - busy) - _delta(tree, tree_after)) / _TICK / 0.5
        if others < threshold or time.monotonic() >= deadline:
            return others


def _delta(before: dict[int, int], after: dict[int, int]) -> int:
    return sum(after[pid] - before.get(pid, 0) for pid in after)


@dataclass
class _CpuSnapshot:
    busy: int
    measured: dict[int, int]
    others: dict[int, int]  # the other compared servers (idle during the run)
    self_ticks: float
    children_ticks: float


def _snapshot(measured: int, others: Sequence[int]) -> _CpuSnapshot:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _CpuSnapshot(
        busy=_busy_ticks(),
        measured=_tree_ticks([measured]),
        others=_tree_ticks(others),
        self_ticks=(own.ru_utime + own.ru_stime) * _TICK,
        children_ticks=(kids.ru_utime + kids.ru_stime) * _TICK,
    )


# -- load ------------------------------------------------------------------------------------


def ensure_wrk(*, install: bool = True) -> str | None:
    """The path of ``wrk``, installing Debian's package when missing and allowed."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if shutil.which("apt-get") is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 600}
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, **quiet)  # type: ignore[call-overload]
    return shutil.which("wrk")


_WRK_SCRIPT = """
local requests = {
%s
}
local index = 0
request = function()
  index = index + 1
  local r = requests[((index - 1) %% #requests) + 1]
  return wrk.format("GET", r[1], {["Accept"] = r[2]})
end
done = function(summary, latency, reqs)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"errors\\": %%d, " ..
    "\\"p50_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _run_wrk(
    wrk: str, base: str, paths: Sequence[tuple[str, str]], concurrency: int, duration: float
) -> tuple[int, int, float, float, float]:
    entries = ",\n".join(f'  {{"{path}", "{accept}"}}' for path, accept in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % entries)
    try:
        command = [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={REQUEST_TIMEOUT_S}s",
            "-s",
            script.name,
            base + "/",
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration + REQUEST_TIMEOUT_S + 30,
            check=False,
        )
    finally:
        os.unlink(script.name)
    for line in result.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line[len("BENCHJSON ") :])
            return (
                data["requests"],
                data["errors"],
                data["duration_us"] / 1e6,
                data["p50_us"] / 1e3,
                data["p99_us"] / 1e3,
            )
    raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr[-1000:]}")


def _run_python(
    base: str, paths: Sequence[tuple[str, str]], concurrency: int, duration: float
) -> tuple[int, int, float, float, float]:
    parsed = urllib.parse.urlsplit(base)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = [0]
    started = time.perf_counter()
    deadline = started + duration

    def worker() -> None:
        connection = http.client.HTTPConnection(
            parsed.hostname or "127.0.0.1", parsed.port, timeout=REQUEST_TIMEOUT_S
        )
        mine: list[float] = []
        failed = 0
        while time.perf_counter() < deadline:
            with lock:
                index = counter[0]
                counter[0] += 1
            if index >= MAX_REQUESTS:
                break
            path, accept = paths[index % len(paths)]
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept": accept})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
            mine.append(time.perf_counter() - began)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + REQUEST_TIMEOUT_S + 30)
    elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        return 0, errors[0], elapsed, 0.0, 0.0

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e3

    return len(latencies), errors[0], elapsed, percentile(50), percentile(99)


def measure(
    *,
    server: str,
    base: str,
    query_path: str,
    query: str,
    requests: Sequence[Request],
    concurrency: int,
    duration: float,
    run: int,
    measured_pid: int,
    other_pids: Sequence[int],
    wrk: str | None,
) -> Measurement:
    """Load one server with ``requests`` (cycled) for ``duration`` seconds at ``concurrency``."""
    paths = [(r.path(query_path), r.accept) for r in requests]
    before = _snapshot(measured_pid, other_pids)
    wall = time.perf_counter()
    if wrk is not None:
        count, errors, seconds, p50, p99 = _run_wrk(wrk, base, paths, concurrency, duration)
        tool = "wrk"
    else:
        count, errors, seconds, p50, p99 = _run_python(base, paths, concurrency, duration)
        tool = "python"
    wall = time.perf_counter() - wall
    after = _snapshot(measured_pid, other_pids)
    busy = after.busy - before.busy
    server_ticks = _delta(before.measured, after.measured)
    idle_servers = _delta(before.others, after.others)
    client = (after.self_ticks - before.self_ticks) + (after.children_ticks - before.children_ticks)
    other = max(0.0, busy - server_ticks - idle_servers - client)
    return Measurement(
        server=server,
        query=query,
        concurrency=concurrency,
        run=run,
        tool=tool,
        requests=count,
        errors=errors,
        seconds=seconds,
        p50_ms=p50,
        p99_ms=p99,
        server_cpu=server_ticks / _TICK / wall,
        client_cpu=client / _TICK / wall,
        other_cpu=(other + idle_servers) / _TICK / wall,
        load1=os.getloadavg()[0],
    )


def save(measurements: Sequence[Measurement], path: Path) -> None:
    path.write_text(json.dumps([m.as_dict() for m in measurements], indent=1), encoding="utf-8")
