"""HTTP writes keep the build's guarantee: nothing that fails SHACL validation is published.

A write whose result has a Violation is refused (409) with the report naming the node and the
shape, the data and the build version stay as they were; a conforming write still succeeds.
Each refusal test fails if writes were published without validation (they would answer 204
or 201 and change the data).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import BASE, CITY, CURATED, auth

from citygraph import store

UPDATE = {"Content-Type": "application/sparql-update"}
CG = BASE + "ontology#"
#: The tiny store's partnership (two partners, no type: no shape targets it yet).
PARTNERSHIP = BASE + "id/partnership/cn-beijing--de-berlin"
#: Typing it a partnership and giving it a third partner: cg:partner has sh:maxCount 2.
VIOLATING_UPDATE = (
    f"INSERT DATA {{ GRAPH <{CURATED}> {{ <{PARTNERSHIP}> a <{CG}Partnership> ; "
    f"<{CG}partner> <{CITY}fr-paris> }} }}"
)
NEW_GRAPH = BASE + "graph/test-new"


def ask(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def test_a_violating_update_is_refused_and_changes_nothing(
    writer: TestClient, store_dir: Path
) -> None:
    before = store.current_build(store_dir).version
    response = writer.post("/sparql", content=VIOLATING_UPDATE, headers={**UPDATE, **auth()})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "does not conform" in response.text
    assert "cn-beijing--de-berlin" in response.text  # the node
    assert "Partnership-partner" in response.text  # the shape it failed
    assert "Violation" in response.text
    assert not ask(writer, f"ASK {{ <{PARTNERSHIP}> a <{CG}Partnership> }}")
    assert not ask(writer, f"ASK {{ <{PARTNERSHIP}> <{CG}partner> <{CITY}fr-paris> }}")
    assert store.current_build(store_dir).version == before


def test_the_refusal_is_the_json_report_for_a_json_client(writer: TestClient) -> None:
    headers = {**UPDATE, **auth(), "Accept": "application/json"}
    response = writer.post("/sparql", content=VIOLATING_UPDATE, headers=headers)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/json")
    failed = {
        (r["focus_node"], r["shape"].rsplit("#", 1)[-1].rsplit("/", 1)[-1])
        for r in response.json()
        if r["severity"] == "violation"
    }
    assert (PARTNERSHIP, "Partnership-partner") in failed


def test_a_violating_put_is_refused_and_changes_nothing(
    writer: TestClient, store_dir: Path
) -> None:
    before = store.current_build(store_dir).version
    body = f"<http://example.org/p1> a <{CG}Partnership> ."
    response = writer.put(
        "/store",
        params={"graph": NEW_GRAPH},
        content=body,
        headers={"Content-Type": "text/turtle", **auth()},
    )
    assert response.status_code == 409, response.text
    assert "http://example.org/p1" in response.text
    assert "Partnership-partner" in response.text
    assert writer.get("/store", params={"graph": NEW_GRAPH}).status_code == 404
    assert not ask(writer, "ASK { GRAPH ?g { <http://example.org/p1> ?p ?o } }")
    assert store.current_build(store_dir).version == before


def test_a_conforming_write_is_published(writer: TestClient, store_dir: Path) -> None:
    before = store.current_build(store_dir).version
    label = f'INSERT DATA {{ GRAPH <{CURATED}> {{ <{PARTNERSHIP}> <{CG}note> "checked" }} }}'
    response = writer.post("/sparql", content=label, headers={**UPDATE, **auth()})
    assert response.status_code == 204, response.text
    assert ask(writer, f'ASK {{ <{PARTNERSHIP}> <{CG}note> "checked" }}')
    assert store.current_build(store_dir).version != before
