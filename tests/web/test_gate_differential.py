"""The SERVICE/LOAD/FROM gate reads queries as the engine does (issue 9 §1).

With a non-empty ``CITYGRAPH_SERVICE_ALLOWLIST`` the query processes may use the network, so
only :func:`citygraph.web.sparql_text.analyse` decides which endpoints a query may call. Here
generated queries hide ``SERVICE``, ``LOAD`` and ``FROM`` in comments ended by CR, LF or CRLF,
in strings, long strings, IRIs and codepoint escapes, and the gate's view is compared with what
pyoxigraph really does: which paths of a recording server on 127.0.0.1 it calls (each
``SERVICE``/``LOAD`` target has its own path), and whether ``FROM`` changes a result. The
engine runs in a child process (no sandbox), all queries of a seed in one batch.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from tests.web.recorder import Recorder, recording_server

from citygraph.web.sparql_text import analyse

BASE = "http://example.org/"
SEEDS = range(4)
PER_SEED = 300

#: The child: run each text, report whether it parsed and (for FROM probes) the values read.
ENGINE = """
import json, sys
import pyoxigraph as ox
DEFAULT, G1 = ox.DefaultGraph(), ox.NamedNode("http://g1/")
P = ox.NamedNode("http://p/")
out = []
for item in json.load(sys.stdin):
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://s/"), P, ox.Literal("default"), DEFAULT))
    store.add(ox.Quad(ox.NamedNode("http://s/"), P, ox.Literal("g1"), G1))
    try:
        if item["update"]:
            store.update(item["text"], base_iri="http://example.org/")
            out.append({"parsed": True})
            continue
        result = store.query(item["text"], base_iri="http://example.org/")
        values = sorted(str(s[0]) for s in result if s[0] is not None) if item["from"] else []
        out.append({"parsed": True, "values": values})
    except SyntaxError:
        out.append({"parsed": False})
    except (OSError, RuntimeError, ValueError) as error:
        out.append({"parsed": True, "error": str(error)[:200], "values": []})
json.dump(out, sys.stdout)
"""

TERMINATORS = ["\n", "\r", "\r\n", "\\u000A", "\\u000D", "\\u000d\\u000a"]


class Generator:
    """Random queries whose every SERVICE/LOAD target is a distinct path of the recorder."""

    def __init__(self, seed: int, recorder: Recorder) -> None:
        self.random = random.Random(seed)
        self.recorder = recorder
        self.targets = 0
        self.prefix = recorder.url("/")

    def target(self) -> str:
        self.targets += 1
        return f"/t{self.targets}"

    def service(self) -> str:
        r = self.random
        keyword = r.choice(["SERVICE"] * 4 + ["service", "Service", "\\u0053ERVICE"])
        silent = r.choice(["", " SILENT", " silent"])
        path = self.target()
        endpoint = "e:" + path[1:] if r.random() < 0.3 else f"<{self.recorder.url(path)}>"
        return f"{keyword}{silent} {endpoint} {{ ?x ?y ?z }}"

    def noise(self) -> str:
        """Text that may or may not end a comment or a string early."""
        r = self.random
        pieces = [
            "SERVICE",
            "FROM <http://g1/>",
            "#",
            '"',
            "'",
            '"""',
            "<",
            ">",
            "{",
            "}",
            "\\",
            '\\"',
            "\\'",
            "\\u0022",
            "\\u0027",
            "\\u003E",
            " ",
            "x",
            *TERMINATORS,
        ]
        text = "".join(r.choice(pieces) for _ in range(r.randint(0, 4)))
        if r.random() < 0.5:
            text += " " + self.service()
        return text

    def decoy(self) -> str:
        """A comment, string, long string or IRI holding a SERVICE and noise."""
        r = self.random
        inner = self.noise()
        kind = r.randrange(5)
        if kind == 0:
            return "#" + inner + r.choice(TERMINATORS)
        if kind == 1:
            quote = r.choice(['"', "'"])
            return f"?s ?p {quote}{inner}{quote} ."
        if kind == 2:
            quote = r.choice(['"""', "'''"])
            return f"?s ?p {quote}{inner}\n{inner}{quote} ."
        if kind == 3:
            return f"?s ?p <http://x/{r.choice(['#', '%23', ''])}{inner.replace(' ', '')}> ."
        return inner

    def group(self, depth: int = 0) -> str:
        r = self.random
        parts = []
        for _ in range(r.randint(1, 4)):
            choice = r.randrange(6)
            if choice == 0:
                parts.append("{ " + self.service() + " }")
            elif choice == 1 and depth < 3:
                parts.append("{ " + self.group(depth + 1) + " } UNION { ?a ?b ?c }")
            elif choice == 2 and depth < 3:
                parts.append("OPTIONAL { " + self.group(depth + 1) + " }")
            else:
                parts.append(self.decoy())
        return "\n".join(parts) if r.random() < 0.5 else " ".join(parts)

    def service_query(self) -> str:
        prefix = f"PREFIX e: <{self.prefix}>\n"
        return prefix + "SELECT * WHERE { { " + self.group() + " } UNION { ?q ?r ?t } }"

    def from_query(self) -> str:
        r = self.random
        clause = r.choice(["", "FROM <http://g1/>", "from <http://g1/>", "\\u0046ROM <http://g1/>"])
        return f"SELECT ?o {self.decoy()} {clause} {self.decoy()}\nWHERE {{ ?s <http://p/> ?o }}"

    def update(self) -> str:
        r = self.random
        load = f"LOAD SILENT <{self.recorder.url(self.target())}>"
        if r.random() < 0.5:
            load = load.replace("LOAD", r.choice(["load", "\\u004COAD"]))
        hide = self.decoy()
        if r.random() < 0.5:
            return f"INSERT DATA {{ <http://a/> <http://b/> 1 }} ; {hide} {load}"
        return f"#{self.noise()}{r.choice(TERMINATORS)}{load}"


