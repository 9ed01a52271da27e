"""A build of another format than this citygraph's is refused, never served (docs/model.md,
"Build formats"; ``citygraph.build_format``): by the commands that open a store directory's build
(exit 2 with what was found, what is expected and the rebuild command), by ``serve`` on a remote
store whose graph:meta says another format, and by a running server when one is published (it
keeps serving the build it has). A rebuild reads it and replaces it. Real Oxigraph stores on
disk, real ``citygraph`` processes, a real ``oxigraph serve`` for the remote store.
"""

from __future__ import annotations

import doctest
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.backends import OxigraphServers
from tests.serving import running_server
from tests.test_cli_backend import citygraph
from tests.web.conftest import CITY, META, make_build, tiny_quads

from citygraph import build_format, store
from citygraph.build import BuildInput, build_store
from citygraph.engine.remote import RemotePool
from citygraph.engine.remote_publish import publish_build
from citygraph.errors import BuildFormatError, StoreNotFoundError
from citygraph.namespaces import GRAPH_CURATED, GRAPH_WORLDWIDE
from citygraph.publish import DATASET, publish

OLD, NEW = "20260101T000000000000Z-aaaaaaaaaa", "20260102T000000000000Z-bbbbbbbbbb"
PARIS = f"SELECT ?label WHERE {{ <{CITY}fr-paris> ?p ?label }}"
OWL_VERSION = "http://www.w3.org/2002/07/owl#versionInfo"
#: What a build from before formats were recorded lacks: the format in graph:meta.
FORMAT_IN_META = build_format.PREDICATE


def old_build(
    root: Path, quads: Iterable[ox.Quad], version: str, *, found: object = None
) -> store.Build:
    """A build as a citygraph of another format published it: its metadata and graph:meta
    record ``found`` as its format (``None``: nothing, as before formats were recorded)."""
    kept = [q for q in quads if q.predicate != FORMAT_IN_META]
    if found is not None:
        value = ox.Literal(found) if type(found) is int else ox.Literal(str(found))
        kept.append(ox.Quad(ox.NamedNode(DATASET), FORMAT_IN_META, value, ox.NamedNode(META)))
    tmp = store.new_build_dir(root, version)
    target = ox.Store(str(tmp))
    target.bulk_extend(kept)
    target.flush()
    del target
    metadata: dict[str, object] = {"version": version}
    if found is not None:
        metadata["format"] = found
    return store.publish_build(root, tmp, version, metadata)


# -- the library: what is refused, and what the message says ---------------------------------


@pytest.mark.parametrize(
    ("found", "says"),
    [
        pytest.param(None, "records no build format", id="none"),
        pytest.param(0, "is of build format 0;", id="older"),
        pytest.param(build_format.FORMAT + 1, "made by a newer citygraph", id="newer"),
        pytest.param(
            str(build_format.FORMAT),
            f"is of build format {str(build_format.FORMAT)!r}",
            id="a-string",
        ),
        pytest.param(True, "is of build format True", id="true-is-not-1"),
    ],
)
def test_a_build_of_another_format_is_refused_with_the_rebuild_command(
    tmp_path: Path, found: object, says: str
) -> None:
    old_build(tmp_path, tiny_quads(), OLD, found=found)

    with pytest.raises(BuildFormatError) as refused:
        store.open_current(tmp_path)

    message = str(refused.value)
    assert f"the build {OLD} of {tmp_path}" in message
    assert says in message
    assert f"this citygraph reads builds of format {build_format.FORMAT} only" in message
    assert f"`citygraph build --store {tmp_path}`" in message
    assert (refused.value.found, refused.value.expected) == (found, build_format.FORMAT)
    assert isinstance(refused.value, StoreNotFoundError)  # no build it can read: 503 on the web


def test_a_build_of_this_format_is_what_the_transaction_records_and_readers_accept(
    tmp_path: Path,
) -> None:
    def fill(target: ox.Store) -> None:
        target.extend(q for q in tiny_quads() if q.graph_name != ox.NamedNode(META))

    publish(tmp_path, fill, version=NEW)
    target, build = store.open_current(tmp_path)  # accepted

    assert build.version == NEW
    on_disk = json.loads((tmp_path / "builds" / f"{NEW}.json").read_text())
    assert on_disk["format"] == build_format.FORMAT
    recorded = build_format.found_in(target.query(build_format.QUERY))  # type: ignore[arg-type]
    assert recorded == (
        True,
        build_format.FORMAT,
    )  # graph:meta says the same, for a remote store's readers


