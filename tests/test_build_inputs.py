"""What a build reads and reports (``citygraph.build``): the inputs and their formats, the
errors that name the file, the progress it reports, one writer at a time, and the importers'
``replace_graph``. The whole-build promises (derivations, validation, a killed build) are in
``test_build.py``; these run on tiny files in a temporary store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph import store
from citygraph.build import (
    PROGRESS_EVERY,
    BuildInput,
    build_store,
    default_build_inputs,
    load_inputs,
    replace_graph,
    shapes_check,
)
from citygraph.build_format import FORMAT
from citygraph.errors import (
    BuildError,
    DataNotConformingError,
    InputSyntaxError,
    StoreBusyError,
    StoreNotFoundError,
)
from citygraph.namespaces import (
    GRAPH_CURATED,
    GRAPH_DERIVED,
    GRAPH_META,
    GRAPH_ONTOLOGY,
    GRAPH_VOCAB,
    GRAPH_WORLDWIDE,
)

EX = "http://example.org/"
OTHER = EX + "other-graph"


def triple(s: str, o: str) -> str:
    return f"<{EX}{s}> <{EX}p> <{EX}{o}> .\n"


def graph_of(target: ox.Store, graph: str) -> set[tuple[str, str]]:
    """The (subject, object) pairs of ``graph``, as local names."""
    return {
        (q.subject.value.removeprefix(EX), q.object.value.removeprefix(EX))
        for q in target.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    }


@pytest.fixture
def small(tmp_path: Path) -> BuildInput:
    path = tmp_path / "small.nt"
    path.write_text(triple("a", "b") + triple("b", "c"), encoding="utf-8")
    return BuildInput(path, GRAPH_CURATED)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("data.ttl", f"@prefix ex: <{EX}> .\nex:a ex:p ex:b .\n"),
        ("data.nt", triple("a", "b")),
        ("data.nq", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}c> <{EX}p> <{EX}d> <{OTHER}> .\n"),
        ("data.trig", f"<{EX}a> <{EX}p> <{EX}b> .\n<{OTHER}> {{ <{EX}c> <{EX}p> <{EX}d> }}\n"),
    ],
)
def test_each_rdf_format_is_read_into_its_graph_and_named_graphs_stay_named(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    target = ox.Store()

    load_inputs(target, [BuildInput(path, GRAPH_CURATED)])

    assert graph_of(target, GRAPH_CURATED) == {("a", "b")}
    named = name.endswith(("nq", "trig"))
    assert graph_of(target, OTHER) == ({("c", "d")} if named else set())
    assert len(target) == (2 if named else 1)


def test_an_input_of_an_unknown_type_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{}", encoding="utf-8")

    with pytest.raises(InputSyntaxError) as caught:
        load_inputs(ox.Store(), [BuildInput(path, GRAPH_CURATED)])

    assert caught.value.path == path
    assert "'.json'" in caught.value.message
    assert all(suffix in caught.value.message for suffix in (".ttl", ".nt", ".nq", ".trig"))


def test_an_input_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "folder.ttl"  # a directory: it exists, but cannot be read as a file
    folder.mkdir()

    with pytest.raises(InputSyntaxError) as caught:
        load_inputs(ox.Store(), [BuildInput(folder, GRAPH_CURATED)])

    assert caught.value.path == folder
    assert caught.value.message.startswith("cannot read: ")
    assert "Is a directory" in caught.value.message  # why, in the system's words


def test_a_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.nt"
    path.write_text(triple("a", "b") + f"<{EX}a> <{EX}p> oops .\n", encoding="utf-8")

    with pytest.raises(InputSyntaxError) as caught:
        load_inputs(ox.Store(), [BuildInput(path, GRAPH_CURATED)])

    error = caught.value
    assert (error.path, error.line) == (path, 2)
    # the column where the parser stopped: on the object, after subject and predicate
    assert error.column is not None
    assert error.column > len(f"<{EX}a> <{EX}p> ")
    assert str(error).startswith(f"{path}:2:{error.column}: ")
    # the parser's own message, once (not followed by where it is again)
    with pytest.raises(SyntaxError) as parser:
        list(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
    assert error.message == parser.value.msg


def test_every_missing_input_is_named(tmp_path: Path, small: BuildInput) -> None:
    first, second = tmp_path / "one.ttl", tmp_path / "two.ttl"
    inputs = [BuildInput(first, GRAPH_CURATED), small, BuildInput(second, GRAPH_CURATED)]

    with pytest.raises(BuildError) as caught:
        build_store(tmp_path / "store", inputs)

    assert str(caught.value) == f"input file not found: {first}, {second}"
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())


def test_the_repository_inputs_are_the_ontology_vocabularies_and_data_in_order(
    tmp_path: Path,
) -> None:
    for name in ("ontology/citygraph.ttl", "ontology/vocab/b.ttl", "ontology/vocab/a.ttl",
                 "data/z.ttl", "data/m.ttl", "data/notes.md"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")

    inputs = default_build_inputs(tmp_path)

    assert [(i.path.relative_to(tmp_path).as_posix(), i.graph) for i in inputs] == [
        ("ontology/citygraph.ttl", GRAPH_ONTOLOGY),
        ("ontology/vocab/a.ttl", GRAPH_VOCAB),
        ("ontology/vocab/b.ttl", GRAPH_VOCAB),
        ("data/m.ttl", GRAPH_CURATED),
        ("data/z.ttl", GRAPH_CURATED),
    ]


def test_a_build_reports_each_file_and_each_carried_graph_with_its_quads(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    build_store(root, [small])
    replace_graph(root, GRAPH_WORLDWIDE, [ox.Quad(ox.NamedNode(EX + "w"), ox.NamedNode(EX + "p"),
                                                   ox.Literal("x"))])  # fmt: skip
    other = tmp_path / "other.nt"
    other.write_text(triple("x", "y"), encoding="utf-8")
    reported: list[tuple[str, int]] = []

    result = build_store(
        root,
        [small, BuildInput(other, GRAPH_CURATED)],
        progress=lambda what, n: reported.append((what, n)),
    )

    # each file with the quads it gave, not the quads so far
    assert reported == [(str(small.path), 2), (str(other), 1), (GRAPH_WORLDWIDE, 1)]
    # the build records the files it was made of
    assert result.build.metadata["inputs"] == [str(small.path), str(other)]
    assert result.quads_per_graph[GRAPH_WORLDWIDE] == 1
    assert result.in_memory  # a small build is assembled in memory by default
    target, _ = store.open_current(root)
    assert graph_of(target, GRAPH_WORLDWIDE) == {("w", "x")}


def test_without_carried_graphs_a_rebuild_drops_the_imported_one(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    build_store(root, [small])
    replace_graph(root, GRAPH_WORLDWIDE, [ox.Quad(ox.NamedNode(EX + "w"), ox.NamedNode(EX + "p"),
                                                   ox.NamedNode(EX + "x"))])  # fmt: skip

    result = build_store(root, [small], carry_over=())

    assert GRAPH_WORLDWIDE not in result.quads_per_graph
    target, _ = store.open_current(root)
    assert graph_of(target, GRAPH_WORLDWIDE) == set()


def test_a_build_waits_for_the_store_lock_and_gives_up_after_its_timeout(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    with store.write_lock(root, timeout=1.0), pytest.raises(StoreBusyError):
        build_store(root, [small], lock_timeout=0.2)
    with pytest.raises(StoreNotFoundError):
        store.current_build(root)
    assert build_store(root, [small], lock_timeout=0.2).quads_per_graph[GRAPH_CURATED] == 2


def test_the_version_names_what_the_build_is_made_of(tmp_path: Path, small: BuildInput) -> None:
    def digest(inputs: list[BuildInput]) -> str:
        return build_store(tmp_path / "store", inputs).build.version.rsplit("-", 1)[1]

    same = digest([small])
    assert digest([small]) == same
    assert digest([BuildInput(small.path, GRAPH_VOCAB)]) != same  # another graph
    small.path.write_text(triple("a", "b"), encoding="utf-8")
    assert digest([small]) != same  # other data


def test_replace_graph_replaces_one_graph_and_keeps_the_others(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    first = build_store(root, [small]).build
    old = [ox.Quad(ox.NamedNode(EX + "old"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"))]
    previous = replace_graph(root, GRAPH_WORLDWIDE, old).build
    reported: list[tuple[str, int]] = []
    new = [
        # a quad without a graph goes into the replaced graph; one naming a graph stays there
        ox.Quad(ox.NamedNode(EX + "new"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o")),
        ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"),
                ox.NamedNode(OTHER)),
    ]  # fmt: skip

    result = replace_graph(
        root, GRAPH_WORLDWIDE, new, progress=lambda what, n: reported.append((what, n))
    )

    target, build = store.open_current(root)
    assert graph_of(target, GRAPH_WORLDWIDE) == {("new", "o")}
    assert graph_of(target, OTHER) == {("s", "o")}
    assert graph_of(target, GRAPH_CURATED) == {("a", "b"), ("b", "c")}
    assert reported == [(GRAPH_WORLDWIDE, 2)]
    assert result.build.version == build.version
    assert build.version != first.version
    assert build.metadata["derived_from"] == previous.version
    assert build.metadata["change"] == f"replaced graph <{GRAPH_WORLDWIDE}>"
    assert build.metadata["inputs"] == [str(small.path)]
    # the derived and meta graphs are made again, not copied and added to
    meta = target.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_META))
    versions = {q.object.value for q in meta if q.predicate.value.endswith("versionInfo")}
    assert versions == {build.version}
    assert result.quads_per_graph.get(GRAPH_DERIVED, 0) == len(
        list(target.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_DERIVED)))
    )


def test_replace_graph_needs_a_build_to_start_from(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError):
        replace_graph(tmp_path / "store", GRAPH_WORLDWIDE, [])


def test_progress_is_reported_every_hundred_thousand_quads_and_at_the_end(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    build_store(root, [small])
    assert PROGRESS_EVERY == 100_000  # the interval the killed-build test and users see
    total = 2 * PROGRESS_EVERY + 3
    quads = (
        ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "o"))
        for i in range(total)
    )
    reported: list[tuple[str, int]] = []

    replace_graph(
        root,
        GRAPH_WORLDWIDE,
        quads,
        progress=lambda what, n: reported.append((what, n)),
        in_memory=True,
    )

    assert reported == [
        (GRAPH_WORLDWIDE, PROGRESS_EVERY),
        (GRAPH_WORLDWIDE, 2 * PROGRESS_EVERY),
        (GRAPH_WORLDWIDE, total),
    ]


def test_an_unsized_import_is_assembled_by_the_size_of_the_current_build(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    build_store(root, [small])
    quads = iter([ox.Quad(ox.NamedNode(EX + "w"), ox.NamedNode(EX + "p"), ox.Literal("x"))])

    result = replace_graph(root, GRAPH_WORLDWIDE, quads)

    assert result.in_memory


def test_a_build_goes_into_a_store_directory_that_does_not_exist_yet(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "var" / "store"  # `citygraph build` on a fresh clone: no var/ yet

    build = build_store(root, [small]).build

    assert store.current_build(root).version == build.version


def test_a_warning_does_not_stop_a_build(tmp_path: Path) -> None:
    # README: a Violation stops the build; this fixture has exactly one Warning and nothing else
    repository = Path(__file__).resolve().parents[1]
    inputs = [i for i in default_build_inputs(repository) if i.graph != GRAPH_CURATED] + [
        BuildInput(repository / "tests" / "data" / "cli" / "warning-only.ttl", GRAPH_CURATED)
    ]

    build = build_store(
        tmp_path / "store", inputs, validate=shapes_check(repository / "shapes")
    ).build

    assert store.current_build(tmp_path / "store").version == build.version


PAIR_OF_ONE = """
ex:pair a cg:Partnership ;
    rdfs:label "A pair of one"@en ;
    cg:partner ex:town ;
    prov:wasDerivedFrom ex:source .
