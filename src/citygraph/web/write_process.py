"""The write process: one write, in a child of the server worker that a crash cannot take down.

Run as ``python -m citygraph.web.write_process JOB_FD REPLY_FD`` (by
:func:`citygraph.web.writes.apply_write`): it reads one
:class:`~citygraph.web.writes.WriteJob`, runs :func:`~citygraph.web.writes.transaction` and
answers one :class:`~citygraph.web.writes.WriteOutcome`. If the engine crashes the process, the
worker reads no answer and reports the write as failed; the write lock is released by the
kernel with the process, and the half-made build directory is removed by the next write.

No web framework is imported here.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection

from citygraph.errors import CitygraphError
from citygraph.web import query_process
from citygraph.web.problems import ProblemError
from citygraph.web.writes import WriteJob, WriteOutcome, outcome_of, transaction

__all__ = ["confine", "main"]


def confine() -> None:
    """Take this process off the network before it runs client input.

    The hook for the operating-system filter of the query processes (issue 9 §1, branch
    h9-sandbox: ``query_process.install_network_filter``): when that function exists, the write
    process installs it too, so no update can reach the network whatever it says. Until then,
    ``LOAD`` and ``SERVICE`` are refused before the write by
    :meth:`citygraph.web.endpoint.Endpoint.update`.
    """
    install = getattr(query_process, "install_network_filter", None)
    if install is not None:
        install()


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments)."""
    # The worker decides when a write ends: Ctrl-C in a terminal reaches the whole group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job_fd, reply_fd = argv
    with Connection(int(job_fd), writable=False) as jobs:
        job: WriteJob = jobs.recv()
    confine()
    try:
        result, build = transaction(
            job.root, job.change, description=job.description, lock_timeout=job.lock_timeout
        )
        outcome = WriteOutcome("ok", result=result, version=build.version)
    except (CitygraphError, ProblemError) as error:
        outcome = outcome_of(error)
    with Connection(int(reply_fd), readable=False) as replies:
        replies.send(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
