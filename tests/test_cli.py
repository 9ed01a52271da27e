"""The command line as a data maintainer uses it: exit codes, messages, help."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from citygraph import cli as cli_module
from citygraph.cli import cli
from citygraph.store import open_current

ROOT = Path(__file__).resolve().parents[1]
SHAPE_FIXTURES = ROOT / "tests" / "data" / "shapes"


def all_commands() -> dict[str, click.Command]:
    cli_module._register_optional_commands()
    commands: dict[str, click.Command] = {}

    def walk(prefix: str, group: click.Group) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                commands[f"{prefix}{name}"] = command
                walk(f"{prefix}{name} ", command)
            else:
                commands[f"{prefix}{name}"] = command

    walk("", cli)
    return commands


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])

    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert f"citygraph {name}" in result.output


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citygraph", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "help_command"),
    [
        pytest.param(["build", "--no-such-option"], "citygraph build", id="unknown-option"),
        pytest.param(["query"], "citygraph query", id="query-without-query"),
        pytest.param(["validate", "--format", "yaml"], "citygraph validate", id="bad-choice"),
        pytest.param(["no-such-command"], "citygraph", id="unknown-command"),
        pytest.param(["validate", "does/not/exist.ttl"], "citygraph validate", id="missing-path"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], help_command: str) -> None:
    result = run(*args)

    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("citygraph: error:")
    assert result.stderr.rstrip().endswith(f"{help_command} --help')"), result.stderr
    assert "Traceback" not in result.stderr


def test_main_runs_the_arguments_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    """``main(argv)`` (the console script's entry point) runs ``argv``, not the process's."""
    cli_module.main(["--version"])

    assert capsys.readouterr().out.startswith("citygraph, version ")


def test_ctrl_c_ends_a_command_with_130_and_no_traceback() -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "citygraph", "validate"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a suite started in the background of a shell without job control
        # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert command.stderr is not None
    command.stderr.readline()  # "citygraph: project …": it has started validating
    command.send_signal(signal.SIGINT)
    _, stderr = command.communicate(timeout=120)

    assert command.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "citygraph: aborted", stderr
    assert "Traceback" not in stderr


def test_a_syntax_error_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        "@prefix cg: <https://w3id.org/citygraph/ontology#> .\n\ncg:a cg:b cg:c ;\n  cg:d .\n",
        encoding="utf-8",
    )

    result = run("validate", str(broken))

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{broken}:4" in result.stderr
    assert "Traceback" not in result.stderr


#: One failing fixture per kind of rule: the CLI's wiring (exit code, JSON report naming node and
#: rule) is what is tested here; tests/test_shapes.py checks every shape's fixtures in depth.
CLI_FIXTURES = {
    "Partnership-partner": "violation",  # a Core cardinality
    "Partnership-onePerPair": "violation",  # a SHACL-SPARQL cross-node rule
    "Place-wikidata": "warning",
    "Partnership-themed": "info",
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if isinstance(result.exception, Exception) and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("shape", "severity"), CLI_FIXTURES.items())
def test_a_failing_fixture_exits_1_naming_the_node_and_the_rule(shape: str, severity: str) -> None:
    fixture = SHAPE_FIXTURES / shape / "fail.ttl"

    code, out, _ = invoke("validate", str(fixture), "--fail-on", "info", "--format", "json")

    assert code == 1, out
    results = json.loads(out)
    matching = [
        r
        for r in results
        if shape in (r["shape"].rsplit("#")[-1], (r["source_constraint"] or "").rsplit("#")[-1])
    ]
    assert matching, results
    assert all(r["focus_node"] for r in matching)
    assert {r["severity"] for r in matching} == {severity}


CLI_DATA = ROOT / "tests" / "data" / "cli"


@pytest.mark.parametrize(
    ("fixture", "fail_on", "expected"),
    [
        pytest.param("warning-only.ttl", None, 0, id="warning-default"),
        pytest.param("warning-only.ttl", "violation", 0, id="warning-fail-on-violation"),
        pytest.param("warning-only.ttl", "warning", 1, id="warning-fail-on-warning"),
        pytest.param("warning-only.ttl", "info", 1, id="warning-fail-on-info"),
        pytest.param("info-only.ttl", "warning", 0, id="info-fail-on-warning"),
        pytest.param("info-only.ttl", "info", 1, id="info-fail-on-info"),
    ],
)
def test_fail_on_sets_the_lowest_severity_that_fails(
    fixture: str, fail_on: str | None, expected: int
) -> None:
    """Each fixture holds exactly one result of one severity (and no Violation)."""
    options = [] if fail_on is None else ["--fail-on", fail_on]

    code, out, _ = invoke("validate", str(CLI_DATA / fixture), *options, "--format", "json")

    assert code == expected, out
    assert len(json.loads(out)) == 1


def test_the_repository_data_conforms_but_has_warnings() -> None:
    code, out, _ = invoke("validate")
    strict, _, _ = invoke("validate", "--fail-on", "warning")

    assert code == 0, out
    assert "0 violations" in out
    assert strict == 1


def test_validate_reports_in_the_chosen_language() -> None:
    fixture = SHAPE_FIXTURES / "Partnership-partner" / "fail.ttl"

    english = invoke("validate", str(fixture), "--lang", "en")
    german = invoke("validate", str(fixture), "--lang", "de")
    chinese = invoke("validate", str(fixture), "--lang", "zh")

    assert english[0] == german[0] == chinese[0] == 1
    assert len({english[1], german[1], chinese[1]}) == 3


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["stats"], id="stats"),
        pytest.param(["query", "ASK {}"], id="query"),
        pytest.param(["validate"], id="validate"),
        pytest.param(["serve"], id="serve"),
    ],
)
def test_a_missing_store_exits_2_and_says_how_to_build_one(tmp_path: Path, args: list[str]) -> None:
    """Exit 2 (could not do its work) with one line, the same for every command that reads a
    store: ``serve`` said "Error: …" and exited 1 through click's own handling."""
    result = run(*args, "--store", str(tmp_path / "none"))

    assert result.returncode == 2, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("citygraph: error: "), result.stderr
    assert "citygraph build" in last
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    result = run("build", "--store", str(store), "--quiet")
    assert result.returncode == 0, result.stderr
    return store


def test_query_formats(built_store: Path) -> None:
    sparql = (
        "SELECT ?p WHERE { ?p a <https://w3id.org/citygraph/ontology#Partnership> } "
        "ORDER BY ?p LIMIT 3"
    )

    table = run("query", sparql, "--store", str(built_store))
    csv_out = run("query", sparql, "--store", str(built_store), "--format", "csv")
    json_out = run("query", sparql, "--store", str(built_store), "--format", "json")

    assert table.returncode == 0, table.stderr
    assert "(3 rows)" in table.stdout
    assert "partnership:" in table.stdout
    assert csv_out.stdout.splitlines()[0] == "p"
    assert len(csv_out.stdout.splitlines()) == 4
    assert len(json.loads(json_out.stdout)["results"]["bindings"]) == 3


def test_construct_as_turtle(built_store: Path) -> None:
    result = run(
        "query",
        "CONSTRUCT { ?a <urn:x> ?b } WHERE "
        "{ ?a <https://w3id.org/citygraph/ontology#twinnedWith> ?b } LIMIT 2",
        "--store",
        str(built_store),
        "--format",
        "turtle",
    )

    assert result.returncode == 0, result.stderr
    assert "<urn:x>" in result.stdout


def test_a_query_syntax_error_exits_2_with_position(built_store: Path) -> None:
    result = run("query", "SELECT * WHERE { ?s ?p }", "--store", str(built_store))

    assert result.returncode == 2
    assert "1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_stats_counts_graphs_classes_and_links(built_store: Path) -> None:
    result = run("stats", "--store", str(built_store), "--json")

    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["triples_per_graph"]["https://w3id.org/citygraph/graph/curated"] > 0
    assert stats["instances_per_class"]["https://w3id.org/citygraph/ontology#Partnership"] > 0
    assert stats["links_per_target"]["Wikidata"] > 0
    assert stats["links_per_target"]["GeoNames"] > 0


def test_stats_as_text_gives_the_counts_the_store_holds(built_store: Path) -> None:
    """The default (text) form: the version, the distinct triples and each graph's triples, as
    counted on the store itself, then the classes and the link targets."""
    result = run("stats", "--store", str(built_store))

    assert result.returncode == 0, result.stderr
    target, build = open_current(built_store)
    quads = list(target.quads_for_pattern(None, None, None, None))
    distinct = {(quad.subject, quad.predicate, quad.object) for quad in quads}
    curated = sum(1 for quad in quads if quad.graph_name.value.endswith("/graph/curated"))
    lines = result.stdout.splitlines()
    assert lines[0] == f"store {built_store} (version {build.version})"
    assert lines[2].startswith(f"{len(distinct):,} distinct triples, ")
    per_graph = result.stdout.split("triples per graph:\n")[1].split("\n\n")[0].splitlines()
    assert any(re.fullmatch(rf"\s+{curated:,}\s+\S*curated>?", line) for line in per_graph), (
        per_graph
    )
    assert "\ninstances per class:\n" in result.stdout
    assert "\nlinks out per target:\n" in result.stdout
    assert re.search(r"^\s+[\d,]+\s+Wikidata$", result.stdout, re.MULTILINE), result.stdout


def test_validate_store_checks_what_the_build_published(built_store: Path) -> None:
    result = run("validate", "--store", str(built_store), "--format", "json")

    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert results, "the curated data has known warnings (no signatories, no Wikidata link)"
    assert {r["severity"] for r in results} <= {"warning", "info"}


def test_validate_store_and_paths_together_is_a_usage_error(built_store: Path) -> None:
    result = run("validate", "--store", str(built_store), "data")

    assert result.returncode == 2
    assert "not both" in result.stderr


def test_every_command_uses_one_default_store(tmp_path: Path) -> None:
    """`citygraph build && citygraph serve` work together without --store (issue 15)."""

    def here(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k != "CITYGRAPH_STORE"}
        return subprocess.run(
            [sys.executable, "-m", "citygraph", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**environment, **(env or {})},
            timeout=300,
            check=False,
        )

    built = here("build", "--quiet")
    served = here("serve", "--get", "/sparql?query=ASK%7B%3Fs%3Fp%3Fo%7D")
    counted = here("stats", "--json")
    elsewhere = here("stats", env={"CITYGRAPH_STORE": str(tmp_path / "elsewhere")})

    assert built.returncode == 0, built.stderr
    assert (tmp_path / "var" / "store" / "current").is_symlink()
    assert served.returncode == 0, served.stderr
    assert "true" in served.stdout
    assert counted.returncode == 0, counted.stderr
    assert elsewhere.returncode == 2
    assert "elsewhere" in elsewhere.stderr


def test_build_says_what_it_validates_on_stderr_and_what_it_published_on_stdout(
    tmp_path: Path,
) -> None:
    """Without --quiet: the inputs, what each file gave and the shapes check on stderr
    (progress), and on stdout the build it published, with the quads the store now holds and
    the commands to use it."""
    store_dir = tmp_path / "store"
    result = run("build", "--store", str(store_dir))

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"citygraph: inputs: working tree {ROOT}"
    places = ROOT / "data" / "places.ttl"
    triples = sum(1 for _ in ox.parse(path=places, format=ox.RdfFormat.TURTLE))
    assert f"  loaded {triples:>12,} quads from {places}" in result.stderr.splitlines()
    assert re.search(r"^validating [\d,]+ quads against shapes/ …$", result.stderr, re.MULTILINE)
    target, build = open_current(store_dir)
    quads = sum(1 for _ in target.quads_for_pattern(None, None, None, None))
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"built {build.version}: {quads:,} quads in "), result.stdout
    assert f"store: {store_dir.resolve()}" in lines
    assert lines[-1] == f"serve it:  citygraph serve --store {store_dir}"
    assert "validating" not in result.stdout


