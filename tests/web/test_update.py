"""SPARQL 1.1 Protocol, update operation (§2.2), and the write rules of this endpoint."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.backends import every_backend
from tests.web.conftest import CITY, CURATED, TOKEN, VOCAB, auth

from citygraph import store

pytestmark = [every_backend, pytest.mark.virtuoso]

UPDATE = "application/sparql-update"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
INSERT = f'INSERT DATA {{ GRAPH <{CURATED}> {{ <{CITY}it-rome> {LABEL} "Roma"@it }} }}'
ROME = f"ASK {{ <{CITY}it-rome> ?p ?o }}"


def ask(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def test_updates_are_off_without_a_token(client: TestClient) -> None:
    response = client.post("/sparql", content=INSERT, headers={"Content-Type": UPDATE, **auth()})
    assert response.status_code == 403
    assert "CITYGRAPH_UPDATE_TOKEN" in response.text


def test_update_needs_the_bearer_token(writer: TestClient) -> None:
    response = writer.post("/sparql", content=INSERT, headers={"Content-Type": UPDATE})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="citygraph"'
    response = writer.post(
        "/sparql", content=INSERT, headers={"Content-Type": UPDATE, **auth("wrong")}
    )
    assert response.status_code == 401
    # RFC 6750 §3: the challenge names the realm and the error
    assert response.headers["www-authenticate"] == 'Bearer realm="citygraph", error="invalid_token"'
    assert "token is not valid" in response.text
    assert not ask(writer, ROME)


def test_a_missing_token_is_explained(writer: TestClient) -> None:
    response = writer.post("/sparql", content=INSERT, headers={"Content-Type": UPDATE})
    assert response.status_code == 401
    assert "Authorization: Bearer <token>" in response.text


def test_the_token_under_another_scheme_is_refused(writer: TestClient) -> None:
    headers = {"Content-Type": UPDATE, "Authorization": f"Basic {TOKEN}"}
    response = writer.post("/sparql", content=INSERT, headers=headers)
    assert response.status_code == 401
    assert not ask(writer, ROME)


def test_the_bearer_scheme_is_case_insensitive(writer: TestClient) -> None:
    """RFC 7235 §2.1: the scheme is case-insensitive, one or more spaces follow it."""
    headers = {"Content-Type": UPDATE, "Authorization": f"bearer  {TOKEN}"}
    response = writer.post("/sparql", content=INSERT, headers=headers)
    assert response.status_code == 204, response.text
    assert ask(writer, ROME)


@pytest.mark.parametrize("via", ["direct", "form"])
def test_update_is_applied_as_a_new_build(writer: TestClient, store_dir: Path, via: str) -> None:
    before = store.current_build(store_dir).version
    if via == "direct":
        response = writer.post(
            "/sparql", content=INSERT, headers={"Content-Type": UPDATE, **auth()}
        )
    else:
        response = writer.post("/sparql", data={"update": INSERT}, headers=auth())
    assert response.status_code == 204, response.text
    after = store.current_build(store_dir)
    assert after.version != before
    assert after.metadata["derived_from"] == before
    # the writer reads its own write at once
    assert ask(writer, ROME)


def test_failed_update_publishes_nothing(writer: TestClient, store_dir: Path) -> None:
    before = store.current_build(store_dir).version
    response = writer.post(
        "/sparql", content="INSERT DATA {\n  <a> <b> }", headers={"Content-Type": UPDATE, **auth()}
    )
    assert response.status_code == 400
    assert "syntax error at line 2" in response.text
    assert store.current_build(store_dir).version == before


def test_load_is_refused(writer: TestClient) -> None:
    response = writer.post(
        "/sparql",
        content="LOAD <http://example.org/data.ttl>",
        headers={"Content-Type": UPDATE, **auth()},
    )
    assert response.status_code == 403
    assert "LOAD is disabled" in response.text


def test_using_graph_uri_sets_the_update_dataset(writer: TestClient) -> None:
    target = "http://example.org/labels"
    update = f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    response = writer.post(
        "/sparql",
        params={"using-graph-uri": VOCAB},
        content=update,
        headers={"Content-Type": UPDATE, **auth()},
    )
    assert response.status_code == 204, response.text
    response = writer.get(
        "/sparql", params={"query": f"SELECT ?s {{ GRAPH <{target}> {{ ?s ?p ?o }} }}"}
    )
    subjects = {b["s"]["value"] for b in response.json()["results"]["bindings"]}
    assert subjects == {"https://w3id.org/citygraph/vocab/theme/economy"}


def test_using_graph_uri_and_using_in_text_conflict(writer: TestClient) -> None:
    update = f"INSERT {{ ?s ?p ?o }} USING <{CURATED}> WHERE {{ ?s ?p ?o }}"
    response = writer.post(
        "/sparql",
        params={"using-graph-uri": VOCAB},
        content=update,
        headers={"Content-Type": UPDATE, **auth()},
    )
    assert response.status_code == 400
    assert "§2.2.3" in response.text


def test_update_sees_the_real_default_graph(writer: TestClient) -> None:
    """Updates work on the store's dataset as it is: WHERE without GRAPH sees the unnamed graph."""
    update = (
        f"INSERT {{ GRAPH <{CURATED}> {{ ?s a <http://example.org/C> }} }} WHERE {{ ?s ?p ?o }}"
    )
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 204
    assert not ask(writer, "ASK { ?s a <http://example.org/C> }")


