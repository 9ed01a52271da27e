"""The build publishes atomically, derives the symmetric link, and survives being killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph import sizing, store
from citygraph.build import BuildInput, build_store, replace_graph, shapes_check
from citygraph.errors import (
    BuildError,
    DataNotConformingError,
    InputSyntaxError,
    StoreNotFoundError,
)
from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_WORLDWIDE,
)
from citygraph.sizing import fits_in_memory

CG = "https://w3id.org/citygraph/ontology#"
CITY = "https://w3id.org/citygraph/id/city/"

PREFIXES = """\
@prefix cg: <https://w3id.org/citygraph/ontology#> .
@prefix city: <https://w3id.org/citygraph/id/city/> .
@prefix partnership: <https://w3id.org/citygraph/id/partnership/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
"""


def write(path: Path, text: str) -> Path:
    path.write_text(PREFIXES + textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> list[BuildInput]:
    ontology = write(
        tmp_path / "ontology.ttl",
        """
        cg:City rdfs:subClassOf cg:Place .
        cg:Place rdfs:subClassOf schema:Place .
        """,
    )
    data = write(
        tmp_path / "data.ttl",
        """
        city:de-berlin a cg:City .
        city:cn-beijing a cg:City .
        city:fr-paris a cg:City .
        partnership:cn-beijing--de-berlin a cg:Partnership ;
            cg:partner city:cn-beijing , city:de-berlin .
        partnership:de-berlin--fr-paris a cg:Partnership ;
            cg:partner city:de-berlin , city:fr-paris .
        """,
    )
    return [BuildInput(ontology, GRAPH_ONTOLOGY), BuildInput(data, GRAPH_CURATED)]


def ask(target: ox.Store, query: str) -> bool:
    result = target.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QueryBoolean)
    return bool(result)


def twinned(target: ox.Store, a: str, b: str) -> bool:
    return ask(
        target, f"ASK {{ GRAPH <{GRAPH_DERIVED}> {{ <{CITY}{a}> <{CG}twinnedWith> <{CITY}{b}> }} }}"
    )


def test_build_publishes_a_store_with_the_derived_link_in_both_directions(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    result = build_store(tmp_path / "store", inputs)

    target, build = store.open_current(tmp_path / "store")
    assert build.version == result.build.version
    assert twinned(target, "de-berlin", "cn-beijing")
    assert twinned(target, "cn-beijing", "de-berlin")
    assert twinned(target, "fr-paris", "de-berlin")
    assert not twinned(target, "fr-paris", "cn-beijing")


def test_build_materialises_superclass_types(tmp_path: Path, inputs: list[BuildInput]) -> None:
    build_store(tmp_path / "store", inputs)

    target, _ = store.open_current(tmp_path / "store")
    assert ask(target, f"ASK {{ <{CITY}de-berlin> a <https://schema.org/Place> }}")


def test_counts_per_graph_are_reported(tmp_path: Path, inputs: list[BuildInput]) -> None:
    result = build_store(tmp_path / "store", inputs)

    assert result.quads_per_graph[GRAPH_ONTOLOGY] == 2
    assert result.quads_per_graph[GRAPH_CURATED] == 3 + 2 * 3
    # 2 partnerships x 2 directions, plus Place and schema:Place for the 3 cities
    assert result.quads_per_graph[GRAPH_DERIVED] == 4 + 6


def test_a_build_assembled_on_disk_equals_one_assembled_in_memory(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    # Too large for memory, a build runs the same steps on the on-disk store instead.
    in_memory = build_store(tmp_path / "memory", inputs, in_memory=True)
    on_disk = build_store(tmp_path / "disk", inputs, in_memory=False)

    assert on_disk.quads_per_graph == in_memory.quads_per_graph
    memory_store, _ = store.open_current(tmp_path / "memory")
    disk_store, _ = store.open_current(tmp_path / "disk")
    meta = ox.NamedNode(GRAPH_META)  # holds the version and time of each build
    assert {q for q in disk_store if q.graph_name != meta} == {
        q for q in memory_store if q.graph_name != meta
    }


def test_a_build_reports_where_it_was_assembled_and_the_time_of_each_step(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    result = build_store(tmp_path / "store", inputs, in_memory=False)

    assert result.in_memory is False
    assert list(result.steps) == ["load", "derive", "validate", "write", "publish"]
    assert all(seconds >= 0 for seconds in result.steps.values())
    assert sum(result.steps.values()) <= result.seconds + 0.05


def test_only_what_fits_in_half_the_available_memory_is_assembled_there() -> None:
    assert fits_in_memory(1_000)
    assert not fits_in_memory(10**12)  # 600 TB: a build of this size works on disk


def test_curated_data_is_expected_to_grow_by_its_statements(tmp_path: Path) -> None:
    # 1M synthetic triples in graph:curated published 4.99M quads (one rdf:Statement of five
    # quads per triple about a thing with a source); an estimate of 1.25M sent a 10M build of
    # about 30 GB to memory (docs/performance.md, build)
    data = tmp_path / "data.nt"
    data.write_bytes(b"<https://w3id.org/citygraph/id/x> <http://e/p> <http://e/o> .\n" * 1_000)

    as_curated = sizing.estimated_build_quads(curated=[data])
    as_vocabulary = sizing.estimated_build_quads(curated=[], other=[data])

    assert as_curated >= 4 * as_vocabulary
    assert as_curated >= 4 * sizing.estimated_quads([data])


def test_shapes_check_stops_a_build_with_a_violation_and_carries_the_report(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    root = tmp_path / "store"
    first = build_store(root, inputs).build
    shapes = Path(__file__).resolve().parents[1] / "shapes"

    with pytest.raises(DataNotConformingError) as caught:
        build_store(root, inputs, validate=shapes_check(shapes))

    # the partnerships have no label, status or type: Violations, on the derived store
    focus = {r.focus_node for r in caught.value.report.results}
    assert "https://w3id.org/citygraph/id/partnership/de-berlin--fr-paris" in focus
    assert "Violations" in str(caught.value)
    assert store.current_build(root).version == first.version
    assert [p.name for p in (root / "builds").iterdir() if p.name.startswith(".tmp")] == []


def test_a_syntax_error_names_file_and_line_and_keeps_the_previous_store(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    root = tmp_path / "store"
    first = build_store(root, inputs).build
    broken = tmp_path / "broken.ttl"
    broken.write_text(PREFIXES + 'city:x a cg:City .\ncity:y rdfs:label "open\n', encoding="utf-8")

    with pytest.raises(InputSyntaxError) as caught:
        build_store(root, [*inputs, BuildInput(broken, GRAPH_CURATED)])

    assert caught.value.path == broken
    assert caught.value.line == PREFIXES.count("\n") + 2
    assert store.current_build(root).version == first.version
    assert [p.name for p in (root / "builds").iterdir() if p.name.startswith(".tmp")] == []


def test_a_failed_validation_publishes_nothing(tmp_path: Path, inputs: list[BuildInput]) -> None:
    def reject(_: object) -> None:
        raise BuildError("does not conform")

    with pytest.raises(BuildError):
        build_store(tmp_path / "store", inputs, validate=reject)

    with pytest.raises(StoreNotFoundError):
        store.current_build(tmp_path / "store")


def test_a_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="not found"):
        build_store(tmp_path / "store", [BuildInput(tmp_path / "nope.ttl", GRAPH_CURATED)])


def test_old_builds_are_pruned_but_the_previous_one_is_kept(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    root = tmp_path / "store"
    versions = [build_store(root, inputs).build.version for _ in range(4)]

    kept = sorted(p.name for p in (root / "builds").iterdir() if p.is_dir())
    assert kept == versions[-2:]


def test_a_rebuild_keeps_the_imported_worldwide_graph(
    tmp_path: Path, inputs: list[BuildInput]
) -> None:
    root = tmp_path / "store"
    build_store(root, inputs)
    pair = [
        ox.Quad(ox.NamedNode(CITY + "fr-paris"), ox.NamedNode(CG + "partner"), ox.Literal("x")),
    ]
    replace_graph(root, GRAPH_WORLDWIDE, pair)

    build_store(root, inputs)

    target, _ = store.open_current(root)
    assert ask(target, f"ASK {{ GRAPH <{GRAPH_WORLDWIDE}> {{ ?s ?p ?o }} }}")


def test_open_current_without_a_build_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="citygraph build"):
        store.open_current(tmp_path)


KILLED_BUILD = """
import sys
from pathlib import Path
from citygraph.build import BuildInput, build_store
from citygraph.namespaces import GRAPH_CURATED