def test_a_rebuild_replaces_a_build_of_another_format_and_keeps_its_worldwide_layer(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    pair = ox.Quad(
        ox.NamedNode(CITY + "a"), ox.NamedNode(CITY + "b"), ox.Literal("imported"),
        ox.NamedNode(GRAPH_WORLDWIDE),
    )  # fmt: skip
    old_build(root, [pair], OLD)
    data = tmp_path / "data.ttl"
    data.write_text(f'<{CITY}fr-paris> <{CITY}p> "Paris" .\n', encoding="utf-8")

    result = build_store(root, [BuildInput(data, GRAPH_CURATED)])

    target, build = store.open_current(root)  # of this format now
    assert build.version == result.build.version != OLD
    assert pair in set(target.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_WORLDWIDE)))


def test_an_import_or_a_write_on_a_build_of_another_format_is_refused(tmp_path: Path) -> None:
    from citygraph.build import replace_graph

    old_build(tmp_path, tiny_quads(), OLD)
    with pytest.raises(BuildFormatError, match="citygraph build --store"):
        replace_graph(tmp_path, GRAPH_WORLDWIDE, [])
    assert store.current_build(tmp_path, any_format=True).version == OLD  # nothing published


def test_the_examples_of_the_module_run() -> None:
    result = doctest.testmod(build_format)
    assert result.attempted > 0
    assert result.failed == 0


# -- the commands ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["validate", "--store"], id="validate"),
        pytest.param(["stats", "--store"], id="stats"),
        pytest.param(["query", "ASK { ?s ?p ?o }", "--store"], id="query"),
        pytest.param(["serve", "--get", "/sparql?query=ASK{?s?p?o}", "--store"], id="serve"),
    ],
)
def test_the_commands_refuse_a_build_without_a_format_with_exit_2_and_the_rebuild_command(
    tmp_path: Path, command: list[str]
) -> None:
    old_build(tmp_path, tiny_quads(), OLD)

    result = citygraph(*command, str(tmp_path))

    assert result.returncode == 2, result.stdout + result.stderr
    assert "records no build format" in result.stderr
    assert f"rebuild it with `citygraph build --store {tmp_path}`" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_from_a_build_of_this_format(tmp_path: Path) -> None:
    make_build(tmp_path, tiny_quads(), NEW)

    result = citygraph("serve", "--store", str(tmp_path), "--get", "/sparql?query=ASK{?s?p?o}")

    assert result.returncode == 0, result.stderr
    assert '"boolean":true' in result.stdout


