"""The write process: one write, in a child of the server worker that a crash cannot take down.

Run as ``python -m citygraph.engine.write_process JOB_FD REPLY_FD`` (by
:func:`citygraph.engine.writes.apply_write`): it reads one
:class:`~citygraph.engine.writes.WriteJob`, runs :func:`~citygraph.engine.writes.transaction` and
answers one :class:`~citygraph.engine.writes.WriteOutcome` (with ``WriteJob.confirm``, first a
``staged`` one, then it waits for the worker's yes or no before publishing). If the engine
crashes the process, the worker reads no answer and reports the write as failed; the write
lock is released by the kernel with the process, and the half-made build directory is removed
by the next write.

No web framework is imported here.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection

from citygraph.engine.errors import NetworkRefusedError
from citygraph.engine.writes import WriteJob, WriteOutcome, outcome_of, transaction
from citygraph.errors import CitygraphError
from citygraph.sandbox import install_network_filter
from citygraph.store import Build

__all__ = ["confine", "main"]


def confine(*, offline: bool) -> None:
    """Take this process off the network before it reads client input, as the query
    processes are (issue 9 §1): with ``offline`` (the default empty SERVICE allowlist) the
    kernel refuses it every network socket (:func:`citygraph.sandbox.install_network_filter`),
    so no update can reach another host whatever the text checks of
    :meth:`citygraph.web.endpoint.Endpoint.update` miss. With an allowlist, an update's
    ``SERVICE`` must reach the allowed endpoints, and the gate alone decides (as for queries).

    Raises:
        SandboxError: the filter is not available here; the write is refused rather than run
            unprotected.
    """
    if offline:
        install_network_filter()


def _io_outcome(error: OSError, *, offline: bool) -> WriteOutcome:
    # The network filter's refusal: EPERM from socket(), or a name lookup that had no socket.
    refused = isinstance(error, PermissionError) or "failed to lookup address" in str(error)
    if offline and refused:
        return outcome_of(
            NetworkRefusedError(
                "this update tried to reach another server (LOAD or SERVICE); this endpoint "
                "never fetches URLs, and its writes have no network"
            )
        )
    return WriteOutcome("failed", message=f"the write failed: {error}")


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments)."""
    # The worker decides when a write ends: Ctrl-C in a terminal reaches the whole group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job_fd, reply_fd = argv
    with (
        Connection(int(job_fd), writable=False) as jobs,
        Connection(int(reply_fd), readable=False) as replies,
    ):
        job: WriteJob = jobs.recv()

        def ask(build: Build) -> None:
            """Publish only if the worker says so (it publishes to a remote store first)."""
            replies.send(WriteOutcome("staged", build=build))
            if not jobs.recv():
                raise CitygraphError("the build was not published (see the worker's error)")

        try:
            confine(offline=job.offline)
            result, build = transaction(
                job.root,
                job.change,
                description=job.description,
                lock_timeout=job.lock_timeout,
                before_publish=ask if job.confirm else None,
            )
            outcome = WriteOutcome("ok", result=result, build=build)
        except CitygraphError as error:
            outcome = outcome_of(error)
        except OSError as error:  # pyoxigraph's I/O errors: LOAD, SERVICE, the store
            outcome = _io_outcome(error, offline=job.offline)
        replies.send(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