def progress(what, count):
    print("progress", count, flush=True)

build_store(Path(sys.argv[1]), [BuildInput(Path(sys.argv[2]), GRAPH_CURATED)], progress=progress)
print("finished", flush=True)
"""


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """1.5M triples: a build of them takes several seconds in each step."""
    path = tmp_path / "big.nt"
    with path.open("w", encoding="utf-8") as out:
        for i in range(1_500_000):
            out.write(f"<{CITY}x{i}> <{CG}partner> <{CITY}y{i % 977}> .\n")
    return path


def test_a_build_killed_with_sigkill_leaves_the_previous_store_usable(
    tmp_path: Path, inputs: list[BuildInput], big: Path
) -> None:
    root = tmp_path / "store"
    before = build_store(root, inputs).build

    with subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(root), str(big)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()  # the first progress line: the build is under way
        assert line.startswith("progress"), line
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    assert process.returncode == -signal.SIGKILL
    target, build = store.open_current(root)
    assert build.version == before.version
    assert twinned(target, "de-berlin", "cn-beijing")
    # The next build cleans up what the killed one left and succeeds.
    time.sleep(0.01)
    after = build_store(root, inputs).build
    assert after.version != before.version
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".tmp")]


KILLED_WHILE_WRITING = """
import os, sys, time
from pathlib import Path
from citygraph.build import BuildInput, build_store
from citygraph.namespaces import GRAPH_CURATED

def validate(target):
    # the disk writer starts before validation: report its process, then take our time
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                print("writer", entry, flush=True)
    time.sleep(120)

build_store(Path(sys.argv[1]), [BuildInput(Path(sys.argv[2]), GRAPH_CURATED)], validate=validate)
"""


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_disk_writer_of_a_killed_build_stops_instead_of_writing_on(
    tmp_path: Path, big: Path
) -> None:
    root = tmp_path / "store"
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WHILE_WRITING, str(root), str(big)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("writer "), line
        writer = int(line.split()[1])
        assert _running(writer)  # it has 1.8M quads to write: tens of seconds
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    deadline = time.monotonic() + 5
    while _running(writer) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(writer)
    # The next build removes what the writer had written and succeeds.
    small = tmp_path / "small.nt"
    small.write_text(f"<{CITY}a> <{CG}partner> <{CITY}b> .\n", encoding="utf-8")
    build_store(root, [BuildInput(small, GRAPH_CURATED)])
    assert sorted(p.name for p in (root / "builds").iterdir() if p.name.startswith(".tmp")) == []
