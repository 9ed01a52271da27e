"""tests/serving.py's ``running_server``: nothing a test server started outlives its block.

The server here is a small stand-in with the one trait that matters: like a granian or
multi-worker server it starts a worker process, and it exits on SIGTERM without stopping it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.serving import autogroup_nice, running_server

SERVER = """
import http.server, os, signal, subprocess, sys
from pathlib import Path

port = int(sys.argv[sys.argv.index("--port") + 1])
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
Path(os.environ["PIDS_FILE"]).write_text(f"{os.getpid()} {worker.pid}")


class Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the worker is left to run
http.server.HTTPServer(("127.0.0.1", port), Healthy).serve_forever()
"""


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


def test_a_worker_the_server_left_running_is_stopped_with_it(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with running_server(
        tmp_path / "store",
        tmp_path / "server.log",
        env={"PIDS_FILE": str(pids)},
        program=(sys.executable, "-c", SERVER),
    ):
        server, worker = map(int, pids.read_text().split())
        assert running(worker)
        # A session of its own (so a process group of its own, which is what is stopped).
        assert os.getsid(server) == server
        assert os.getsid(worker) == server
        # No higher a priority than the tests that started it, where the kernel has autogroups
        # and the tests are not in the root group (nothing to compare with there).
        ours = autogroup_nice(os.getpid()) if Path("/proc/self/autogroup").exists() else None
        if ours:
            assert autogroup_nice(server) == ours
    deadline = time.monotonic() + 30  # the worker's SIGKILL is sent; init reaps it
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(worker), "the worker outlived its server's block"
