"""The web layer: the SPARQL endpoint, the Graph Store and operations routes.

Import :func:`citygraph.web.app.create_app` from its module: this package itself imports
nothing, so the query processes (:mod:`citygraph.engine.query_process`) start without the web
framework.
"""