def run_engine(items: list[dict[str, object]]) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", ENGINE],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert isinstance(result, list)
    return result


def gate_paths(text: str, recorder: Recorder) -> set[str] | None:
    """The recorder paths the gate says ``text`` calls; None when it would refuse any call."""
    services = analyse(text, base_iri=BASE).services
    if None in services:
        return None
    origin = recorder.url("")
    return {urlsplit(s).path for s in services if s is not None and s.startswith(origin)}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_gate_sees_every_service_load_and_from_the_engine_acts_on(seed: int) -> None:
    with recording_server() as recorder:
        generator = Generator(seed, recorder)
        items: list[dict[str, object]] = []
        for i in range(PER_SEED):
            kind = ("service", "from", "update")[i % 3]
            if kind == "service":
                text = generator.service_query()
            elif kind == "from":
                text = generator.from_query()
            else:
                text = generator.update()
            items.append({"text": text, "from": kind == "from", "update": kind == "update"})
        results = run_engine(items)
        _, paths = recorder.seen()
    called_anywhere = {urlsplit(p).path for p in paths}
    parsed = calls = 0
    for i, (item, result) in enumerate(zip(items, results, strict=True)):
        text = str(item["text"])
        analysis = analyse(text, base_iri=BASE)
        # every target path is unique to one text: what it called is what the recorder saw
        called = called_anywhere & _targets_of(text)
        calls += len(called)
        if item["update"]:
            # LOAD is refused whenever the gate sees one; so it must see every LOAD that runs
            assert not called or analysis.has_load, (i, text, called)
        else:
            gate = gate_paths(text, recorder)
            # SERVICE is refused unless the gate resolves every endpoint to an allowed one
            assert gate is None or called <= gate, (i, text, called, gate)
        if result.get("parsed"):
            parsed += 1
            if item["from"]:
                engine_from = result.get("values") == ['"g1"']
                assert engine_from == analysis.has_dataset_clause, (i, text, result)
    # the generator makes enough valid texts, and calls, for the comparison to mean something
    assert parsed >= PER_SEED // 5
    assert calls >= PER_SEED // 20


def _targets_of(text: str) -> set[str]:
    """Every ``/tN`` target path written anywhere in ``text`` (they are unique per run)."""
    return {"/" + name for name in re.findall(r"(?<![\w])t\d+(?!\d)", text)}