"""


def test_a_shapes_check_with_a_focus_validates_those_nodes_and_what_refers_to_them(
    tmp_path: Path,
) -> None:
    # ex:town has a Warning only; ex:pair, which refers to it, a Violation (one partner)
    repository = Path(__file__).resolve().parents[1]
    data = tmp_path / "data.ttl"
    fixture = repository / "tests" / "data" / "cli" / "warning-only.ttl"
    data.write_text(fixture.read_text(encoding="utf-8") + PAIR_OF_ONE, encoding="utf-8")
    inputs = [i for i in default_build_inputs(repository) if i.graph != GRAPH_CURATED]
    target = ox.Store()
    load_inputs(target, [*inputs, BuildInput(data, GRAPH_CURATED)])
    shapes = repository / "shapes"
    town = "http://example.org/town"

    given: list[ox.Store] = []

    def check(focus: tuple[set[str], set[str]] | None, *, copy: bool = False) -> None:
        def of(store: ox.Store) -> tuple[set[str], set[str]] | None:
            given.append(store)  # the focus is computed from the store being checked
            return focus

        shapes_check(shapes, focus=of, copy=copy)(target)

    with pytest.raises(DataNotConformingError) as everything:
        check(None)  # no focus: every node
    assert {r.focus_node for r in everything.value.report.results} >= {EX + "pair", town}
    with pytest.raises(DataNotConformingError) as referred:
        check(({town}, set()))  # the town, and the pair that refers to it
    assert EX + "pair" in {r.focus_node for r in referred.value.report.results}
    check((set(), {town}))  # the town alone: a Warning does not stop it
    with pytest.raises(DataNotConformingError):
        check((set(), {EX + "pair"}))  # the pair alone: its own Violation
    with pytest.raises(DataNotConformingError):
        check(None, copy=True)  # validated on a copy in memory: the same verdict
    assert all(store is target for store in given)
    assert len(given) == 5


def claimed_build(root: Path, quads_per_graph: dict[str, int]) -> None:
    """Publish a build of one triple whose record claims ``quads_per_graph`` (what the next
    build's estimate of its own size reads), as a build of that size would record it."""
    version = "20260101T000000000000Z-aaaaaaaaaa"
    tmp = store.new_build_dir(root, version)
    target = ox.Store(str(tmp))
    target.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "b"),
                       ox.NamedNode(GRAPH_WORLDWIDE)))  # fmt: skip
    target.flush()
    del target
    metadata = {"version": version, "quads_per_graph": quads_per_graph, "format": FORMAT}
    store.publish_build(root, tmp, version, metadata)