def test_a_violation_stops_the_build_and_leaves_the_previous_store(tmp_path: Path) -> None:
    """The README's headline promise, through the command a maintainer runs (issue 15 §1)."""
    project = tmp_path / "project"
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, project / folder)
    store_dir = tmp_path / "store"
    first = run("build", "--project", str(project), "--store", str(store_dir), "--quiet")
    assert first.returncode == 0, first.stderr
    published = (store_dir / "current").resolve()
    # A partnership with one partner: a Violation of cgsh:Partnership-partner.
    (project / "data" / "broken.ttl").write_text(
        (CLI_DATA / "warning-only.ttl").read_text(encoding="utf-8")
        + "\nex:pair a cg:Partnership ;\n"
        '    rdfs:label "A pair of one"@en ;\n'
        "    cg:partner ex:town ;\n"
        "    prov:wasDerivedFrom ex:source .\n",
        encoding="utf-8",
    )

    second = run("build", "--project", str(project), "--store", str(store_dir), "--quiet")

    assert second.returncode == 1, second.stdout + second.stderr
    assert "http://example.org/pair" in second.stderr  # the report, where errors go
    last = second.stderr.splitlines()[-1]  # and, last, what happened to the store
    assert last.startswith("citygraph: "), second.stderr
    assert "store was not changed" in last, second.stderr
    assert (store_dir / "current").resolve() == published
    assert sorted(p.name for p in (store_dir / "builds").iterdir() if p.is_dir()) == [
        published.name
    ]
