"""Run the fuzzer against a real ``citygraph serve`` and check what it must never do.

Checks (issue 9 §6): no status >= 500 other than the documented 503s
(:data:`~bench.fuzz.observe.EXPECTED_503`), no traceback in a body or the server's log, no
process crash (the server, and query processes ending other than at a timeout or a build
switch; crash counters in ``/metrics``), no connection to the canary (no request reaches the
network), a closed set of metric labels, and the data unchanged at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import servers
from bench.fuzz.cases import Case, Generator, rdf_bodies
from bench.fuzz.grammar import FUZZ_GRAPHS
from bench.fuzz.observe import (
    Canary,
    Proc,
    canonical_dump,
    expected_503,
    process_tree,
    read_metrics,
)
from bench.fuzz.routes import app_routes, harvest_links
from citygraph.namespaces import GRAPH_META

__all__ = ["Finding", "Options", "Report", "build_store", "explain_deaths", "fuzz", "send"]

TOKEN = "fuzz-s3cret"
TRACEBACK = b"Traceback (most recent call last)"
#: HTTP methods a closed ``method`` label set may name (anything else must be folded).
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}


@dataclass(frozen=True)
class Options:
    requests: int = 100_000
    seconds: float = 900.0
    seed: int = 1
    concurrency: int = 4
    query_timeout: float = 2.0
    failures: Path = Path("var/fuzz/failures.jsonl")
    #: Only the routes whose template starts with one of these (all when empty).
    only: tuple[str, ...] = ()


@dataclass
class Finding:
    what: str
    detail: str
    case: Case | None = None
    status: int | None = None


@dataclass
class Report:
    sent: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    kind_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    expected_503: int = 0
    findings: list[Finding] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    restarts: int = 0
    #: The run's work directory (store, server logs ``logs-N/citygraph.log``, the failing
    #: requests), kept when there were findings; ``None`` when it was removed.
    kept: Path | None = None

    def summary(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        by_what = Counter(f.what for f in self.findings)
        lines = [
            f"fuzz: {self.sent} requests in {self.seconds:.0f} s ({rate:.0f}/s), "
            f"{len(self.routes)} routes, {self.restarts} server restarts",
            "statuses: " + ", ".join(f"{s} x{n}" for s, n in sorted(self.statuses.items())),
            "kinds (requests, mean ms): "
            + ", ".join(
                f"{k} {n} {1000 * self.kind_seconds[k] / n:.0f}"
                for k, n in sorted(self.kinds.items())
            ),
            f"documented 503s (timeout, overload, memory limit): {self.expected_503}",
            f"findings: {len(self.findings)}"
            + "".join(f"\n  {what}: {n}" for what, n in sorted(by_what.items())),
        ]
        if self.kept is not None:
            lines.append(
                f"kept for inspection: {self.kept} (server logs in logs-*/, the failing "
                "requests in failures.jsonl, the store in store/)"
            )
        return "\n".join(lines)


def build_store(root: Path) -> None:
    """``citygraph build`` of the repository's data into ``root`` (a fresh store)."""
    built = subprocess.run(
        [sys.executable, "-m", "citygraph", "build", "--quiet", "--store", str(root)],
        cwd=servers.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError("citygraph build failed:\n" + built.stdout + built.stderr)


def send(
    conn: http.client.HTTPConnection, case: Case, *, max_body: int = 80_000_000
) -> tuple[int, dict[str, str], bytes]:
    """Send ``case`` on ``conn``; the status, headers (lower-case names) and body."""
    conn.putrequest(case.method, case.target, skip_accept_encoding=True)
    for name, value in case.headers:
        conn.putheader(name, value)
    if case.body or case.method in ("POST", "PUT", "PATCH"):
        conn.putheader("Content-Length", str(len(case.body)))
    conn.endheaders(case.body or None)
    response = conn.getresponse()
    body = response.read(max_body)
    headers = {k.lower(): v for k, v in response.getheaders()}
    if response.will_close or not response.isclosed():
        conn.close()
    return response.status, headers, body


class _Run:
    """One fuzzing run: the server, the generator, the workers and what they found."""

    def __init__(self, options: Options, work: Path) -> None:
        self.options = options
        self.work = work
        self.store = work / "store"
        self.report = Report()
        self.lock = threading.Lock()
        self.canary = Canary()
        self.server: servers.Server | None = None
        self.seen: dict[int, Proc] = {}
        self.failures: list[Finding] = []
        self.dead = threading.Event()
        env = {
            "CITYGRAPH_UPDATE_TOKEN": TOKEN,
            "CITYGRAPH_QUERY_TIMEOUT": str(options.query_timeout),
            "CITYGRAPH_QUERY_PROCESSES": "2",
            "CITYGRAPH_WRITE_TIMEOUT": "30",
        }
        # One worker: its metrics are the whole server's, and its process tree is the server's.
        self.spec = servers.citygraph_spec(self.store, workers=1, env=env)

    # -- the server -------------------------------------------------------------------------

    def start(self) -> None:
        log_dir = self.work / f"logs-{self.report.restarts}"
        self.server = servers.start(self.spec, log_dir, ready_timeout=180)

    def base(self) -> str:
        assert self.server is not None
        return self.server.base

    def server_alive(self, *, wait: float) -> bool:
        assert self.server is not None
        try:
            self.server.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return True
        return False

    def sample_processes(self) -> None:
        assert self.server is not None
        for pid, proc in process_tree(self.server.pid).items():
            self.seen.setdefault(pid, proc)

    def find(self, finding: Finding) -> None:
        with self.lock:
            self.report.findings.append(finding)

    # -- sending ----------------------------------------------------------------------------

    def check(self, case: Case, status: int, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.report.statuses[status] += 1
        if TRACEBACK in body:
            self.find(
                Finding("traceback-in-body", body[:300].decode("utf-8", "replace"), case, status)
            )
        if status == 503 and case.method == "HEAD" and not body:
            # HEAD has no body to say why: the same request as GET tells.
            conn = self.connect()
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, headers, body = send(conn, replace(case, method="GET"))
            conn.close()
        if status == 503 and expected_503(case.target, headers, body):
            with self.lock:
                self.report.expected_503 += 1
        elif status >= 500:
            detail = body[:300].decode("utf-8", "replace").strip()
            self.find(Finding(f"status-{status}", detail, case, status))

    def connect(self) -> http.client.HTTPConnection:
        port = self.server.port if self.server else 0
        return http.client.HTTPConnection(
            "127.0.0.1", port, timeout=self.options.query_timeout + 60
        )

    def worker(self, cases: list[Case], deadline: float) -> None:
        conn: http.client.HTTPConnection | None = None
        try:
            conn = self._work(cases, deadline)
        finally:
            if conn is not None:
                conn.close()

    def _work(self, cases: list[Case], deadline: float) -> http.client.HTTPConnection | None:
        conn: http.client.HTTPConnection | None = None
        while True:
            with self.lock:
                if not cases or time.monotonic() > deadline or self.dead.is_set():
                    return conn
                case = cases.pop()
                self.report.sent += 1
                self.report.kinds[case.kind] += 1
            started = time.monotonic()
            reused = conn is not None
            for attempt in (1, 2):
                conn = conn or self.connect()
                try:
                    status, headers, body = send(conn, case)
                    error = None
                    break
                except (OSError, http.client.HTTPException) as failure:
                    conn.close()
                    conn = None
                    error = failure
                    # A kept-alive connection the server closed after its last answer (allowed
                    # by HTTP/1.1 §9.6) fails at once: the request goes again on a new one.
                    if not reused or attempt == 2:
                        break
            with self.lock:
                self.report.kind_seconds[case.kind] += time.monotonic() - started
            if error is not None:
                alive = self.server_alive(wait=2.0)
                # When the server died, every request in flight fails: one of them killed it.
                what = "no-response" if alive else "server-died (in flight)"
                self.find(Finding(what, f"{type(error).__name__}: {error}", case))
                if not alive:
                    self.dead.set()
                    return None
                continue
            self.check(case, status, headers, body)
            if conn is not None and conn.sock is None:
                conn = None

    # -- the whole run ----------------------------------------------------------------------

    def run(self) -> Report:
        options = self.options
        build_store(self.store)
        before = _data(canonical_dump(self.store, exclude=FUZZ_GRAPHS)[0])
        routes = app_routes(self.store)
        if options.only:
            routes = [r for r in routes if r.template.startswith(options.only)]
        self.report.routes = [r.template for r in routes]
        self.start()
        links = self.harvest()
        rng = random.Random(options.seed)
        generator = Generator(
            rng, routes=routes, links=links, token=TOKEN, canary="", bodies=rdf_bodies()
        )
        metrics_before, _, _ = read_metrics(self.base())
        started = time.monotonic()
        deadline = started + options.seconds
        number = 0
        batch = 200
        sweep = generator.sweep()
        while self.report.sent < options.requests and time.monotonic() < deadline:
            cases = []
            numbered = {}
            for _ in range(min(batch, options.requests - self.report.sent)):
                number += 1
                generator.sparql.canary = self.canary.iri(number)
                cases.append(sweep.pop(0) if sweep else generator.next())
                numbered[number] = cases[-1]
            cases.reverse()
            threads = [
                threading.Thread(target=self.worker, args=(cases, deadline), daemon=True)
                for _ in range(options.concurrency)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.sample_processes()
            self.attribute_canary(numbered)
            if self.dead.is_set():
                self.restart()
        self.report.seconds = time.monotonic() - started
        self.finish(metrics_before, before)
        return self.report

    def attribute_canary(self, numbered: dict[int, Case]) -> None:
        """A finding for each request of the batch that made the server connect to the canary."""
        for number in sorted(set(self.canary.case_numbers()) & set(numbered)):
            self.find(Finding("network-reached", f"canary asked for /c/{number}", numbered[number]))

    def harvest(self) -> list[str]:
        """Links of the home page, the listings and the sitemap: real paths to start from."""
        links: set[str] = set()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port if self.server else 0)
        for path in ("/", "/partnerships", "/places", "/sources", "/sitemap.xml"):
            status, _, body = send(conn, Case("harvest", "GET", path))
            conn.close()
            if status == 200:
                links |= harvest_links(body, self.base())
        return sorted(links)[:2000]

    def restart(self) -> None:
        assert self.server is not None
        self.server.process.wait(timeout=30)
        code = self.server.process.returncode
        self.find(Finding("server-exited", f"citygraph serve exited with {code}; restarted"))
        self.scan_log()
        servers.stop(self.server)
        self.report.restarts += 1
        self.dead.clear()
        self.start()

    def scan_log(self) -> None:
        assert self.server is not None
        text = self.server.log.read_bytes()
        count = text.count(TRACEBACK)
        if count:
            lines = text[text.index(TRACEBACK) :].decode("utf-8", "replace").splitlines()
            # The exception is the first line after the traceback that is not indented.
            error = next((line for line in lines[1:] if not line.startswith(" ")), "?")
            self.find(Finding("traceback-in-log", f"{count} in {self.server.log}, first: {error}"))

    def finish(self, metrics_before: dict[str, float], before: list[str]) -> None:
        assert self.server is not None
        base = self.base()
        if self.server.process.poll() is not None:
            self.restart()
        metrics_after, labels, size = read_metrics(base)
        self.check_processes(metrics_before, metrics_after)
        methods = labels.get("citygraph_http_requests_total.method", set())
        invented = sorted(methods - KNOWN_METHODS - {"other", "OTHER"})
        if invented:
            self.find(
                Finding(
                    "metrics-labels-open",
                    f"/metrics has {len(invented)} method labels outside a closed set "
                    f"(e.g. {invented[:3]}), {size} bytes",
                )
            )
        for crash in sorted(k for k in metrics_after if "crash" in k or "died" in k):
            grew = metrics_after[crash] - metrics_before.get(crash, 0.0)
            if grew > 0:
                self.find(Finding("process-crash", f"{crash} grew by {grew:g}"))
        self.revert()
        servers.stop(self.server)
        self.scan_log()
        explain_deaths(self.report.findings, sorted(self.work.glob("logs-*/*.log")))
        self.canary.close()
        after, left = canonical_dump(self.store, exclude=FUZZ_GRAPHS)
        after = _data(after)
        if after != before:
            gone = sorted(set(before) - set(after))
            new = sorted(set(after) - set(before))
            self.find(
                Finding(
                    "data-changed",
                    f"{len(gone)} quads gone, {len(new)} new outside the fuzz graphs; "
                    f"gone {gone[:3]}, new {new[:3]}",
                )
            )
        if left:
            self.find(Finding("revert-failed", f"{len(left)} quads left in the fuzz graphs"))

    def check_processes(self, before: dict[str, float], after: dict[str, float]) -> None:
        """Query processes that ended must be explained by timeouts or build switches."""
        assert self.server is not None
        alive = process_tree(self.server.pid)
        self.sample_processes()
        ended = [p for pid, p in self.seen.items() if pid not in alive]
        killed = after.get("citygraph_query_processes_killed_total", 0) - before.get(
            "citygraph_query_processes_killed_total", 0
        )
        switches = after.get("citygraph_build_switches_total", 0) - before.get(
            "citygraph_build_switches_total", 0
        )
        per_generation = after.get("citygraph_query_processes", 2)
        memory = 'citygraph_query_process_ends_total{reason="memory"}'
        over_budget = after.get(memory, 0) - before.get(memory, 0)
        # an engine panic (a 422 that says so) ends its process too
        panic = 'citygraph_query_process_ends_total{reason="panic"}'
        panics = after.get(panic, 0) - before.get(panic, 0)
        explained = killed + switches * per_generation + over_budget + panics
        if self.report.restarts == 0 and len(ended) > explained:
            self.find(
                Finding(
                    "process-crash",
                    f"{len(ended)} server processes ended, {explained:g} explained by "
                    f"{killed:g} timeouts, {over_budget:g} memory budgets, {panics:g} engine "
                    f"panics and {switches:g} build switches",
                )
            )

    def revert(self) -> None:
        """Drop the fuzz graphs with the token: the only data the fuzzer may have written."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.server.port if self.server else 0, timeout=60
        )
        for graph in FUZZ_GRAPHS:
            target = "/store?graph=" + graph
            case = Case("revert", "DELETE", target, [("Authorization", f"Bearer {TOKEN}")])
            status, _, body = send(conn, case)
            conn.close()
            if status not in (204, 404):
                self.find(
                    Finding("revert-failed", body[:200].decode("utf-8", "replace"), case, status)
                )


def fuzz(options: Options, *, work: Path | None = None) -> Report:
    """Fuzz a fresh server (store built under ``work``, a new temporary directory by default).

    Writes the requests behind findings to ``options.failures`` (JSON lines, for ``--replay``).
    A temporary work directory is removed when nothing was found and kept otherwise (its path
    in :attr:`Report.kept` and the summary): the server's log says how a process ended.
    """
    own = work is None
    root = Path(tempfile.mkdtemp(prefix="citygraph-fuzz-")) if work is None else work
    try:
        report = _Run(options, root).run()
    except BaseException:
        if own:
            print(f"fuzz: the run failed; its work directory is kept: {root}", file=sys.stderr)
        raise
    if report.findings:
        report.kept = root
        _write_failures(report, root / "failures.jsonl")
    elif own:
        shutil.rmtree(root, ignore_errors=True)
    _write_failures(report, options.failures)
    return report


def _write_failures(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for finding in report.findings:
            record: dict[str, object] = {
                "what": finding.what,
                "status": finding.status,
                "detail": finding.detail,
            }
            if finding.case is not None:
                record["case"] = finding.case.to_json()
            out.write(json.dumps(record) + "\n")


#: How the server names a query process in a 500 and in its log.
_PROCESS = re.compile(rb"query process (\d+)")


def explain_deaths(findings: list[Finding], logs: list[Path]) -> None:
    """Add to each finding that names a query process what the server logged about it (its
    exit status and last words: why it ended)."""
    text = b"".join(log.read_bytes() for log in logs if log.is_file())
    for finding in findings:
        named = _PROCESS.search(finding.detail.encode())
        if named is None:
            continue
        lines = text.splitlines()
        said: list[str] = []
        for number, line in enumerate(lines):
            match = _PROCESS.search(line)
            if match and match.group(1) == named.group(1):
                # the line and what follows it (the process's last words span lines)
                said += [x.decode("utf-8", "replace")[:500] for x in lines[number : number + 12]]
        if said:
            finding.detail += "\n  the server's log: " + "\n  ".join(said[:40])


#: graph:meta records each build (its version and date): every write rewrites it, as a build
#: does (issue 15), so it is not data the fuzzer must leave unchanged.
_META = f"<{GRAPH_META}> ."


def _data(lines: list[str]) -> list[str]:
    """``lines`` (N-Quads) without graph:meta's."""
    return [line for line in lines if not line.endswith(_META)]