HUGE = 10**12  # quads: 600 TB, far more than half of any machine's memory


def test_a_build_too_large_for_memory_is_assembled_on_disk(
    tmp_path: Path, small: BuildInput
) -> None:
    # the worldwide layer it carries over is counted in its size (docs/performance.md, build)
    claimed_build(tmp_path / "rebuilt", {GRAPH_WORLDWIDE: HUGE})
    assert not build_store(tmp_path / "rebuilt", [small]).in_memory

    # an import copies the current build: its size is counted, and what is imported
    claimed_build(tmp_path / "imported", {GRAPH_CURATED: HUGE})
    one = [ox.Quad(ox.NamedNode(EX + "w"), ox.NamedNode(EX + "p"), ox.Literal("x"))]
    assert not replace_graph(tmp_path / "imported", GRAPH_WORLDWIDE, one).in_memory


def test_replace_graph_validates_what_it_would_publish_and_publishes_nothing_if_refused(
    tmp_path: Path, small: BuildInput
) -> None:
    root = tmp_path / "store"
    before = build_store(root, [small]).build
    seen: list[set[tuple[str, str]]] = []

    def refuse(target: ox.Store) -> None:
        seen.append(graph_of(target, GRAPH_WORLDWIDE) | graph_of(target, GRAPH_CURATED))
        raise BuildError("refused")

    new = [ox.Quad(ox.NamedNode(EX + "w"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "x"))]
    with pytest.raises(BuildError, match="refused"):
        replace_graph(root, GRAPH_WORLDWIDE, new, validate=refuse)

    assert seen == [{("w", "x"), ("a", "b"), ("b", "c")}]  # the new graph with the others
    assert store.current_build(root).version == before.version
