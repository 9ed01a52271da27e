"""The engine: reading builds and answering SPARQL, with no web framework in it.

The query processes and their pool (``pool`` schedules, ``processes`` makes them,
``query_process``, ``zygote``), the jobs they
answer (``jobs``), the scheduling that keeps cheap queries moving (``lanes``, ``clients``), the
response cache (``cache``), the pages' in-process view of the current build (``snapshots``) and
the one watcher of the store's ``current`` link that both follow (``builds``).
Writes (``writes``, ``write_process``, ``changes``) publish through the build transaction
(:mod:`citygraph.publish`). A remote SPARQL 1.1 store can stand in for the embedded one
(``remote``, ``remote_store``, ``remote_publish``; docs/backends.md).
The web layer (:mod:`citygraph.web`) calls into this package; nothing here imports it. Import
each module directly: this package itself imports nothing, so a query process starts quickly.
"""
