"""`citygraph import twins`: exit codes, summary, report file, nothing written on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
from click.testing import CliRunner
from tests.worldwide.conftest import REPOSITORY

from citygraph import store
from citygraph.build import BuildInput, build_store, default_build_inputs
from citygraph.namespaces import GRAPH_CURATED, GRAPH_WORLDWIDE
from citygraph.worldwide.cli import import_group
from citygraph.worldwide.geonames import GeoNamesIndex


def graph_size(root: Path, graph: str) -> int:
    current, _ = store.open_current(root)
    return len(list(current.quads_for_pattern(None, None, None, ox.NamedNode(graph))))


def test_import_prints_a_summary_and_writes_the_report(
    data: Path, curated_store: Path, tmp_path: Path, tiny_geonames: GeoNamesIndex
) -> None:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        import_group,
        [
            "twins",
            str(data / "raw-small.csv"),
            "--store",
            str(curated_store),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "imported 6 partnerships; 2 pairs already curated" in result.output
    assert "rejected: self-loop 1, unknown-country 1" in result.output
    assert "linked by kind: city " in result.output
    content = json.loads(report.read_text(encoding="utf-8"))
    assert content["counts"]["merged"] == {"duplicate": 3}
    assert {i["reason"] for i in content["issues"]} >= {"self-loop", "duplicate"}
    assert graph_size(curated_store, GRAPH_WORLDWIDE) > 0


def test_reimport_of_the_same_file_changes_nothing(
    data: Path, curated_store: Path, tiny_geonames: GeoNamesIndex
) -> None:
    args = ["twins", str(data / "raw-small.csv"), "--store", str(curated_store)]
    assert CliRunner().invoke(import_group, args).exit_code == 0
    first = set(
        store.open_current(curated_store)[0].quads_for_pattern(
            None, None, None, ox.NamedNode(GRAPH_WORLDWIDE)
        )
    )
    result = CliRunner().invoke(import_group, args)
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 0 removed" in result.output
    second = set(
        store.open_current(curated_store)[0].quads_for_pattern(
            None, None, None, ox.NamedNode(GRAPH_WORLDWIDE)
        )
    )
    assert first == second


def test_malformed_file_exits_2_and_writes_nothing(
    data: Path, curated_store: Path, tiny_geonames: GeoNamesIndex
) -> None:
    before = store.current_build(curated_store).version
    result = CliRunner().invoke(
        import_group,
        [
            "twins",
            str(data / "raw-small.csv"),
            str(data / "bad-columns.csv"),
            "--store",
            str(curated_store),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "bad-columns.csv:3:" in result.output
    assert store.current_build(curated_store).version == before
    assert graph_size(curated_store, GRAPH_WORLDWIDE) == 0
    assert graph_size(curated_store, GRAPH_CURATED) > 0


def test_missing_store_exits_2(data: Path, tmp_path: Path, tiny_geonames: GeoNamesIndex) -> None:
    result = CliRunner().invoke(
        import_group, ["twins", str(data / "raw-small.csv"), "--store", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert "no built store" in result.output


def test_command_has_help() -> None:
    result = CliRunner().invoke(import_group, ["twins", "--help"])
    assert result.exit_code == 0
    assert "--report" in result.output
    assert "graph:worldwide" in result.output


def test_an_import_that_would_publish_a_violation_exits_1_and_writes_nothing(
    data: Path, curated_store: Path, tmp_path: Path, tiny_geonames: GeoNamesIndex
) -> None:
    # The imported rows are fine, but the store they join now has a partnership without its
    # partners (as a careless SPARQL Update could leave): the import validates everything it
    # would publish, so it refuses.
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        "<https://w3id.org/citygraph/id/partnership/x--y> "
        "a <https://w3id.org/citygraph/ontology#Partnership> .\n",
        encoding="utf-8",
    )
    inputs = [*default_build_inputs(REPOSITORY), BuildInput(broken, GRAPH_CURATED)]
    inputs = [i for i in inputs if i.path.parent.name != "data"]
    inputs.append(BuildInput(data / "curated-berlin.ttl", GRAPH_CURATED))
    build_store(curated_store, inputs)  # no validate callback: the API lets a caller skip it
    before = store.current_build(curated_store).version

    result = CliRunner().invoke(
        import_group, ["twins", str(data / "raw-small.csv"), "--store", str(curated_store)]
    )

    assert result.exit_code == 1, result.output
    assert "x--y" in result.output
    assert "Violation" in result.output
    assert "the store was not changed" in result.output
    assert store.current_build(curated_store).version == before
    assert graph_size(curated_store, GRAPH_WORLDWIDE) == 0
