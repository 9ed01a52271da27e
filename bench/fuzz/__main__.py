"""``python -m bench.fuzz``: fuzz a fresh ``citygraph serve``, or replay what a run found.

Exit codes: 0 nothing found, 1 findings (listed, and written to ``--failures`` for replay),
2 the run itself could not be done (the store did not build, the server did not start).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bench.fuzz.cases import Case
from bench.fuzz.runner import Options, fuzz, send


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m bench.fuzz",
        description="Fuzz citygraph serve on 127.0.0.1 (issue 9 §6); see docs/reliability.md.",
    )
    main.add_argument("--requests", type=int, default=100_000, help="stop after N requests")
    main.add_argument("--seconds", type=float, default=900.0, help="stop after S seconds")
    main.add_argument(
        "--seed", type=int, default=1, help="the random seed (same seed, same requests)"
    )
    main.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    main.add_argument(
        "--query-timeout", type=float, default=2.0, help="the server's CITYGRAPH_QUERY_TIMEOUT"
    )
    main.add_argument(
        "--failures",
        type=Path,
        default=Path("var/fuzz/failures.jsonl"),
        help="where the requests behind findings are written",
    )
    main.add_argument(
        "--only", action="append", default=[], help="only routes starting with this (repeatable)"
    )
    main.add_argument(
        "--replay",
        type=Path,
        default=None,
        help="send the requests of a failures file to --url and print each status",
    )
    main.add_argument("--url", default="http://127.0.0.1:8000", help="the server for --replay")
    return main


def replay(path: Path, url: str) -> int:
    """Send each recorded request again; print its status, the one seen then, and a curl line."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        print("--replay sends only to 127.0.0.1", file=sys.stderr)
        return 2
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "case" not in record:
            print(f"{record['what']}: {record['detail']}")
            continue
        case = Case.from_json(record["case"])
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=120)
        try:
            status, _, body = send(conn, case)
            got = f"{status} {body[:120]!r}"
        except (OSError, http.client.HTTPException) as error:
            got = f"no response ({error})"
        conn.close()
        print(f"{record['what']} (then {record['status']}): now {got}\n  {case.curl(url)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.replay is not None:
        return replay(args.replay, args.url)
    options = Options(
        requests=args.requests,
        seconds=args.seconds,
        seed=args.seed,
        concurrency=args.concurrency,
        query_timeout=args.query_timeout,
        failures=args.failures,
        only=tuple(args.only),
    )
    try:
        report = fuzz(options)
    except RuntimeError as error:
        print(f"fuzz: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    for finding in report.findings[:50]:
        where = (
            "" if finding.case is None else f" [{finding.case.method} {finding.case.target[:100]}]"
        )
        detail, _, logged = finding.detail.partition("\n  the server's log: ")
        print(f"- {finding.what}{where}: {detail[:200]}")
        if logged:
            print(f"  the server's log: {logged[:2000]}")
    if report.findings:
        print(f"the requests behind the findings: {options.failures} (--replay to resend)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
