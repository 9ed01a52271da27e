"""``python -m bench``: generate data, or compare citygraph's server with Oxigraph's.

Without arguments it runs the 1M-triple comparison (``run --triples 1M``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench import generate

if TYPE_CHECKING:
    from bench.backends import BackendsRun
    from bench.run import RunConfig
    from bench.stacks import StacksRun


def _concurrency(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _env(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _backends(text: str) -> tuple[str, ...]:
    from bench.backends import parse_backends

    return _usage_error(parse_backends, text)


def _stacks(text: str) -> tuple[str, ...]:
    from bench.stacks import parse_stacks

    return _usage_error(parse_stacks, text)


def _usage_error(parse: Callable[[str], tuple[str, ...]], text: str) -> tuple[str, ...]:
    """``parse(text)``; its ValueError is argparse's usage error (exit code 2, the message)."""
    try:
        return parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _measurement_options(
    command: argparse.ArgumentParser, *, triples: str, duration: float
) -> None:
    """The options ``run`` and ``backends`` share: data, load, citygraph's settings."""
    command.add_argument(
        "--triples", default=triples, help=f"size: 100k, 1M, 10M (default {triples})"
    )
    command.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    command.add_argument("--concurrency", type=_concurrency, default=(1, 8), help="e.g. 1,8")
    command.add_argument("--duration", type=float, default=duration, help="seconds per measurement")
    command.add_argument(
        "--runs", type=int, default=3, help="runs per server, query and concurrency"
    )
    command.add_argument(
        "--max-duration",
        type=float,
        default=15.0,
        help="seconds a slow query's measurement may be stretched to (4 of its latencies)",
    )
    command.add_argument(
        "--quiet-budget",
        type=float,
        default=90.0,
        help="seconds a run may wait in all for a quiet machine",
    )
    command.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per query")
    command.add_argument(
        "--workers", type=int, default=None, help="citygraph workers (default: cores)"
    )
    command.add_argument(
        "--query", action="append", default=[], help="only this query (repeatable; by file stem)"
    )
    command.add_argument(
        "--env",
        type=_env,
        action="append",
        default=[],
        help="KEY=VALUE for citygraph's environment (e.g. CITYGRAPH_IN_MEMORY=no)",
    )


def _output_options(command: argparse.ArgumentParser, *, label: str) -> None:
    command.add_argument("--python-client", action="store_true", help="do not use wrk")
    command.add_argument(
        "--label", default="", help=f"section of docs/performance.md (default: {label})"
    )
    command.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")


def _cache_option(command: argparse.ArgumentParser, *, measures: str) -> None:
    command.add_argument(
        "--cache",
        action="store_true",
        help=f"keep citygraph's response cache on (default: off, to measure {measures})",
    )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m bench",
        description="citygraph's benchmark. Without a command: `run --triples 1M`.",
    )
    commands = main.add_subparsers(dest="command")

    gen = commands.add_parser("generate", help="write a synthetic partnership graph (N-Triples)")
    gen.add_argument("--triples", default="1M", help="size: 100k, 1M, 10M or a number")
    gen.add_argument("--out", type=Path, required=True, help="directory for data.nt, params.json")
    gen.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)

    run = commands.add_parser(
        "run", help="compare `citygraph serve` with `oxigraph serve-read-only`"
    )
    _measurement_options(run, triples="1M", duration=5.0)
    run.add_argument(
        "--candidate",
        choices=("citygraph", "oxigraph"),
        default="citygraph",
        help="the server compared with the reference (oxigraph: a second one, to test the bench)",
    )
    _output_options(run, label="the size")
    backends = commands.add_parser(
        "backends",
        help="citygraph on each backend (embedded, oxigraph serve, Virtuoso) against the same "
        "store queried directly (issue 11 §4)",
    )
    _measurement_options(backends, triples="100k", duration=3.0)
    backends.add_argument(
        "--backend",
        type=_backends,
        default=None,
        help="comma-separated, from embedded,oxigraph,virtuoso (default: all three)",
    )
    _cache_option(backends, measures="the layer")
    _output_options(backends, label="'backends, SIZE'")
    stacks = commands.add_parser(
        "stacks",
        help="the floor and citygraph on uvicorn+h11 and on other server stacks (granian, "
        "httptools), against Oxigraph, in one run (issue 10 §3)",
    )
    _measurement_options(stacks, triples="1M", duration=5.0)
    stacks.add_argument(
        "--stack",
        type=_stacks,
        default=None,
        help="comma-separated, from granian,httptools,h11-shared (default: granian,httptools), "
        "beside uvicorn+h11",
    )
    _cache_option(stacks, measures="the request path")
    _output_options(stacks, label="'stacks, SIZE, cache off'")
    split = commands.add_parser(
        "breakdown", help="time each query's engine, serialisation and hand-over, in-process"
    )
    split.add_argument("--triples", default="1M", help="size: 100k, 1M, 10M (default 1M)")
    split.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    split.add_argument("--repeat", type=int, default=5, help="runs per query (median)")
    rerender = commands.add_parser(
        "report",
        help="render a saved results-*.json or backends-*.json again (and update "
        "docs/performance.md)",
    )
    rerender.add_argument("results", type=Path, help="a results-*.json file of a run")
    rerender.add_argument("--label", default="", help="section of docs/performance.md")
    rerender.add_argument("--no-docs", action="store_true", help="print the report only")
    return main


