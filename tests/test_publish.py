"""The one build transaction (``citygraph.publish``): what every build publishes, whoever
makes it, and that a transaction that fails publishes nothing. Real Oxigraph stores on disk."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from citygraph import __version__, build_format, store
from citygraph.errors import BuildError
from citygraph.namespaces import GRAPH_CURATED, GRAPH_DERIVED, GRAPH_META, GRAPH_ONTOLOGY
from citygraph.publish import DATASET, VERSION_INFO, new_version, publish

CG = "https://w3id.org/citygraph/ontology#"
ID = "https://w3id.org/citygraph/id/"
RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
MODIFIED = ox.NamedNode("http://purl.org/dc/terms/modified")
CURATED = ox.NamedNode(GRAPH_CURATED)
DERIVED = ox.NamedNode(GRAPH_DERIVED)
META = ox.NamedNode(GRAPH_META)
BERLIN, PARIS = ox.NamedNode(ID + "city/de-berlin"), ox.NamedNode(ID + "city/fr-paris")
PAIR = ox.NamedNode(ID + "partnership/de-berlin--fr-paris")
STALE = ox.Quad(ox.NamedNode(ID + "stale"), RDF_TYPE, ox.NamedNode(CG + "Stale"), DERIVED)

DATA = [
    ox.Quad(ox.NamedNode(CG + "City"), RDFS_SUBCLASS, ox.NamedNode(CG + "Place"),
            ox.NamedNode(GRAPH_ONTOLOGY)),
    ox.Quad(BERLIN, RDF_TYPE, ox.NamedNode(CG + "City"), CURATED),
    ox.Quad(PARIS, RDF_TYPE, ox.NamedNode(CG + "City"), CURATED),
    ox.Quad(PAIR, RDF_TYPE, ox.NamedNode(CG + "Partnership"), CURATED),
    ox.Quad(PAIR, ox.NamedNode(CG + "partner"), BERLIN, CURATED),
    ox.Quad(PAIR, ox.NamedNode(CG + "partner"), PARIS, CURATED),
]  # fmt: skip


def fill(target: ox.Store) -> str:
    """The data, and what an earlier build left in graph:derived and graph:meta."""
    target.extend(DATA)
    target.add(STALE)
    target.add(ox.Quad(ox.NamedNode(DATASET), VERSION_INFO, ox.Literal("old"), META))
    return "filled"


def quads(target: ox.Store, graph: ox.NamedNode) -> set[ox.Quad]:
    return set(target.quads_for_pattern(None, None, None, graph))


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-"))


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "on disk"])
def test_a_build_is_derived_recorded_and_published_with_its_metadata(
    tmp_path: Path, in_memory: bool
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    outcome, result = publish(
        tmp_path, fill, version="v1", inputs=["data/a.ttl", "data/b.ttl"], in_memory=in_memory
    )
    took = time.monotonic() - started
    after = datetime.now(UTC)

    assert outcome == "filled"  # what fill returned, handed back
    target, build = store.open_current(tmp_path)
    assert build.version == result.build.version == "v1"
    assert build.path == result.build.path
    # derived: the shortcut both ways and the superclass type; what was there before is gone
    assert quads(target, DERIVED) == {
        ox.Quad(BERLIN, ox.NamedNode(CG + "twinnedWith"), PARIS, DERIVED),
        ox.Quad(PARIS, ox.NamedNode(CG + "twinnedWith"), BERLIN, DERIVED),
        ox.Quad(BERLIN, RDF_TYPE, ox.NamedNode(CG + "Place"), DERIVED),
        ox.Quad(PARIS, RDF_TYPE, ox.NamedNode(CG + "Place"), DERIVED),
    }
    # recorded: graph:meta holds this build's version, time and format, and nothing else
    meta = {(q.predicate, q.object) for q in quads(target, META)}
    assert (VERSION_INFO, ox.Literal("v1")) in meta
    format_ = ox.Literal(build_format.FORMAT)
    assert (ox.NamedNode(CG + "buildFormat"), format_) in meta
    assert format_.datatype == ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    (modified,) = (o for p, o in meta if p == MODIFIED)
    assert isinstance(modified, ox.Literal)
    assert modified.datatype == ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
    assert before <= datetime.fromisoformat(modified.value) <= after
    assert len(meta) == 3
    assert {q.subject for q in quads(target, META)} == {ox.NamedNode(DATASET)}
    counts = {GRAPH_ONTOLOGY: 1, GRAPH_CURATED: 5, GRAPH_DERIVED: 4, GRAPH_META: 3}
    assert result.quads_per_graph == counts
    # the same moment in the metadata as in graph:meta
    assert datetime.fromisoformat(str(build.metadata["built"])) == datetime.fromisoformat(
        modified.value
    )
    assert build.metadata == {
        "version": "v1",
        "format": build_format.FORMAT,
        "built": build.metadata["built"],
        "citygraph": __version__,
        "inputs": ["data/a.ttl", "data/b.ttl"],
        "quads_per_graph": counts,
    }
    assert json.loads((tmp_path / "builds" / "v1.json").read_text()) == build.metadata
    assert result.in_memory is in_memory
    assert list(result.steps) == ["load", "derive", "validate", "write", "publish"]
    assert all(seconds >= 0 for seconds in result.steps.values())
    assert sum(result.steps.values()) <= result.seconds + 0.05
    assert result.seconds <= took  # the time it took, as measured here too
    assert leftovers(tmp_path) == []


def test_a_derived_build_records_where_it_came_from_and_what_changed(tmp_path: Path) -> None:
    publish(tmp_path, fill, version="v1")
    _, result = publish(
        tmp_path, fill, version="v2", derived_from="v1", change="replaced graph <g>"
    )

    assert result.in_memory is True  # assembled in memory unless told otherwise
    assert result.build.metadata["derived_from"] == "v1"
    assert result.build.metadata["change"] == "replaced graph <g>"
    assert store.current_build(tmp_path).metadata == result.build.metadata


def test_validation_sees_exactly_what_would_be_served(tmp_path: Path) -> None:
    seen: list[set[ox.Quad]] = []

    def check(target: ox.Store) -> None:
        seen.append(set(target))

    publish(tmp_path, fill, version="v1", validate=check)

    served, _ = store.open_current(tmp_path)
    assert seen == [set(served)]
    assert STALE not in seen[0]


@pytest.mark.parametrize("in_memory", [True, False], ids=["in memory", "on disk"])
@pytest.mark.parametrize("step", ["fill", "validate", "before_publish"])
def test_a_transaction_that_fails_publishes_nothing_and_leaves_no_trace(
    tmp_path: Path, in_memory: bool, step: str
) -> None:
    publish(tmp_path, fill, version="v1")

    def fail(*_: object) -> None:
        raise BuildError(f"{step} failed")

    with pytest.raises(BuildError, match=f"{step} failed"):
        publish(
            tmp_path,
            fail if step == "fill" else fill,
            version="v2",
            in_memory=in_memory,
            validate=fail if step == "validate" else None,
            before_publish=fail if step == "before_publish" else None,
        )

    assert store.current_build(tmp_path).version == "v1"
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == ["v1", "v1.json"]
    assert leftovers(tmp_path) == []


def test_before_publish_gets_the_finished_build_before_it_is_current(tmp_path: Path) -> None:
    publish(tmp_path, fill, version="v1")
    got: list[tuple[store.Build, str, int]] = []

    def upload(build: store.Build) -> None:
        # the build is closed and complete: it opens, and it is not published yet
        copy = ox.Store.read_only(str(build.path))
        got.append((build, store.current_build(tmp_path).version, len(copy)))

    _, result = publish(tmp_path, fill, version="v2", change="c", before_publish=upload)

    ((build, current, size),) = got
    assert current == "v1"
    assert build.version == "v2"
    assert build.metadata == result.build.metadata
    assert size == sum(result.quads_per_graph.values())
    assert not build.path.exists()  # it was moved into place


def test_a_checkpoint_starts_from_a_copy_of_that_build(tmp_path: Path) -> None:
    _, first = publish(tmp_path, fill, version="v1", in_memory=False)
    extra = ox.Quad(ox.NamedNode(ID + "city/it-rome"), RDF_TYPE, ox.NamedNode(CG + "City"), CURATED)

    def add(target: ox.Store) -> int:
        size = len(target)
        target.add(extra)
        return size

    before, result = publish(tmp_path, add, version="v2", in_memory=False, checkpoint=first.build)

    assert before == sum(first.quads_per_graph.values())  # fill got the copy, not an empty store
    served, _ = store.open_current(tmp_path)
    assert extra in served
    assert set(DATA) <= set(served)
    assert result.quads_per_graph[GRAPH_CURATED] == 6
    assert extra not in ox.Store.read_only(
        str(first.build.path)
    )  # the checkpoint itself is untouched


def test_old_builds_are_pruned_to_the_number_kept(tmp_path: Path) -> None:
    for version in ("v1", "v2", "v3", "v4"):
        publish(tmp_path, fill, version=version, keep=3)
    kept = sorted(p.name for p in (tmp_path / "builds").iterdir() if p.is_dir())
    assert kept == ["v2", "v3", "v4"]

    publish(tmp_path, fill, version="v5")  # the default
    kept = sorted(p.name for p in (tmp_path / "builds").iterdir() if p.is_dir())
    assert kept == ["v3", "v4", "v5"][-store.KEEP_BUILDS :]


@pytest.fixture
def local_time_ahead_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time 14 hours ahead of UTC (POSIX TZ: no zone database needed)."""
    monkeypatch.setenv("TZ", "AHEAD-14")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_ahead_of_utc")
