"""The commands on a remote store (docs/backends.md), as a user runs them, against a real
``oxigraph serve``: build and publish, validate what it serves, answer from it, and say clearly
what is wrong with a backend setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from tests.backends import OxigraphServers

from citygraph.engine.datasets import LOCK_GRAPH

ROOT = Path(__file__).resolve().parents[1]


def citygraph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citygraph", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
        env=env,
    )


def test_build_publishes_and_serve_and_validate_read_the_remote_store(
    tmp_path: Path, oxigraph_servers: OxigraphServers
) -> None:
    remote = oxigraph_servers.get("cli")
    options = ["--backend", remote.query, "--backend-update", remote.update]
    options += ["--backend-store", remote.store]

    built = citygraph("build", "--quiet", "--store", str(tmp_path / "store"), *options)
    assert built.returncode == 0, built.stderr
    assert "published 20" in built.stdout

    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    # Every graph of the store but the publications' lock graph (its switch marks stay)
    of_builds = count.replace("} }", f"}} FILTER (?g != <{LOCK_GRAPH}>) }}")
    direct = httpx.post(
        remote.query,
        data={"query": of_builds},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"][0]["n"]["value"]
    served = citygraph(
        "serve", "--backend", remote.query, "--get", "/sparql?query=" + count.replace(" ", "%20")
    )
    assert served.returncode == 0, served.stderr
    assert f'"value":"{direct}"' in served.stdout

    checked = citygraph("validate", "--store", str(tmp_path / "store"), *options)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 violations" in checked.stdout


def test_a_backend_that_is_not_a_url_is_a_clear_error(tmp_path: Path) -> None:
    result = citygraph("build", "--store", str(tmp_path / "s"), "--backend", "localhost:7878")
    assert result.returncode == 2
    assert "backend must be an http:// or https:// URL" in result.stderr
    assert "Traceback" not in result.stderr
