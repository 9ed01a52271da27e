"""A private Virtuoso Open Source instance on 127.0.0.1 for the tests and the bench (issue 11 §2).

Debian's `virtuoso-opensource` is installed by ``scripts/virtuoso.sh`` (called by
``scripts/test.sh``); this module only starts it (for the tests and ``python -m bench
backends``): its own ``virtuoso.ini`` in a temporary database directory, free ports for SQL
(isql) and HTTP, nothing on other interfaces. After start the ``SPARQL`` account (the one
anonymous HTTP requests run as) gets the right to update, so the SPARQL 1.1 Update
endpoint (``/sparql``) and the Graph Store endpoint (``/sparql-graph-crud``) accept writes from
127.0.0.1 without authentication, as a test backend should.

Run ``python -m tests.virtuoso DIR`` to start one by hand (Ctrl-C or SIGTERM stops it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
from tests.serving import free_port, wait_until_answers

__all__ = ["VIRTUOSO", "Virtuoso", "isql", "put_graphs", "running_virtuoso"]

VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"
#: Pages Virtuoso serves besides the endpoints (only its default index page); Debian's copy.
VSP_ROOT = "/var/lib/virtuoso-opensource-7/vsp"
#: The account every fresh database starts with; only reachable on 127.0.0.1 here.
DBA_PASSWORD = "dba"

# Debian's defaults, minus what a test instance must not do: listen beyond loopback, cap result
# sets at 10,000 rows (ResultSetMaxRows silently truncates: a dialect difference we avoid rather
# than hide), or hold 2 GB per query.
INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort           = 127.0.0.1:{sql_port}
DisableUnixSocket    = 1
MaxClientConnections = 20
CheckpointInterval   = 60
CaseMode             = 2
DirsAllowed          = ., {dir}
NumberOfBuffers      = 20000
MaxDirtyBuffers      = 12000
MaxQueryMem          = 512M
ThreadsPerQuery      = 2
AsyncQueueMaxThreads = 4

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {vsp}
MaxClientConnections = 20
ServerThreads        = 20
MaxKeepAlives        = 20
KeepAliveTimeout     = 10
Charset              = UTF-8
EnabledGzipContent   = 0

[SPARQL]
ResultSetMaxRows           = 10000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 120
"""

#: Anonymous SPARQL over HTTP runs as the SQL user "SPARQL"; these let it write (Update and the
#: Graph Store protocol). The second grant is what Virtuoso's own docs add for INSERT DATA.
GRANTS = (
    'GRANT SPARQL_UPDATE TO "SPARQL";',
    'GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "SPARQL";',
    'GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO "SPARQL";',
)


@dataclass(frozen=True)
class Virtuoso:
    """A running instance: its endpoints (all on 127.0.0.1) and where it keeps its files."""

    http_port: int
    sql_port: int
    directory: Path
    startup_seconds: float
    pid: int = 0  # of virtuoso-t (the bench records its CPU use)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def query_url(self) -> str:
        """SPARQL 1.1 Query (and, on Virtuoso, Update on the same URL)."""
        return self.base + "/sparql"

    @property
    def update_url(self) -> str:
        return self.base + "/sparql"

    @property
    def store_url(self) -> str:
        """The SPARQL 1.1 Graph Store HTTP Protocol endpoint (``?graph-uri=``, not ``?graph=``)."""
        return self.base + "/sparql-graph-crud"

    @property
    def log(self) -> Path:
        return self.directory / "virtuoso.log"


def installed() -> bool:
    """Whether Debian's virtuoso-opensource is there (``scripts/virtuoso.sh`` installs it)."""
    return Path(VIRTUOSO).is_file() and Path(ISQL).is_file()


def isql(instance: Virtuoso, *statements: str) -> str:
    """Run SQL statements as dba through ``isql-vt``; raise with its output on an error."""
    command = [ISQL, f"127.0.0.1:{instance.sql_port}", "dba", DBA_PASSWORD]
    command.append("exec=" + " ".join(statements))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql failed ({done.returncode}): {output}")
    return output


@contextmanager
def running_virtuoso(
    directory: Path, *, start_timeout: float = 120.0, timezone: str = ""
) -> Iterator[Virtuoso]:
    """Start a fresh Virtuoso with its database in ``directory`` until the block ends.

    Yields once ``/sparql`` answers and the SPARQL account may write; fails with Virtuoso's log
    if it exits or does not answer within ``start_timeout`` seconds. Stopped (SIGTERM, then
    SIGKILL after 30 s) when the block ends; the database stays in ``directory``.
    ``timezone``: the server's ``TZ`` (POSIX form, ``"XYZ-5"`` is five hours east of UTC), if
    not the machine's; Virtuoso's ``NOW()`` is its local time, without a time zone.
    """
    if not installed():
        raise RuntimeError(
            f"{VIRTUOSO} is missing: run `bash scripts/virtuoso.sh` (make test does) to install "
            "Debian's virtuoso-opensource"
        )
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(
        INI.format(dir=directory, sql_port=sql_port, http_port=http_port, vsp=VSP_ROOT),
        encoding="utf-8",
    )
    started = time.monotonic()
    environment = {**os.environ, "TZ": timezone} if timezone else None
    with (directory / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [VIRTUOSO, "+configfile", str(ini), "+foreground"],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        instance = Virtuoso(http_port, sql_port, directory, 0.0)
        wait_until_answers(
            process,
            instance.query_url + "?query=ASK%7B%7D",
            timeout=start_timeout,
            log=lambda: _log_tail(instance),
            what="virtuoso-t",
        )
        isql(instance, *GRANTS)
        yield Virtuoso(http_port, sql_port, directory, time.monotonic() - started, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def put_graphs(store_url: str, source: ox.Store) -> list[str]:
    """Copy every named graph of ``source`` to a store with the Graph Store Protocol (PUT).

    Returns the graph names, sorted. N-Triples, one request per graph: what any store accepts.
    """
    names = sorted(
        {g.value for g in source.named_graphs() if isinstance(g, ox.NamedNode)},
    )
    for name in names:
        triples = (
            ox.Triple(q.subject, q.predicate, q.object)
            for q in source.quads_for_pattern(None, None, None, ox.NamedNode(name))
        )
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        answer = httpx.put(
            store_url,
            params={"graph": name},
            content=body,
            headers={"Content-Type": "application/n-triples"},
            timeout=600,
        )
        answer.raise_for_status()
    return names


def _log_tail(instance: Virtuoso) -> str:
    texts = []
    for name in ("virtuoso.log", "stdout.log"):
        path = instance.directory / name
        if path.is_file():
            texts.append(path.read_text(errors="replace")[-4000:])
    return "\n".join(texts)


def main(argv: list[str]) -> int:
    """``python -m tests.virtuoso DIR``: start one instance and print its endpoints."""
    if len(argv) != 1:
        print("usage: python -m tests.virtuoso DATABASE_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID stops Virtuoso too, as Ctrl-C does
    directory = Path(argv[0]).resolve()
    if directory.exists() and any(directory.iterdir()):
        print(f"{directory} is not empty: give a new directory", file=sys.stderr)
        return 2
    with running_virtuoso(directory) as instance:
        print(f"query/update: {instance.query_url}", flush=True)
        print(f"graph store:  {instance.store_url}", flush=True)
        print(f"isql:         isql-vt 127.0.0.1:{instance.sql_port} dba {DBA_PASSWORD}", flush=True)
        print(f"started in {instance.startup_seconds:.1f} s; Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
