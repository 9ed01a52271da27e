"""Build time and peak memory against input size, next to pyoxigraph's bare bulk load.

``python -m bench.build_bench [--sizes 100k,1M,10M] [--assemble auto|memory|disk]`` generates
the synthetic partnership graph of each size (cached under ``var/bench/``), then, each in a fresh
process so that peak memory is that step's own:

* the floor: ``pyoxigraph.Store(dir).bulk_load(path=data.nt)``, nothing else;
* ``citygraph.build.build_store`` on the repository's ontology and vocabularies plus the same
  file into graph:worldwide: load, derive, validate with all shapes as ``citygraph build`` does
  (``citygraph.build.validate_build``: at once, or in pieces above 2M quads), write, publish;
  assembled in memory or on disk as ``--assemble`` says (by default as ``citygraph build``
  decides).

The synthetic file goes into graph:worldwide because that is how data of this size enters
citygraph: the curated data (graph:curated) is hand-researched, a few thousand triples, and
each of its triples gets an ``rdf:Statement`` (statement-level provenance); the millions of
triples are the imported worldwide layer, whose provenance is per thing (``prov:wasDerivedFrom``
the imported list) and which ``citygraph build`` carries over from the previous build
(``bench run`` builds its stores the same way, ``bench/servers.py``).

It prints a Markdown table for ``docs/performance.md``: seconds per step, ratio to the floor, CPU
seconds of the floor, of the build process (and its ratio to the floor's: on a shared machine
wall time also measures the neighbours), of its validation step and of its disk writer, the
build process's peak RSS, and the peak of the sum of its RSS and that of the process that writes
an in-memory build to disk while it is validated (sampled every 0.2 s from ``/proc``; a child's
own ``ru_maxrss`` is no use here, as Linux carries the parent's high-water mark over the fork).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import generate
from bench.run import ensure_data

SEED = 20261127
ROOT = Path(__file__).resolve().parents[1]

FLOOR = """
import sys, time, pyoxigraph as ox
started = time.monotonic()
store = ox.Store(sys.argv[2])
store.bulk_load(path=sys.argv[1], format=ox.RdfFormat.N_TRIPLES,
                to_graph=ox.NamedNode("https://w3id.org/citygraph/graph/worldwide"))
store.flush()
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.monotonic() - started, time.process_time(), len(store), usage.ru_maxrss)
"""

BUILD = """
import json, os, resource, sys, threading, time
from pathlib import Path
from citygraph.build import BuildInput, build_store, default_build_inputs, validate_build
from citygraph.namespaces import GRAPH_CURATED, GRAPH_WORLDWIDE

root = Path(sys.argv[3])
# the ontology and vocabularies, and the synthetic data as the worldwide layer (see above)
inputs = [i for i in default_build_inputs(root) if i.graph != GRAPH_CURATED]
inputs.append(BuildInput(Path(sys.argv[1]), GRAPH_WORLDWIDE))
where = {"memory": True, "disk": False, "auto": None}[sys.argv[4]]
found = {}

def check(target):  # as build.shapes_check, but counting the results instead of stopping
    cpu = time.process_time()
    report = validate_build(target, root / "shapes", piece_quads=int(sys.argv[5]) or None)
    found["results"] = len(report.results)
    found["validate_cpu"] = time.process_time() - cpu

peak = {"tree_kib": 0}

def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0

def sample():  # this process and its children (the disk writer), every 0.2 s
    me = os.getpid()
    while True:
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                    children.append(int(entry))
        total = rss_kib(me) + sum(rss_kib(c) for c in children)
        peak["tree_kib"] = max(peak["tree_kib"], total)
        time.sleep(0.2)

