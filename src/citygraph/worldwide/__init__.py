"""The worldwide layer: Wikipedia's twin-town lists, reconciled with GeoNames (docs/worldwide.md).

Modules: :mod:`.csvfile` reads the two CSV layouts, :mod:`.normalise` cleans names and
countries, :mod:`.gazetteer` reads GeoNames, :mod:`.geonames` holds its records and their
lookups, :mod:`.reconcile` matches places to GeoNames cities, :mod:`.subdivisions` to GeoNames
subdivisions, :mod:`.curated` to the curated places, :mod:`.cells` resolves one place cell,
:mod:`.importer` plans and publishes the import, :mod:`.triples` writes its RDF,
:mod:`.report` counts what happened, :mod:`.cli` is the ``citygraph import`` group.
"""

__all__: list[str] = []
