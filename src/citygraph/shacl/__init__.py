"""SHACL in citygraph, beside its two engines: the report model and the terms both engines write.

``model`` (the :class:`ValidationReport` of :class:`ValidationResult`, :class:`Severity`),
``terms`` (terms and paths as report strings) and ``graphs`` (reading input files with rdflib).
The engines are :mod:`citygraph.validate` (pySHACL, the reference, and the only importer of
pyshacl) and :mod:`citygraph.fastshacl` (the same shapes as SPARQL on Oxigraph); the renderers
are :mod:`citygraph.report` and :mod:`citygraph.ci_formats`.
"""

from citygraph.shacl.model import (
    ResultTerms,
    Severity,
    ShapesError,
    ValidationReport,
    ValidationResult,
)

__all__ = ["ResultTerms", "Severity", "ShapesError", "ValidationReport", "ValidationResult"]
