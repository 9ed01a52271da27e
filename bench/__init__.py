"""citygraph's benchmark: a deterministic data generator and a load driver comparing
``citygraph serve`` with ``oxigraph serve-read-only`` on the same data and queries.

Run ``python -m bench --help`` from the repository root; see ``bench/README.md``.
"""
