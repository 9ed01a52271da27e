"""citygraph: the linked-open-data knowledge graph of municipal partnerships."""

__version__ = "0.1.0"

__all__ = ["__version__"]