def test_a_version_sorts_by_time_and_names_what_the_build_is_made_of() -> None:
    # in UTC wherever it is made: versions made on machines in different zones sort by time
    first = new_version(b"ontology", b"data")
    again = new_version(b"ontology", b"data")
    other = new_version(b"ontology", b"other data")

    stamp, digest = first.split("-")
    assert re.fullmatch(r"\d{8}T\d{12}Z", stamp)
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC) <= datetime.now(UTC)
    # sha256 of the parts, one after the other (printf ontologydata | sha256sum)
    assert digest == "076dfc0ca2"
    assert again.split("-")[1] == digest
    assert other.split("-")[1] != digest
    assert first <= again  # later versions sort after earlier ones


def test_a_build_derives_start_years_and_search_keys(tmp_path: Path) -> None:
    """Every start date gets its year as an integer, whatever its precision and graph; every
    place gets one search key per distinct name, case and accents folded (docs/model.md)."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    alt_label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
    start = ox.NamedNode(CG + "startDate")
    worldwide = ox.NamedNode("https://w3id.org/citygraph/graph/worldwide")
    dusseldorf = ox.NamedNode(ID + "city/de-duesseldorf")
    event = ox.NamedNode(ID + "event/e")
    senate = ox.NamedNode(ID + "org/senate")
    old_pair = ox.NamedNode(ID + "partnership/old")
    # XML Schema's years have four digits or more and a sign: neither cut nor dropped
    ancient = ox.NamedNode(ID + "partnership/ancient")
    far = ox.NamedNode(ID + "partnership/far")

    def date(text: str, datatype: str) -> ox.Literal:
        return ox.Literal(text, datatype=ox.NamedNode(xsd + datatype))

    def data(target: ox.Store) -> None:
        target.extend(
            [
                ox.Quad(PAIR, start, date("1987-05-13", "date"), CURATED),
                ox.Quad(event, start, date("2022-11", "gYearMonth"), CURATED),
                ox.Quad(old_pair, start, date("1956", "gYear"), worldwide),
                ox.Quad(ancient, start, date("-0044", "gYear"), CURATED),
                ox.Quad(far, start, date("12345-01-01", "date"), CURATED),
                ox.Quad(dusseldorf, RDF_TYPE, ox.NamedNode(CG + "City"), CURATED),
                ox.Quad(dusseldorf, label, ox.Literal("Düsseldorf", language="de"), CURATED),
                ox.Quad(dusseldorf, label, ox.Literal("Düsseldorf", language="en"), CURATED),
                ox.Quad(dusseldorf, alt_label, ox.Literal(" DÜSSELDORF", language="en"), worldwide),
                ox.Quad(dusseldorf, label, ox.Literal("杜塞尔多夫", language="zh-Hans"), CURATED),
                ox.Quad(senate, label, ox.Literal("Senat von Berlin", language="de"), CURATED),
            ]
        )  # fmt: skip

    publish(tmp_path, data, version="v1")
    target, _ = store.open_current(tmp_path)
    years = {
        (q.subject, q.object)
        for q in target.quads_for_pattern(None, ox.NamedNode(CG + "startYear"), None, DERIVED)
    }
    integer = ox.NamedNode(xsd + "integer")
    assert years == {
        (PAIR, ox.Literal("1987", datatype=integer)),
        (event, ox.Literal("2022", datatype=integer)),
        (old_pair, ox.Literal("1956", datatype=integer)),
        (ancient, ox.Literal("-44", datatype=integer)),
        (far, ox.Literal("12345", datatype=integer)),
    }
    keys = {
        (q.subject, q.object)
        for q in target.quads_for_pattern(None, ox.NamedNode(CG + "searchKey"), None, DERIVED)
    }
    # one key per distinct folded name; the organisation is no place and gets none
    assert keys == {
        (dusseldorf, ox.Literal("dusseldorf")),
        (dusseldorf, ox.Literal("杜塞尔多夫")),
    }
    # a name search is then one comparison of plain strings
    found = target.query(
        f'SELECT ?place WHERE {{ ?place <{CG}searchKey> ?key FILTER (CONTAINS(?key, "dussel")) }}',
        use_default_graph_as_union=True,
    )
    assert isinstance(found, ox.QuerySolutions)
    assert [row["place"] for row in found] == [dusseldorf]


def test_a_bulk_derivation_on_disk_gives_the_quads_of_the_updates_in_memory(
    tmp_path: Path,
) -> None:
    # the repository's data: partnerships, dates, places' names, curated statements to reify
    from citygraph.build import default_build_inputs, load_inputs
    from citygraph.publish import derive
    from citygraph.validate import repository_root

    inputs = default_build_inputs(repository_root())
    memory = ox.Store()
    load_inputs(memory, inputs)
    derive(memory)
    disk = ox.Store(str(tmp_path / "disk"))
    load_inputs(disk, inputs)
    disk.bulk_extend([STALE])  # a leftover of graph:derived is dropped either way
    derive(disk, bulk=True)

    derived = set(memory.quads_for_pattern(None, None, None, DERIVED))
    assert len(derived) > 1_000  # statements, start years, search keys, links, types
    assert set(disk.quads_for_pattern(None, None, None, DERIVED)) == derived