def backends_run(args: argparse.Namespace) -> BackendsRun:
    """The run that ``python -m bench backends …`` asks for."""
    from bench.backends import BACKENDS, BackendsRun

    return BackendsRun(
        config=_cache_off_config(args), backends=args.backend or BACKENDS, label=args.label
    )


def stacks_run(args: argparse.Namespace) -> StacksRun:
    """The run that ``python -m bench stacks …`` asks for."""
    from bench.stacks import StacksRun

    stacks = {"stacks": args.stack} if args.stack else {}
    return StacksRun(config=_cache_off_config(args), label=args.label, **stacks)


def _cache_off_config(args: argparse.Namespace) -> RunConfig:
    """The run configuration of ``backends`` and ``stacks``: the response cache off unless
    ``--cache`` (to measure the request path, not the cache)."""
    from bench.backends import CACHE_OFF
    from bench.run import RunConfig

    env = tuple(args.env) + (() if args.cache else (CACHE_OFF,))
    return RunConfig(
        triples=generate.parse_size(args.triples),
        seed=args.seed,
        concurrency=args.concurrency,
        duration=args.duration,
        runs=args.runs,
        warmup=args.warmup,
        queries=tuple(args.query),
        env=env,
        use_wrk=not args.python_client,
        write_docs=not args.no_docs,
        max_duration=args.max_duration,
        quiet_budget=args.quiet_budget,
        **({"workers": args.workers} if args.workers else {}),
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        args = parser().parse_args(["run", *(argv or [])])
    if args.command == "generate":
        dataset = generate.write_dataset(
            args.out, generate.parse_size(args.triples), seed=args.seed
        )
        print(
            f"{dataset.triples:,} triples ({dataset.cities:,} cities, "
            f"{dataset.partnerships:,} partnerships) in {args.out / 'data.nt'}"
        )
        return 0
    if args.command == "report":
        import json

        from bench.report import rerender_file
        from bench.run import RunConfig

        meta = json.loads(args.results.read_text(encoding="utf-8"))["meta"]
        docs = None if args.no_docs else RunConfig().docs
        if "stacks" in meta:
            from bench.stacks import rerender_stacks

            print(rerender_stacks(args.results, label=args.label, docs=docs), end="")
            return 0
        if "pairs" in meta:
            from bench.backends import rerender_backends

            print(rerender_backends(args.results, label=args.label, docs=docs), end="")
            return 0
        print(rerender_file(args.results, label=args.label, write_docs=not args.no_docs), end="")
        return 0
    if args.command == "breakdown":
        from bench.breakdown import breakdown
        from bench.run import ensure_data

        directory = ensure_data(generate.parse_size(args.triples), args.seed)
        print(breakdown(directory, repeat=args.repeat), end="")
        return 0
    from bench.run import RunConfig, run

    # Stopped by SIGTERM: unwind like Ctrl-C, so that the servers this run started are stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.command == "backends":
        from bench.backends import run_backends

        run_backends(backends_run(args))
        return 0
    if args.command == "stacks":
        from bench.stacks import run_stacks

        run_stacks(stacks_run(args))
        return 0

    config = RunConfig(
        triples=generate.parse_size(args.triples),
        seed=args.seed,
        concurrency=args.concurrency,
        duration=args.duration,
        runs=args.runs,
        warmup=args.warmup,
        candidate=args.candidate,
        queries=tuple(args.query),
        env=tuple(args.env),
        use_wrk=not args.python_client,
        label=args.label,
        max_duration=args.max_duration,
        quiet_budget=args.quiet_budget,
        write_docs=not args.no_docs and args.candidate == "citygraph",
        **({"workers": args.workers} if args.workers else {}),
    )
    run(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
