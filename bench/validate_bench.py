"""Validation at scale: citygraph.fastshacl against pySHACL on a synthetic worldwide graph.

Run from the repository root::

    python -m bench.validate_bench                      # 26,000 partnerships, 300 in the sample
    python -m bench.validate_bench --sample 1000 --pyshacl-timeout 1800

What it does (docs/validation-at-scale.md has the figures):

1. Generates, deterministically (``--seed``), a graph shaped like docs/model.md data:
   ``--places`` cg:City nodes (labels in en/de/zh-Hans, cg:country, coordinates, a geometry,
   GeoNames and Wikidata links), ``--partnerships`` cg:Partnership nodes (two cg:partner, type,
   status, start dates of mixed precision, some end dates and themes), the derived symmetric
   cg:twinnedWith shortcut, and a known number of injected errors of twelve kinds.
2. On a sample (the first ``--sample`` partnerships and the places they use) it runs pySHACL
   (``citygraph.validate.validate_paths``, the reference, capped by ``--pyshacl-timeout``) and
   fastshacl (``validate_files``) on the same file and shapes, checks that both report the same
   results, and prints the ratio.
3. On the full graph it runs fastshacl alone, from files (``validate_files``) and from an
   on-disk store built like ``citygraph build`` (``validate_store``).

Each measurement runs in its own process, so the peak memory (``ru_maxrss``) is that of one
engine alone. Nothing runs unbounded: pySHACL is killed at the timeout and reported as
``> N s``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/citygraph/"
CG = BASE + "ontology#"
ID = BASE + "id/"
VOCAB = BASE + "vocab/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
SKOS_EXACT = "http://www.w3.org/2004/02/skos/core#exactMatch"
SCHEMA = "https://schema.org/"
GEO = "http://www.opengis.net/ont/geosparql#"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
SOURCE = ID + "source/synthetic-worldwide"
ERROR_KINDS = (
    "one partner",
    "duplicate pair node",
    "partners share a Wikidata item",
    "end before start",
    "statusSince untyped",
    "status from the wrong scheme",
    "latitude out of range",
    "twinnedWith one way only",
    "twinnedWith not backed",
    "place without country",
    "label without language",
    "malformed GeoNames link",
)
PLACE_ERRORS = frozenset(
    {
        "latitude out of range",
        "place without country",
        "label without language",
        "malformed GeoNames link",
    }
)
TYPES = ("partnership", "friendship", "contact", "project-partnership", "cooperation-agreement")
STATUSES = ("active", "active", "active", "dormant", "ended")
THEMES = ("culture", "economy", "education", "environment", "mobility", "climate")


# --- the synthetic graph ----------------------------------------------------------------------


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(value: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


@dataclass
class Graph:
    """The synthetic graph as triples grouped by the node they belong to."""

    common: list[str] = field(default_factory=list)
    places: dict[str, list[str]] = field(default_factory=dict)
    partnerships: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def lines(self, sample: int | None = None) -> Iterator[str]:
        """N-Triples lines of the whole graph, or of the first ``sample`` partnerships and the
        places they use (the twinnedWith triples of a place go with the place)."""
        chosen = self.partnerships if sample is None else self.partnerships[:sample]
        used: set[str] = set()
        for members, _ in chosen:
            used.update(members)
        yield from self.common
        for key, triples in self.places.items():
            if sample is None or key in used:
                for triple in triples:
                    # twinnedWith to a place outside the sample would be an error of the sample
                    if sample is not None and "#twinnedWith>" in triple:
                        target = triple.split(" ")[2][1:-1]
                        if target not in used:
                            continue
                    yield triple
        for _, triples in chosen:
            yield from triples


def generate(*, partnerships: int, places: int, seed: int) -> Graph:
    """A deterministic graph of ``places`` cities and ``partnerships`` partnerships."""
    rng = random.Random(seed)
    graph = Graph()
    t = graph.common.append
    t(f"{_iri(SOURCE)} {_iri(RDF_TYPE)} {_iri(CG + 'Source')} .")
    t(f"{_iri(SOURCE)} {_iri(RDFS_LABEL)} {_lit('Synthetic worldwide list', lang='en')} .")
    t(f"{_iri(SOURCE)} <http://purl.org/dc/terms/publisher> {_lit('citygraph bench')} .")
    t(
        f"{_iri(SOURCE)} <http://purl.org/dc/terms/language> "
        f"{_lit('en', datatype=XSD + 'language')} ."
    )
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = sorted(rng.sample([a + b for a in letters for b in letters], 180))
    for number, code in enumerate(codes):
        country = f"{ID}country/{code.lower()}"
        t(f"{_iri(country)} {_iri(RDF_TYPE)} {_iri(CG + 'Country')} .")
        t(f"{_iri(country)} {_iri(RDFS_LABEL)} {_lit('Country ' + code, lang='en')} .")
        t(f"{_iri(country)} {_iri(CG + 'isoCode')} {_lit(code)} .")
        t(
            f"{_iri(country)} {_iri(OWL_SAME_AS)} "
            f"<http://www.wikidata.org/entity/Q{1000 + number}> ."
        )

    error_every = max(partnerships // 480, 1)  # each error kind about 40 times at full size
    keys: list[str] = []
    wikidata: dict[str, str] = {}
    for i in range(places):
        code = rng.choice(codes).lower()
        key = f"{ID}city/{code}-p{i:05d}"
        keys.append(key)
        s = _iri(key)
        lat = round(rng.uniform(-60, 70), 5)
        lon = round(rng.uniform(-179, 179), 5)
        wikidata[key] = f"http://www.wikidata.org/entity/Q{100000 + i}"
        triples = [
            f"{s} {_iri(RDF_TYPE)} {_iri(CG + 'City')} .",
            f"{s} {_iri(RDFS_LABEL)} {_lit(f'Place {i}', lang='en')} .",
            f"{s} {_iri(CG + 'country')} {_iri(f'{ID}country/{code}')} .",
            f"{s} {_iri(SCHEMA + 'latitude')} {_lit(str(lat), datatype=XSD + 'decimal')} .",
            f"{s} {_iri(SCHEMA + 'longitude')} {_lit(str(lon), datatype=XSD + 'decimal')} .",
            f"{s} {_iri(GEO + 'hasGeometry')} _:g{i} .",
            f"_:g{i} {_iri(RDF_TYPE)} {_iri(GEO + 'Geometry')} .",
            f"_:g{i} {_iri(GEO + 'asWKT')} "
            f"{_lit(f'POINT({lon} {lat})', datatype=GEO + 'wktLiteral')} .",
            f"{s} {_iri(PROV_DERIVED)} {_iri(SOURCE)} .",
        ]
        if rng.random() < 0.5:
            triples.append(f"{s} {_iri(RDFS_LABEL)} {_lit(f'Ort {i}', lang='de')} .")
        if rng.random() < 0.2:
            triples.append(f"{s} {_iri(RDFS_LABEL)} {_lit(f'地点{i}', lang='zh-Hans')} .")
        if rng.random() < 0.8:
            triples.append(f"{s} {_iri(OWL_SAME_AS)} {_iri(wikidata[key])} .")
        if rng.random() < 0.7:
            triples.append(f"{s} {_iri(SKOS_EXACT)} <https://sws.geonames.org/{2000000 + i}/> .")
        graph.places[key] = triples

    def place_error(kind: str, index: int) -> None:
        key = keys[index % len(keys)]
        triples = graph.places[key]
        if kind == "latitude out of range":
            triples[3] = (
                f"{_iri(key)} {_iri(SCHEMA + 'latitude')} "
                f"{_lit('123.5', datatype=XSD + 'decimal')} ."
            )
        elif kind == "place without country":
            triples[2] = f"{_iri(key)} {_iri(SCHEMA + 'name')} {_lit('no country')} ."
        elif kind == "label without language":
            triples[1] = f"{_iri(key)} {_iri(RDFS_LABEL)} {_lit('Place without language')} ."
        elif kind == "malformed GeoNames link":
            triples.append(f"{_iri(key)} {_iri(SKOS_EXACT)} <http://www.geonames.org/{index}> .")
        graph.errors[kind] += 1

    pairs: set[tuple[str, str]] = set()
    twins: list[tuple[str, str, int]] = []
    number = 0
    while len(graph.partnerships) < partnerships:
        a, b = sorted(rng.sample(keys, 2))
        if (a, b) in pairs:
            continue
        pairs.add((a, b))
        number += 1
        kind = (
            ERROR_KINDS[(number // error_every) % len(ERROR_KINDS)]
            if number % error_every == 0
            else None
        )
        iri = f"{ID}partnership/{a.rsplit('/', 1)[1]}--{b.rsplit('/', 1)[1]}"
        s = _iri(iri)
        status = rng.choice(STATUSES)
        triples = [
            f"{s} {_iri(RDF_TYPE)} {_iri(CG + 'Partnership')} .",
            f"{s} {_iri(RDFS_LABEL)} {_lit(f'Partnership {number}', lang='en')} .",
            f"{s} {_iri(CG + 'partner')} {_iri(a)} .",
            f"{s} {_iri(CG + 'partner')} {_iri(b)} .",
            f"{s} {_iri(CG + 'partnershipType')} "
            f"{_iri(VOCAB + 'partnership-type/' + rng.choice(TYPES))} .",
            f"{s} {_iri(CG + 'status')} {_iri(VOCAB + 'status/' + status)} .",
            f"{s} {_iri(PROV_DERIVED)} {_iri(SOURCE)} .",
        ]
        year = rng.randint(1950, 2023)
        precision = rng.random()
        if precision < 0.5:
            start = _lit(
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", datatype=XSD + "date"
            )
        elif precision < 0.7:
            start = _lit(f"{year}-{rng.randint(1, 12):02d}", datatype=XSD + "gYearMonth")
        else:
            start = _lit(str(year), datatype=XSD + "gYear")
        if rng.random() < 0.9 or kind == "end before start":
            triples.append(f"{s} {_iri(CG + 'startDate')} {start} .")
        if status == "ended" or kind == "end before start":
            end_year = year - 3 if kind == "end before start" else rng.randint(year, 2024)
            end = _lit(str(end_year), datatype=XSD + "gYear")
            triples.append(f"{s} {_iri(CG + 'endDate')} {end} .")
        if rng.random() < 0.4:
            triples.append(
                f"{s} {_iri(CG + 'theme')} {_iri(VOCAB + 'theme/' + rng.choice(THEMES))} ."
            )
        backed = True
        if kind == "one partner":
            triples.remove(f"{s} {_iri(CG + 'partner')} {_iri(b)} .")
            backed = False
        elif kind == "duplicate pair node":
            other = _iri(iri + "-again")
            triples += [
                f"{other} {_iri(RDF_TYPE)} {_iri(CG + 'Partnership')} .",
                f"{other} {_iri(RDFS_LABEL)} {_lit(f'Partnership {number} again', lang='en')} .",
                f"{other} {_iri(CG + 'partner')} {_iri(a)} .",
                f"{other} {_iri(CG + 'partner')} {_iri(b)} .",
                f"{other} {_iri(CG + 'partnershipType')} "
                f"{_iri(VOCAB + 'partnership-type/contact')} .",
                f"{other} {_iri(CG + 'status')} {_iri(VOCAB + 'status/active')} .",
                f"{other} {_iri(PROV_DERIVED)} {_iri(SOURCE)} .",
            ]
        elif kind == "partners share a Wikidata item":
            triples.append(f"{_iri(a)} {_iri(OWL_SAME_AS)} {_iri(wikidata[b])} .")
            triples.append(f"{_iri(b)} {_iri(OWL_SAME_AS)} {_iri(wikidata[b])} .")
        elif kind == "statusSince untyped":
            triples.append(f"{s} {_iri(CG + 'statusSince')} {_lit(str(year))} .")
        elif kind == "status from the wrong scheme":
            triples[5] = f"{s} {_iri(CG + 'status')} {_iri(VOCAB + 'theme/culture')} ."
        elif kind is not None and kind.startswith("twinnedWith"):
            twins.append((a, b, 1 if kind == "twinnedWith one way only" else 2))
            backed = False
        elif kind in PLACE_ERRORS:
            place_error(kind, number)
        if kind is not None and kind not in PLACE_ERRORS and not kind.startswith("twinnedWith"):
            graph.errors[kind] += 1
        if backed:
            twins.append((a, b, 0))
        graph.partnerships.append(((a, b), triples))
    for a, b, flaw in twins:
        if flaw == 2:  # not backed: a twin pair with no partnership node behind it
            c = keys[(keys.index(a) + 1) % len(keys)]
            if (min(a, c), max(a, c)) in pairs:
                continue
            graph.errors["twinnedWith not backed"] += 1
            graph.places[a].append(f"{_iri(a)} {_iri(CG + 'twinnedWith')} {_iri(c)} .")
            graph.places[c].append(f"{_iri(c)} {_iri(CG + 'twinnedWith')} {_iri(a)} .")
            graph.places[a].append(f"{_iri(a)} {_iri(CG + 'twinnedWith')} {_iri(b)} .")
            graph.places[b].append(f"{_iri(b)} {_iri(CG + 'twinnedWith')} {_iri(a)} .")
            continue
        graph.places[a].append(f"{_iri(a)} {_iri(CG + 'twinnedWith')} {_iri(b)} .")
        if flaw == 1:
            graph.errors["twinnedWith one way only"] += 1
        else:
            graph.places[b].append(f"{_iri(b)} {_iri(CG + 'twinnedWith')} {_iri(a)} .")
    return graph


# --- the measured steps (each in its own process) --------------------------------------------


def _vocab() -> list[Path]:
    return [
        ROOT / "ontology" / "citygraph.ttl",
        *sorted((ROOT / "ontology" / "vocab").glob("*.ttl")),
    ]


def _key(result: Any) -> list[Any]:
    def blank(text: str | None) -> str | None:
        return "_:" if text is not None and text.startswith("_:") else text

    return [
        blank(result.focus_node),
        blank(result.shape),
        result.component,
        result.severity.name,
        result.path,
        blank(result.value),
    ]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(step: str, data: Path, out: Path, shapes: Path) -> None:
    started = time.perf_counter()
    if step == "pyshacl":
        from citygraph.validate import load_graph, validate_graph

        graph = load_graph([*_vocab(), data])
        loaded = time.perf_counter()
        report = validate_graph(graph, shapes_dir=shapes)
        triples = len(graph)
    elif step == "files":
        import pyoxigraph as ox

        from citygraph.fastshacl import load_shapes
        from citygraph.fastshacl.engine import run
        from citygraph.fastshacl.loading import load_files

        store = ox.Store()
        load_files(store, [*_vocab(), data])
        shapes_graph = load_shapes(shapes)
        loaded = time.perf_counter()
        report = run(store, shapes_graph, files=True, union=False)
        triples = len(store)
    elif step == "store":
        import pyoxigraph as ox

        from citygraph.fastshacl import validate_store

        with tempfile.TemporaryDirectory(prefix="validate-bench-") as directory:
            store = ox.Store(directory)
            for path in _vocab():
                store.bulk_load(
                    path=str(path),
                    format=ox.RdfFormat.TURTLE,
                    to_graph=ox.NamedNode(BASE + "graph/ontology"),
                )
            store.bulk_load(
                path=str(data),
                format=ox.RdfFormat.N_TRIPLES,
                to_graph=ox.NamedNode(BASE + "graph/worldwide"),
            )
            store.optimize()
            loaded = time.perf_counter()
            report = validate_store(store, shapes_dir=shapes)
            triples = len(store)
            del store
    else:
        raise SystemExit(f"unknown step {step}")
    finished = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    counts = report.counts()
    out.write_text(
        json.dumps(
            {
                "load_s": loaded - started,
                "validate_s": finished - loaded,
                "total_s": finished - started,
                "triples": triples,
                "results": len(report.results),
                "by_severity": {s.name.lower(): n for s, n in counts.items()},
                "by_component": Counter(
                    r.component.rsplit("#", 1)[1].removesuffix("ConstraintComponent")
                    for r in report.results
                ),
                "peak_mb": _peak_mb(),
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "load_average": os.getloadavg()[0],
                "keys": sorted(_key(r) for r in report.results),
            }
        ),
        encoding="utf-8",
    )


def _measure(step: str, data: Path, shapes: Path, timeout: float) -> dict[str, Any] | None:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [
        sys.executable,
        "-m",
        "bench.validate_bench",
        "--shapes",
        str(shapes),
        "--worker",
        step,
        str(data),
        str(out),
    ]
    try:
        subprocess.run(command, cwd=ROOT, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        out.unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(text)
    return result


def _line(name: str, result: dict[str, Any] | None, timeout: float) -> str:
    if result is None:
        return f"  {name:<34} > {timeout:.0f} s (killed at the timeout)"
    return (
        f"  {name:<34} {result['total_s']:7.2f} s  (load {result['load_s']:.2f} s, validate "
        f"{result['validate_s']:.2f} s)  {result['triples']:>8,} triples  "
        f"{result['results']:>6,} results  peak {result['peak_mb']:,.0f} MB  "
        f"cpu {result['cpu_s']:.1f} s  load avg {result['load_average']:.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.validate_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--partnerships", type=int, default=26_000)
    parser.add_argument("--places", type=int, default=18_000)
    parser.add_argument("--sample", type=int, default=300, help="partnerships in the sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pyshacl-timeout", type=float, default=900.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="for fastshacl steps")
    parser.add_argument("--keep", type=Path, help="write the generated N-Triples here")
    parser.add_argument("--shapes", type=Path, help="shapes directory (default: shapes/)")
    parser.add_argument("--generate", nargs=2, metavar=("SPEC", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--worker", nargs=3, metavar=("STEP", "DATA", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows while a long step runs
    if args.generate:
        partnerships, places, seed, size = json.loads(args.generate[0])
        target = Path(args.generate[1])
        graph = generate(partnerships=partnerships, places=places, seed=seed)
        (target / "worldwide.nt").write_text("\n".join(graph.lines()) + "\n", encoding="utf-8")
        (target / "sample.nt").write_text("\n".join(graph.lines(size)) + "\n", encoding="utf-8")
        (target / "errors.json").write_text(json.dumps(graph.errors), encoding="utf-8")
        return 0
    if args.worker:
        step, data, out = args.worker
        _worker(step, Path(data), Path(out), args.shapes or ROOT / "shapes")
        return 0

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as directory:
        full = Path(directory) / "worldwide.nt"
        sample = Path(directory) / "sample.nt"
        # Generated in a child process, so that this one stays small: a child inherits its
        # parent's peak RSS (ru_maxrss survives fork and exec on Linux).
        spec = json.dumps([args.partnerships, args.places, args.seed, args.sample])
        command = [sys.executable, "-m", "bench.validate_bench", "--generate", spec, directory]
        subprocess.run(command, cwd=ROOT, check=True, timeout=args.timeout)
        errors = json.loads((Path(directory) / "errors.json").read_text(encoding="utf-8"))
        if args.keep:
            args.keep.write_bytes(full.read_bytes())
        shapes = args.shapes or ROOT / "shapes"
        print(
            f"generated in {time.perf_counter() - started:.1f} s: {args.places:,} places, "
            f"{args.partnerships:,} partnerships; injected errors: "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items()))
        )
        print(f"\nsample ({args.sample:,} partnerships and their places), same file and shapes:")
        reference = _measure("pyshacl", sample, shapes, args.pyshacl_timeout)
        print(_line("pySHACL (validate_paths)", reference, args.pyshacl_timeout))
        fast = _measure("files", sample, shapes, args.timeout)
        print(_line("fastshacl (validate_files)", fast, args.timeout))
        if fast is None:
            print("fastshacl hit its timeout")
            return 1
        if reference is not None:
            same = reference["keys"] == fast["keys"]
            print(
                f"  same results as pySHACL: {'yes' if same else 'NO'} "
                f"({reference['results']} vs {fast['results']})"
            )
            ratio = reference["total_s"] / fast["total_s"]
            ratio_validate = reference["validate_s"] / fast["validate_s"]
            ratio_cpu = reference["cpu_s"] / fast["cpu_s"]
            print(
                f"  ratio pySHACL / fastshacl: {ratio:.1f}x end to end (wall), "
                f"{ratio_cpu:.1f}x in CPU time, {ratio_validate:.1f}x validation alone"
            )
        else:
            print(
                f"  ratio pySHACL / fastshacl: > {args.pyshacl_timeout / fast['total_s']:.1f}x "
                "(pySHACL hit the timeout)"
            )
        print(f"\nfull graph ({args.partnerships:,} partnerships), fastshacl alone:")
        print("  (for the store: load = building the on-disk store; validate = validate_store)")
        files = _measure("files", full, shapes, args.timeout)
        print(_line("fastshacl (validate_files)", files, args.timeout))
        stored = _measure("store", full, shapes, args.timeout)
        print(_line("fastshacl (validate_store, on disk)", stored, args.timeout))
        for name, result in (("files", files), ("store", stored)):
            if result is not None:
                print(
                    f"  {name}: by component {dict(sorted(result['by_component'].items()))}; "
                    f"by severity {result['by_severity']}"
                )
        if files is not None and stored is not None:
            print(f"  files and store agree: {'yes' if files['keys'] == stored['keys'] else 'NO'}")
        if files is not None:
            print(
                f"\nfull graph from files, parse + validate: {files['total_s']:.1f} s wall, "
                f"{files['cpu_s']:.1f} s CPU: {'under' if files['total_s'] < 30 else 'OVER'} 30 s"
            )
        if stored is not None:
            print(
                f"full graph from the store, validate_store alone: {stored['validate_s']:.1f} s "
                f"wall: {'under' if stored['validate_s'] < 30 else 'OVER'} 30 s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