def test_concurrent_writes_are_serialised_and_both_land(writer: TestClient) -> None:
    """The write lock: each write starts from the build the previous one published."""
    responses: list[int] = []

    def insert(key: str) -> None:
        update = f"INSERT DATA {{ GRAPH <{CURATED}> {{ <{CITY}{key}> {LABEL} '{key}' }} }}"
        responses.append(
            writer.post("/sparql", data={"update": update}, headers=auth()).status_code
        )

    threads = [threading.Thread(target=insert, args=(key,)) for key in ("x-one", "x-two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert responses == [204, 204]
    assert ask(writer, f"ASK {{ <{CITY}x-one> ?p ?o . <{CITY}x-two> ?q ?r }}")


def graph_size(client: TestClient, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def graph_exists(client: TestClient, graph: str) -> bool:
    return client.get("/store", params={"graph": graph}).status_code == 200


MOVED = "http://example.org/moved"


@pytest.mark.parametrize(
    ("update", "curated", "moved"),
    [
        pytest.param(f"DROP GRAPH <{CURATED}>", None, None, id="drop"),
        pytest.param(f"CLEAR GRAPH <{CURATED}>", 0, None, id="clear"),
        pytest.param(f"MOVE <{CURATED}> TO <{MOVED}>", None, 6, id="move"),
        pytest.param(f"COPY <{CURATED}> TO <{MOVED}>", 6, 6, id="copy"),
    ],
)
def test_graph_management_of_an_existing_graph(
    writer: TestClient, update: str, curated: int | None, moved: int | None
) -> None:
    """Issue 9 §4: these answered 500, the update being tried first on an empty store."""
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 204, response.text
    for graph, size in ((CURATED, curated), (MOVED, moved)):
        if size is None:
            assert not graph_exists(writer, graph), graph
        else:
            assert graph_size(writer, graph) == size, graph


MISSING = "http://example.org/no-such-graph"


@pytest.mark.parametrize(
    "update",
    [
        f"DROP GRAPH <{MISSING}>",
        f"CLEAR GRAPH <{MISSING}>",
        f"MOVE <{MISSING}> TO <{MOVED}>",
        f'INSERT DATA {{ GRAPH <{CURATED}> {{ <{CITY}x> {LABEL} "x" }} }}; DROP GRAPH <{MISSING}>',
    ],
    ids=["drop", "clear", "move", "after-an-insert"],
)
def test_a_missing_graph_is_404_and_nothing_changes(
    writer: TestClient, store_dir: Path, update: str
) -> None:
    before = store.current_build(store_dir).version
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 404, response.text
    assert response.text == (
        f"The graph <{MISSING}> does not exist: the update fails (SPARQL 1.1 Update §3); "
        "add SILENT to ignore missing graphs\n"
    )
    assert store.current_build(store_dir).version == before
    assert graph_size(writer, CURATED) == 6


@pytest.mark.parametrize(
    "update",
    [
        f"DROP SILENT GRAPH <{MISSING}>",
        f"CLEAR SILENT GRAPH <{MISSING}>",
        f"MOVE SILENT <{MISSING}> TO <{MOVED}>",
        f"CREATE SILENT GRAPH <{CURATED}>",
    ],
    ids=["drop", "clear", "move", "create"],
)
def test_silent_succeeds(writer: TestClient, update: str) -> None:
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 204, response.text
    assert graph_size(writer, CURATED) == 6


def test_create_of_an_existing_graph_is_409(writer: TestClient, store_dir: Path) -> None:
    before = store.current_build(store_dir).version
    response = writer.post("/sparql", data={"update": f"CREATE GRAPH <{CURATED}>"}, headers=auth())
    assert response.status_code == 409, response.text
    assert f"<{CURATED}> already exists" in response.text
    assert store.current_build(store_dir).version == before


@pytest.mark.parametrize(
    "update",
    [
        "INSERT { GRAPH <http://example.org/g> { ?s ?p ?o } } "
        "WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "DELETE { ?s ?p ?o } WHERE { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    ],
    ids=["insert-where", "silent"],
)
def test_service_in_an_update_is_refused(writer: TestClient, store_dir: Path, update: str) -> None:
    """docs/endpoint.md: SERVICE to an endpoint not on the allowlist is 403, updates included."""
    before = store.current_build(store_dir).version
    response = writer.post("/sparql", data={"update": update}, headers=auth())
    assert response.status_code == 403, response.text
    assert "SERVICE" in response.text
    assert store.current_build(store_dir).version == before


def write_processes() -> list[int]:
    """The write processes this test process started (the TestClient's app runs in it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        if b"citygraph.engine.write_process" in command and parent == os.getpid():
            found.append(int(entry.name))
    return found


def test_a_crashed_write_costs_one_500_not_the_worker(writer: TestClient, store_dir: Path) -> None:
    """Issue 9 §4: the write's engine work runs in a child; a crash there (here: SIGKILL while
    it waits for the write lock this test holds) answers 500 and the worker carries on."""
    before = store.current_build(store_dir).version
    responses = []
    with store.write_lock(store_dir, timeout=5):
        thread = threading.Thread(
            target=lambda: responses.append(
                writer.post("/sparql", data={"update": INSERT}, headers=auth())
            )
        )
        thread.start()
        deadline = time.monotonic() + 60
        while not (children := write_processes()):
            assert time.monotonic() < deadline, "no write process started"
            time.sleep(0.05)
        os.kill(children[0], signal.SIGKILL)
        thread.join(timeout=60)
    assert responses[0].status_code == 500
    assert responses[0].text == (
        "the write (update) stopped with signal SIGKILL before it was published; nothing changed\n"
    )
    assert store.current_build(store_dir).version == before
    assert not ask(writer, ROME)
    again = writer.post("/sparql", data={"update": INSERT}, headers=auth())
    assert again.status_code == 204, again.text
    assert ask(writer, ROME)