threading.Thread(target=sample, daemon=True).start()
started = time.monotonic()
cpu = time.process_time()
result = build_store(
    Path(sys.argv[2]), inputs, validate=check, in_memory=where, carry_over=()
)
print(json.dumps({
    "seconds": time.monotonic() - started,
    # this process's CPU seconds, and those of the disk writer (a child it has waited for)
    "cpu": time.process_time() - cpu,
    "writer_cpu": sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f)
                      for f in ("ru_utime", "ru_stime")),
    "validate_cpu": found["validate_cpu"],
    "quads": sum(result.quads_per_graph.values()),
    "results": found["results"],
    "in_memory": result.in_memory,
    "steps": result.steps,
    "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "tree_kib": peak["tree_kib"],
}, separators=(",", ":")))
"""


def measure(script: str, *args: str) -> list[str]:
    """Run ``script`` in a fresh interpreter (its last field: its own peak RSS in KiB)."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"step failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.split()


def run(sizes: Sequence[int], where: str, piece_quads: int = 0) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for size in sizes:
        data = ensure_data(size, SEED) / "data.nt"
        with tempfile.TemporaryDirectory(dir=ROOT / "var") as scratch:
            floor_out = measure(FLOOR, str(data), str(Path(scratch) / "floor"))
            build_out = json.loads(
                measure(
                    BUILD,
                    str(data),
                    str(Path(scratch) / "store"),
                    str(ROOT),
                    where,
                    str(piece_quads),
                )[-1]
            )
        row: dict[str, object] = {
            "size": generate.size_label(size),
            "floor_s": round(float(floor_out[0]), 1),
            "floor_cpu": round(float(floor_out[1]), 1),
            "floor_quads": int(floor_out[2]),
            "floor_rss_mb": round(int(floor_out[3]) / 1024),
            "build_s": round(build_out["seconds"], 1),
            "build_cpu": round(build_out["cpu"], 1),
            "writer_cpu": round(build_out["writer_cpu"], 1),
            "validate_cpu": round(build_out["validate_cpu"], 1),
            "build_quads": build_out["quads"],
            "results": build_out["results"],
            "assembled": "memory" if build_out["in_memory"] else "disk",
            "steps": build_out["steps"],
            "build_rss_mb": round(build_out["rss_kib"] / 1024),
            "tree_rss_mb": round(build_out["tree_kib"] / 1024),
        }
        row["ratio"] = round(float(row["build_s"]) / max(float(row["floor_s"]), 0.1), 1)
        # on a shared machine wall time measures the neighbours too: CPU seconds do not
        row["cpu_ratio"] = round(float(row["build_cpu"]) / max(float(row["floor_cpu"]), 0.1), 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def table(rows: Sequence[dict[str, object]]) -> str:
    lines = [
        "| input | bare bulk load (s) | CPU (s) | peak (MB) | citygraph build (s) | ratio to floor "
        "| CPU (s) | CPU ratio | validate CPU (s) | writer CPU (s) | peak (MB) "
        "| with writer (MB) | assembled | load / derive / validate / write (s) "
        "| quads published "
        "| validation results |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        steps = r["steps"]
        assert isinstance(steps, dict)
        split = " / ".join(f"{steps[s]:.1f}" for s in ("load", "derive", "validate", "write"))
        lines.append(
            f"| {r['size']} | {r['floor_s']} | {r['floor_cpu']} | {r['floor_rss_mb']} | "
            f"{r['build_s']} | {r['ratio']} | {r['build_cpu']} | {r['cpu_ratio']} | "
            f"{r['validate_cpu']} | {r['writer_cpu']} | {r['build_rss_mb']} | "
            f"{r['tree_rss_mb']} | {r['assembled']} | "
            f"{split} | "
            f"{r['build_quads']:,} | {r['results']:,} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.build_bench", description=__doc__)
    parser.add_argument("--sizes", default="100k,1M,10M", help="comma-separated sizes")
    parser.add_argument(
        "--assemble",
        choices=["auto", "memory", "disk"],
        default="auto",
        help="where the build is assembled (auto: in memory when it fits, as citygraph build)",
    )
    parser.add_argument(
        "--piece-quads",
        type=int,
        default=0,
        help="validate in pieces of this many quads (0: as citygraph build, above 2M quads)",
    )
    args = parser.parse_args(argv)
    (ROOT / "var").mkdir(exist_ok=True)
    started = time.monotonic()
    sizes = [generate.parse_size(s) for s in args.sizes.split(",")]
    rows = run(sizes, args.assemble, args.piece_quads)
    print(table(rows))
    print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