def test_serve_and_validate_refuse_a_remote_store_whose_build_records_another_format(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    remote = oxigraph_servers.get("old-format")
    publish_build(old_build(tmp_path / "store", tiny_quads(), OLD, found=0), remote)

    served = citygraph("serve", "--backend", remote.query, "--get", "/sparql?query=ASK{?s?p?o}")
    options = ["--backend", remote.query, "--backend-store", remote.store]
    checked = citygraph("validate", "--store", str(tmp_path / "store"), *options)

    for result in (served, checked):
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"the build the store at {remote.query} serves is of build format 0" in (
            result.stderr
        )
        assert f"citygraph build --backend {remote.query}" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_pool_on_a_remote_store_keeps_its_version_when_one_of_another_format_is_published(
    tmp_path: Path, oxigraph_servers: OxigraphServers, caplog: pytest.LogCaptureFixture
) -> None:
    """As on a store directory: the version the server reads from graph:meta is not switched to
    while graph:meta says another format (logged once), and is once it says this one."""
    remote = oxigraph_servers.get("format-switch")
    publish_build(
        old_build(tmp_path / "store", tiny_quads(), OLD, found=build_format.FORMAT), remote
    )

    def meta(version: str, found: int) -> None:  # graph:meta as such a publication writes it
        update = (
            f"DELETE WHERE {{ GRAPH <{META}> {{ <{DATASET}> ?p ?o }} }} ;\n"
            f'INSERT DATA {{ GRAPH <{META}> {{ <{DATASET}> <{OWL_VERSION}> "{version}" ; '
            f"<{FORMAT_IN_META.value}> {found} }} }}"
        )
        answer = httpx.post(remote.update, data={"update": update}, timeout=60)
        assert answer.status_code in (200, 204), answer.text

    pool = RemotePool(remote, max_concurrent=2, check_interval=3600)
    pool.start()
    try:
        served = pool.version  # the version graph:meta records
        assert served
        meta(NEW, 0)
        with caplog.at_level(logging.ERROR, logger="citygraph.engine.remote"):
            for _ in range(3):
                pool.check_for_new_build(wait=True)
        assert pool.version == served
        assert pool.stats.switches == 0
        refusals = [r.getMessage() for r in caplog.records if "cannot switch" in r.getMessage()]
        assert len(refusals) == 1, refusals  # said once, not per check
        assert f"still serving {served}" in refusals[0]
        assert "is of build format 0" in refusals[0]

        meta(NEW, build_format.FORMAT)
        pool.check_for_new_build(wait=True)
        assert pool.version == NEW
        assert pool.stats.switches == 1
    finally:
        pool.close()

    # A pool that starts on it refuses it (the server's start-up: exit 2, tested above).
    meta("20260103T000000000000Z-cccccccccc", 0)
    refused = RemotePool(remote, max_concurrent=1, check_interval=3600)
    try:
        with pytest.raises(BuildFormatError, match="is of build format 0"):
            refused.start()
    finally:
        refused.close()


# -- a running server ------------------------------------------------------------------------


def answers(url: str) -> tuple[str, str]:
    """Paris's label from the endpoint, and whether the page's document says "Paris v1"."""
    response = httpx.get(url + "/sparql", params={"query": PARIS}, timeout=30)
    assert response.status_code == 200, response.text
    label = str(response.json()["results"]["bindings"][0]["label"]["value"])
    page = httpx.get(url + "/doc/city/fr-paris.nt", timeout=30)
    assert page.status_code == 200, page.text
    return label, "Paris v1" if '"Paris v1"@fr' in page.text else page.text


def test_a_running_server_keeps_its_build_when_one_of_another_format_is_published(
    tmp_path: Path,
) -> None:
    """The endpoint and the pages keep the build they serve, a write is refused (503), and a
    build of this format published after it is switched to."""
    root, log = tmp_path / "store", tmp_path / "server.log"
    make_build(root, tiny_quads("v1"), OLD)
    env = {"CITYGRAPH_VERSION_CHECK_INTERVAL": "0.1", "CITYGRAPH_QUERY_PROCESSES": "1"}
    env["CITYGRAPH_UPDATE_TOKEN"] = "s3cret"
    with running_server(root, log, env=env) as url:
        assert answers(url) == ("Paris v1", "Paris v1")

        old_build(root, tiny_quads("v2"), NEW)  # as an older citygraph would publish it
        deadline = time.monotonic() + 120
        while "cannot switch to the new build" not in log.read_text():
            answers(url)  # the requests make the server look at `current`
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        for _ in range(5):  # still the old build, on the endpoint and on the pages
            assert answers(url) == ("Paris v1", "Paris v1")
        assert httpx.get(url + "/healthz", timeout=30).json()["version"] == OLD
        said = log.read_text()
        assert "records no build format" in said
        assert said.count("cannot switch to the new build") == 1  # said once, not per check
        write = httpx.post(  # a write would start from the refused build: refused too
            url + "/sparql",
            data={"update": f'INSERT DATA {{ GRAPH <{CITY}g> {{ <{CITY}a> <{CITY}b> "c" }} }}'},
            headers={"Authorization": "Bearer s3cret"},
            timeout=60,
        )
        assert write.status_code == 503, write.text
        assert "records no build format" in write.text
        assert store.current_build(root, any_format=True).version == NEW  # nothing published

        make_build(root, tiny_quads("v3"), "20260103T000000000000Z-cccccccccc")
        while answers(url)[0] != "Paris v3":  # a build of this format is switched to
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
